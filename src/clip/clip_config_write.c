/* ct_clip_config -> an HF config.json (CLIPConfig with text_config / vision_config) that
 * transformers' CLIPModel.from_pretrained and ct_clip_config_parse both read. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "clip/clip.h"

/* The shortest decimal that reads back as the same float (so 1e-5f is written "1e-05"). */
static double shortest_float(float x) {
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x;
}

static const char *act_name(ct_act a) { return a == CT_ACT_GELU ? "gelu" : "quick_gelu"; }

/* The keys every tower section shares; false when cJSON runs out of memory. */
static bool add_tower_common(cJSON *o, const ct_clip_tower_config *t) {
    return cJSON_AddNumberToObject(o, "hidden_size", t->hidden_size) &&
           cJSON_AddNumberToObject(o, "intermediate_size", t->intermediate_size) &&
           cJSON_AddNumberToObject(o, "num_hidden_layers", t->num_layers) &&
           cJSON_AddNumberToObject(o, "num_attention_heads", t->num_heads) &&
           cJSON_AddNumberToObject(o, "projection_dim", t->projection_dim) &&
           cJSON_AddStringToObject(o, "hidden_act", act_name(t->act)) &&
           cJSON_AddNumberToObject(o, "layer_norm_eps", shortest_float(t->layer_norm_eps)) &&
           cJSON_AddNumberToObject(o, "attention_dropout", 0.0) &&
           cJSON_AddNumberToObject(o, "initializer_range", 0.02) &&
           cJSON_AddNumberToObject(o, "initializer_factor", 1.0);
}

char *ct_clip_config_to_json(const ct_clip_config *cfg) {
    const ct_clip_tower_config *t = &cfg->text, *v = &cfg->vision;
    char *text = NULL;
    cJSON *root = cJSON_CreateObject(), *arch = cJSON_CreateStringArray((const char *[]){"CLIPModel"}, 1);
    cJSON *tc = cJSON_CreateObject(), *vc = cJSON_CreateObject();
    if (!root || !arch || !tc || !vc) goto done;
    cJSON_AddItemToObject(root, "architectures", arch);
    arch = NULL;
    bool ok = cJSON_AddStringToObject(root, "model_type", "clip") &&
              cJSON_AddNumberToObject(root, "projection_dim", cfg->projection_dim) &&
              cJSON_AddNumberToObject(root, "logit_scale_init_value", 2.6592) &&
              cJSON_AddNumberToObject(root, "initializer_factor", 1.0) &&
              cJSON_AddStringToObject(root, "torch_dtype", "float32");
    /* The special ids follow CLIP's convention (and `ctcir bpe-train`'s): <|startoftext|>
     * and <|endoftext|> are the last two ids. transformers pools the text at the first
     * eos_token_id, so it must be right; padding is 0 like clip.tokenize. */
    ok = ok && add_tower_common(tc, t) && cJSON_AddStringToObject(tc, "model_type", "clip_text_model") &&
         cJSON_AddNumberToObject(tc, "vocab_size", t->vocab_size) &&
         cJSON_AddNumberToObject(tc, "max_position_embeddings", t->max_positions) &&
         cJSON_AddNumberToObject(tc, "bos_token_id", t->vocab_size - 2) &&
         cJSON_AddNumberToObject(tc, "eos_token_id", t->vocab_size - 1) &&
         cJSON_AddNumberToObject(tc, "pad_token_id", 0);
    ok = ok && add_tower_common(vc, v) && cJSON_AddStringToObject(vc, "model_type", "clip_vision_model") &&
         cJSON_AddNumberToObject(vc, "image_size", v->image_size) &&
         cJSON_AddNumberToObject(vc, "patch_size", v->patch_size) &&
         cJSON_AddNumberToObject(vc, "num_channels", v->num_channels);
    if (!ok) goto done;
    cJSON_AddItemToObject(root, "text_config", tc);
    cJSON_AddItemToObject(root, "vision_config", vc);
    tc = vc = NULL;
    text = cJSON_Print(root);
done:
    cJSON_Delete(arch), cJSON_Delete(tc), cJSON_Delete(vc), cJSON_Delete(root);
    return text;
}
