/* The dataset protocol table (src/data/protocol.c): every kind has one row, names round-trip,
 * and the rows say what include/ctcir/metrics.h documents for each benchmark. */
#include <string.h>

#include "ctcir/dataset.h"
#include "test_util.h"

int main(void) {
    int n = ct_dataset_protocol_count();
    CHECK(n == CT_DS_MANIFEST + 1);
    for (int i = 0; i < n; i++) {
        const ct_ds_protocol *p = ct_dataset_protocol_at(i);
        ct_dataset_kind k;
        CHECK(p && p->name && p->display_name && p->headline);
        CHECK(ct_dataset_kind_parse(p->name, &k) == CT_OK && k == p->kind);
        CHECK(ct_dataset_protocol(p->kind) == p && strcmp(ct_dataset_kind_name(p->kind), p->name) == 0);
        CHECK(p->n_k >= 1 && p->n_k <= 4);
        for (int j = 1; j < p->n_k; j++) CHECK(p->k[j] > p->k[j - 1]);
        for (int j = i + 1; j < n; j++) CHECK(ct_dataset_protocol_at(j)->kind != p->kind);
    }
    CHECK(ct_dataset_protocol_at(n) == NULL && ct_dataset_protocol((ct_dataset_kind)99) == NULL);
    ct_dataset_kind k;
    CHECK(ct_dataset_kind_parse("cirrr", &k) == CT_ERR_ARG && strstr(ct_error(), "cirr, cirr_r") &&
          strstr(ct_error(), "or manifest"));
    /* The protocols of metrics.h. */
    const ct_ds_protocol *cirr = ct_dataset_protocol(CT_DS_CIRR), *circo = ct_dataset_protocol(CT_DS_CIRCO),
                         *fiq = ct_dataset_protocol(CT_DS_FASHIONIQ), *man = ct_dataset_protocol(CT_DS_MANIFEST);
    CHECK(cirr->removes_reference && cirr->has_subset && !cirr->has_map && cirr->submission == CT_SUBMISSION_CIRR &&
          cirr->k[0] == 1 && cirr->k[3] == 50 && strcmp(cirr->headline, "avg") == 0);
    CHECK(ct_dataset_protocol(CT_DS_CIRR_R)->has_subset && ct_dataset_protocol(CT_DS_CIRR_R)->removes_reference);
    CHECK(!circo->removes_reference && circo->has_map && !circo->has_subset && circo->k[0] == 5 && circo->k[2] == 25 &&
          circo->submission == CT_SUBMISSION_CIRCO && strcmp(circo->headline, "mAP@10") == 0);
    CHECK(!fiq->removes_reference && fiq->n_k == 2 && fiq->k[0] == 10 && fiq->k[1] == 50 && fiq->categories &&
          strcmp(fiq->categories[0], "dress") == 0 && strcmp(fiq->categories[2], "toptee") == 0 && !fiq->categories[3]);
    CHECK(man->removes_reference && man->split_optional && strcmp(man->headline, "recall@1") == 0);
    CHECK(ct_dataset_protocol(CT_DS_LASCO)->removes_reference && ct_dataset_protocol(CT_DS_HOTEL)->removes_reference);
    return test_finish();
}
