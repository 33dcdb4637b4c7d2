/* Published record counts of the CIR benchmarks: the one copy of the table in
 * docs/datasets.md section 8 that code reads (`ctcir datasets check` compares a local copy
 * against it). Change both together. */
#include <string.h>

#include "ctcir/datasets.h"

typedef struct {
    ct_dataset_kind kind;
    const char *category; /* FashionIQ category, else NULL */
    const char *split;
    int queries; /* records of the caption / query file; -1: not published here */
    int images;  /* records of the gallery file; -1: not published here */
} count_row;

/* docs/datasets.md section 8. CIRR_R shares CIRR's image splits; its caption files are
 * ctcir's own, so only the image counts apply. */
static const count_row rows[] = {
    {CT_DS_CIRR, NULL, "train", -1, 16939},
    {CT_DS_CIRR, NULL, "val", 4181, 2297},
    {CT_DS_CIRR, NULL, "test1", 4148, 2315},
    {CT_DS_CIRR_R, NULL, "train", -1, 16939},
    {CT_DS_CIRR_R, NULL, "val", -1, 2297},
    {CT_DS_CIRR_R, NULL, "test1", -1, 2315},
    {CT_DS_CIRCO, NULL, "val", 220, -1},
    {CT_DS_CIRCO, NULL, "test", 800, -1},
    {CT_DS_FASHIONIQ, "dress", "train", 5985, 11452},
    {CT_DS_FASHIONIQ, "dress", "val", 2017, 3817},
    {CT_DS_FASHIONIQ, "dress", "test", 2024, 3818},
    {CT_DS_FASHIONIQ, "shirt", "train", 5988, 19036},
    {CT_DS_FASHIONIQ, "shirt", "val", 2038, 6346},
    {CT_DS_FASHIONIQ, "shirt", "test", 2038, 6346},
    {CT_DS_FASHIONIQ, "toptee", "train", 6027, 16121},
    {CT_DS_FASHIONIQ, "toptee", "val", 1961, 5373},
    {CT_DS_FASHIONIQ, "toptee", "test", 2056, 5374},
    {CT_DS_LASCO, NULL, "train", -1, -1},
    {CT_DS_LASCO, NULL, "val", -1, 39826},
};

bool ct_published_counts(ct_dataset_kind kind, const char *split, const char *category, int *queries, int *images) {
    *queries = *images = -1;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const count_row *r = &rows[i];
        if (r->kind != kind || !split || strcmp(r->split, split)) continue;
        if (r->category && (!category || strcmp(r->category, category))) continue;
        *queries = r->queries;
        *images = r->images;
        return true;
    }
    return false;
}

const char *const *ct_dataset_splits(ct_dataset_kind kind) {
    static const char *const cirr[] = {"train", "val", "test1", NULL};
    static const char *const three[] = {"train", "val", "test", NULL};
    static const char *const circo[] = {"val", "test", NULL};
    static const char *const lasco[] = {"train", "val", NULL};
    switch (kind) {
    case CT_DS_CIRR:
    case CT_DS_CIRR_R: return cirr;
    case CT_DS_CIRCO: return circo;
    case CT_DS_LASCO: return lasco;
    case CT_DS_FASHIONIQ:
    case CT_DS_HOTEL:
    case CT_DS_MANIFEST: return three;
    }
    return three;
}
