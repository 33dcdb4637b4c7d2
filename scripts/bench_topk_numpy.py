#!/usr/bin/env python3
"""What numpy does for exact top-k over a random F32 gallery, for comparison with
bench/bench_topk (same shapes, same table): one query is an sgemv plus argpartition, a batch
of queries an sgemm into a [B, G] score matrix plus argpartition per row. The gallery is
taken as already normalised (numpy gets no row norms to compute; ct_topk computes them on
the fly). Optional developer tooling: no test needs it.

usage: bench_topk_numpy.py [--gallery N] [--reps R] [--batch B] [--k K] [--dim P]
Run it interleaved with bench_topk (alternate the two programs) and set
OPENBLAS_NUM_THREADS to the core count you give ct_topk."""
import argparse
import time

import numpy as np


def topk_one(g, q, k):
    s = g @ q
    part = np.argpartition(-s, k - 1)[:k]
    return part[np.lexsort((part, -s[part]))]


def topk_batch(g, qs, k):
    s = qs @ g.T  # [B, G]: each query's scores contiguous
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(s, part, axis=1)
    return [p[np.lexsort((p, -t))] for p, t in zip(part, top)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gallery", type=int, default=1000000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--dim", type=int, default=768)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    g = rng.random((a.gallery, a.dim), dtype=np.float32)
    g -= 0.5
    qs = rng.random((a.batch, a.dim), dtype=np.float32) - 0.5
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    print("%-9s %-4s %14s %18s" % ("gallery", "type", "1 query (ms)", "%d queries (ms/q)" % a.batch))
    best1 = bestb = float("inf")
    for _ in range(a.reps):
        t0 = time.perf_counter()
        topk_one(g, qs[0], a.k)
        t1 = time.perf_counter()
        topk_batch(g, qs, a.k)
        t2 = time.perf_counter()
        best1 = min(best1, t1 - t0)
        bestb = min(bestb, t2 - t1)
    print("%-9d %-4s %14.2f %18.3f" % (a.gallery, "F32", 1e3 * best1, 1e3 * bestb / a.batch), flush=True)


if __name__ == "__main__":
    main()
