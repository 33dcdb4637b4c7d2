/* The one table of dataset kinds: each row names a reader and the evaluation protocol of
 * its benchmark (docs/datasets.md). The readers, the metrics, the prediction and server
 * file writers and the CLI all read this table; nothing else asks "which dataset is it?".
 * A new reader is one file (ds_load_<name>), one row here, one enum value in
 * include/ctcir/dataset.h and its test. */
#include <stdio.h>
#include <string.h>

#include "data/ds_internal.h"

static const char *const fiq_categories[] = {"dress", "shirt", "toptee", NULL};

static const ds_reader readers[] = {
    {{.kind = CT_DS_CIRR,
      .name = "cirr",
      .display_name = "CIRR",
      .removes_reference = true,
      .has_subset = true,
      .n_k = 4,
      .k = {1, 5, 10, 50},
      .headline = "avg",
      .submission = CT_SUBMISSION_CIRR},
     ds_load_cirr},
    {{.kind = CT_DS_CIRR_R,
      .name = "cirr_r",
      .display_name = "CIRR_R (good4cir)",
      .removes_reference = true,
      .has_subset = true,
      .n_k = 4,
      .k = {1, 5, 10, 50},
      .headline = "avg",
      .submission = CT_SUBMISSION_CIRR},
     ds_load_cirr_r},
    {{.kind = CT_DS_HOTEL,
      .name = "hotel",
      .display_name = "Hotel-CIR",
      .removes_reference = true,
      .n_k = 4,
      .k = {1, 5, 10, 50},
      .headline = "recall@1"},
     ds_load_hotel},
    {{.kind = CT_DS_LASCO,
      .name = "lasco",
      .display_name = "LaSCo",
      .removes_reference = true,
      .n_k = 4,
      .k = {1, 5, 10, 50},
      .headline = "recall@1"},
     ds_load_lasco},
    {{.kind = CT_DS_FASHIONIQ,
      .name = "fashioniq",
      .display_name = "FashionIQ",
      .removes_reference = false,
      .n_k = 2,
      .k = {10, 50},
      .headline = "avg",
      .categories = fiq_categories},
     ds_load_fashioniq},
    {{.kind = CT_DS_CIRCO,
      .name = "circo",
      .display_name = "CIRCO",
      .removes_reference = false,
      .has_map = true,
      .n_k = 4,
      .k = {5, 10, 25, 50},
      .headline = "mAP@10",
      .submission = CT_SUBMISSION_CIRCO},
     ds_load_circo},
    {{.kind = CT_DS_MANIFEST,
      .name = "manifest",
      .display_name = "manifest",
      .removes_reference = true,
      .split_optional = true,
      .n_k = 4,
      .k = {1, 5, 10, 50},
      .headline = "recall@1"},
     ds_load_manifest},
};

enum { N_READERS = (int)(sizeof readers / sizeof *readers) };

const ds_reader *ds_reader_of(ct_dataset_kind kind) {
    for (int i = 0; i < N_READERS; i++)
        if (readers[i].proto.kind == kind) return &readers[i];
    return NULL;
}

int ct_dataset_protocol_count(void) { return N_READERS; }

const ct_ds_protocol *ct_dataset_protocol_at(int i) { return i >= 0 && i < N_READERS ? &readers[i].proto : NULL; }

const ct_ds_protocol *ct_dataset_protocol(ct_dataset_kind kind) {
    const ds_reader *r = ds_reader_of(kind);
    return r ? &r->proto : NULL;
}

ct_status ct_dataset_kind_parse(const char *s, ct_dataset_kind *out) {
    for (int i = 0; i < N_READERS; i++)
        if (s && strcmp(s, readers[i].proto.name) == 0) {
            *out = readers[i].proto.kind;
            return CT_OK;
        }
    char list[256];
    size_t o = 0;
    for (int i = 0; i < N_READERS && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                              i == 0               ? ""
                              : i == N_READERS - 1 ? " or "
                                                   : ", ",
                              readers[i].proto.name);
    return ct_fail(CT_ERR_ARG, "dataset: unknown dataset '%s' (expected %s)", s ? s : "(null)", list);
}

const char *ct_dataset_kind_name(ct_dataset_kind k) {
    const ds_reader *r = ds_reader_of(k);
    return r ? r->proto.name : "?";
}
