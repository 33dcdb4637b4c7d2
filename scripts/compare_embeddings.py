#!/usr/bin/python3
"""Per-row cosine similarity between the same tensors of two safetensors files (e.g. ctcir encode
--all at --precision fp32 and bf16): prints worst and mean cosine and the worst relative L2 error
per tensor. Usage: compare_embeddings.py A.safetensors B.safetensors [TENSOR...]"""
import json
import struct
import sys

import numpy as np


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in head.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=np.float32).reshape(t["shape"])
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    names = sys.argv[3:] or sorted(set(a) & set(b))
    for name in names:
        x = a[name].reshape(a[name].shape[0], -1).astype(np.float64)
        y = b[name].reshape(b[name].shape[0], -1).astype(np.float64)
        cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-300)
        rel = np.linalg.norm(x - y, axis=1) / (np.linalg.norm(x, axis=1) + 1e-300)
        print(f"{name:28s} rows {x.shape[0]:4d}  cos worst {cos.min():.6f} mean {cos.mean():.6f}  rel-L2 worst {rel.max():.2e}")


if __name__ == "__main__":
    main()
