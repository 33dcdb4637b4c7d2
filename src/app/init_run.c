/* ct_init_folder (ctcir/init.h): the public face of clip/clip_init_folder.c. */
#include "clip/clip.h"
#include "ctcir/init.h"

ct_status ct_init_folder(const ct_init_args *a, ct_init_info *info) {
    ct_clip_init_args c = {a->config_path, a->vocab_dir, a->out_dir, a->seed, a->force};
    ct_clip_config cfg;
    ct_status s = ct_clip_init_folder(&c, &cfg);
    if (s == CT_OK && info) {
        info->parameters = (int64_t)ct_clip_param_count(&cfg);
        info->vocab_size = cfg.text.vocab_size;
    }
    return s;
}
