#!/usr/bin/env python3
"""What numpy does for exact top-k over a random F32 gallery, for comparison with
bench/bench_topk (same shapes, same table): one query is an sgemv plus argpartition, a batch
of queries an sgemm into a [B, G] score matrix plus argpartition per row. The gallery is
taken as already normalised (numpy gets no row norms to compute; ct_topk computes them on
the fly). Optional developer tooling: no test needs it.

Times are the best of the repetitions (wall) and that repetition's process CPU time.

usage: bench_topk_numpy.py [--gallery N] [--reps R] [--batch B] [--k K] [--dim P]
Run it alternating with bench_topk (same machine, same session), with OPENBLAS_NUM_THREADS
set to the core count ct_topk gets."""
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
    print("%-9s %-4s %-8s %14s %10s %18s %10s" % ("gallery", "type", "kernel", "1 query (ms)", "cpu (ms)",
                                                 "%d queries (ms/q)" % a.batch, "cpu (ms/q)"))
    one = batch = (float("inf"), 0.0)  # best wall time, and that repetition's CPU time
    for _ in range(a.reps):
        w0, c0 = time.perf_counter(), time.process_time()
        topk_one(g, qs[0], a.k)
        w1, c1 = time.perf_counter(), time.process_time()
        topk_batch(g, qs, a.k)
        w2, c2 = time.perf_counter(), time.process_time()
        one = min(one, (w1 - w0, c1 - c0))
        batch = min(batch, (w2 - w1, c2 - c1))
    print("%-9d %-4s %-8s %14.2f %10.2f %18.3f %10.3f" % (a.gallery, "F32", "numpy", 1e3 * one[0], 1e3 * one[1],
                                                        1e3 * batch[0] / a.batch, 1e3 * batch[1] / a.batch),
          flush=True)

if __name__ == "__main__":
    main()
