#!/usr/bin/env python3
"""Writes a synthetic embedding matrix [rows, dim] float32 .npy: a seeded mixture of Gaussian
clusters (4,096 centres on a sphere, per-cluster spread, isotropic noise), in chunks of 65,536 rows,
so the file can be much larger than memory. Used by scripts/bench-scale.sh.

    scripts/synthetic-embeddings.py --rows 1000000 --dim 256 --seed 1 --out /tmp/x.npy
"""
import argparse
import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clusters", type=int, default=4096)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    centres = rng.standard_normal((a.clusters, a.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = rng.uniform(0.15, 0.5, a.clusters).astype(np.float32)
    weights = rng.dirichlet(np.full(a.clusters, 2.0))
    header = {"descr": "<f4", "fortran_order": False, "shape": (a.rows, a.dim)}
    with open(a.out, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        chunk = 65536
        for start in range(0, a.rows, chunk):
            n = min(chunk, a.rows - start)
            c = rng.choice(a.clusters, size=n, p=weights)
            x = centres[c] + spread[c, None] * rng.standard_normal((n, a.dim), dtype=np.float32) / np.sqrt(a.dim)
            f.write(np.ascontiguousarray(x, dtype="<f4").tobytes())


if __name__ == "__main__":
    main()
