/* ctcir encode: flags -> ct_encode_run (ctcir/encode.h) -> a summary. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/encode.h"
#include "ctcir/log.h"

int cmd_encode(int argc, char **argv) {
    ct_encode_opts o;
    ct_encode_opts_default(&o);
    cli_list images = {0}, texts = {0};
    long batch = o.batch, threads = 0;
    const char *precision = NULL;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &o.model, "DIR", "HF CLIP folder or ctcir checkpoint folder", .required = true},
        {"image", 0, CLI_LIST, &images, "FILE",
         "an image (JPEG/PNG/...), CLIP-preprocessed at the model's image_size;\nrepeatable"},
        {"text", 0, CLI_LIST, &texts, "STR", "a text, tokenized like clip.tokenize (77 ids, 0-padded); repeatable"},
        {"texts", 0, CLI_STR, &o.texts_file, "FILE", "a JSON array of strings, appended after the --text ones"},
        {"pixels", 0, CLI_STR, &o.pixels_file, "FILE",
         "preprocessed images: tensor input.pixel_values [N,3,S,S] of FILE\n(instead of --image)"},
        {"input-ids", 0, CLI_STR, &o.ids_file, "FILE",
         "token ids: tensor input.input_ids [T,77] of FILE (instead of texts)"},
        {"out", 'o', CLI_STR, &o.out, "FILE", "output safetensors file", .required = true},
        {"all", 0, CLI_FLAG, &o.all, NULL,
         "also write input.pixel_values, input.input_ids, vision.last_hidden_state,\n"
         "vision.pooled_output, text.last_hidden_state, text.pooled_output,\n"
         "text.eot_index (names and meanings of the parity kit)"},
        {"loss-weights", 0, CLI_STR, &o.loss_file, "FILE",
         "holds loss.r_image [N,P] and loss.r_text [T,P]: also write loss.value =\n"
         "sum(image_embeds*r_image) + sum(text_embeds*r_text), grad.<param> for\n"
         "every parameter and grad.input.pixel_values"},
        {"batch", 0, CLI_INT, &batch, "N", "images/texts per forward pass", 1, 4096},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_PRECISION_ROW(&precision),
        {0}};
    const cli_cmd cmd = {"encode",
                         "usage: ctcir encode --model DIR [--image FILE]... [--text STR]... [--texts FILE]\n"
                         "                    --out OUT.safetensors [--all] [--loss-weights W.safetensors] [-t N]\n\n"
                         "Encodes images and texts with the CLIP model in DIR (HF config.json + model.safetensors\n"
                         "+ vocab.json/merges.txt). OUT holds image_embeds [N,P] and text_embeds [T,P] (projected,\n"
                         "not normalised), inputs in the order given. A ctcir checkpoint folder also gives\n"
                         "query_embeds f(image i, text i) (when there is one text per image) and target_embeds.\n",
                         opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) goto done;
    if (precision && (rc = cli_set_precision("encode", precision))) goto done;
    rc = CLI_OK;
    if (o.pixels_file && images.n)
        rc = cli_usage_error("encode", "--pixels and --image exclude each other");
    else if (o.ids_file && (texts.n || o.texts_file))
        rc = cli_usage_error("encode", "--input-ids and --text/--texts exclude each other");
    else if (!o.pixels_file && !images.n && !o.ids_file && !texts.n && !o.texts_file)
        rc = cli_usage_error("encode", "nothing to encode: give --image, --text or --texts");
    if (rc) goto done;
    o.images = images.v, o.n_images = images.n;
    o.texts = texts.v, o.n_texts = texts.n;
    o.batch = (int)batch;
    cli_set_threads((int)threads);
    ct_encode_summary sum;
    ct_status s = ct_encode_run(&o, &sum);
    if (s) {
        rc = cli_fail("encode", s);
        goto done;
    }
    ct_log(CT_LOG_INFO, "encode: %d image(s), %d text(s)%s -> %s\n", sum.images, sum.texts,
           sum.has_loss ? ", with gradients" : "", o.out);
    if (sum.has_loss) printf("{\"loss\": %.9g}\n", sum.loss);
done:
    cli_list_free(&images);
    cli_list_free(&texts);
    return rc;
}
