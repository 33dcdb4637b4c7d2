/* Grounding: scene cells map to the patches whose centres they contain, for grids that match
 * the scene's, divide it, or straddle its cells. */
#include <string.h>

#include "ctcir/grounding.h"
#include "test_util.h"

/* The scene cell (of G x G) under the centre of patch p of a g x g grid, by geometry. */
static int centre_cell(int p, int G, int g) {
    double y = (p / g + 0.5) / g, x = (p % g + 0.5) / g; /* in [0, 1) */
    int r = 0, c = 0;
    while ((r + 1.0) / G <= y) r++;
    while ((c + 1.0) / G <= x) c++;
    return r * G + c;
}

int main(void) {
    unsigned char in[64];
    /* 3x3 on 3x3: identity */
    for (int cell = 0; cell < 9; cell++) {
        ct_grounding_patch_mask(1u << cell, 3, 3, in);
        for (int p = 0; p < 9; p++) CHECK(in[p] == (p == cell));
    }
    /* 6x6 patches: four per cell; the centre cell's are (2..3, 2..3) */
    ct_grounding_patch_mask(1u << 4, 3, 6, in);
    int n = 0;
    for (int p = 0; p < 36; p++) n += in[p];
    CHECK(n == 4 && in[2 * 6 + 2] && in[3 * 6 + 3] && !in[1 * 6 + 2]);
    /* any grid: a patch is inside exactly when its centre's cell is */
    int bad = 0;
    for (int G = 1; G <= 4; G++)
        for (int g = 1; g <= 8; g++)
            for (unsigned cells = 0; cells < (1u << (G * G)); cells += 1 + cells / 7) {
                ct_grounding_patch_mask(cells, G, g, in);
                for (int p = 0; p < g * g; p++) bad += in[p] != ((cells >> centre_cell(p, G, g)) & 1u);
            }
    CHECK_MSG(bad == 0, "%d patches misplaced", bad);
    return test_finish();
}
