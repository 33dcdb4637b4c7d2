/* Where a gallery comes from on the command line: --images DIR, --list FILE, or
 * --dataset NAME --root DIR --split S [--category C]. Shared by index and eval. */
#ifndef CTCIR_APP_GALLERY_SOURCE_H
#define CTCIR_APP_GALLERY_SOURCE_H

#include <stdint.h>

#include "ctcir/dataset.h"

typedef struct {
    int64_t n;
    char **names;   /* without extension */
    char **paths;
    ct_dataset *ds; /* set when the gallery came from a dataset (owns names/paths then) */
} ct_gallery;

/* Every image file below dir (recursive, sorted by relative path); names are the relative
 * paths without extension. */
ct_status ct_gallery_from_dir(ct_gallery *g, const char *dir);
/* One path per line; relative paths are resolved against the list file's folder; names are
 * the paths as written, without extension. */
ct_status ct_gallery_from_list(ct_gallery *g, const char *file);
/* A dataset's gallery (no image check). */
ct_status ct_gallery_from_dataset(ct_gallery *g, const char *kind, const char *root, const char *split,
                                  const char *category);
void ct_gallery_free(ct_gallery *g);

#endif
