#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/TARGET/) from the test fixtures.

    Fuzz/make-seeds.py --semid .build-tests/release/semid

The inputs are small versions of what the tests feed semid: `.npy` matrices of every accepted
dtype (and the malformed headers of the reader's tests), JSON Lines and LC-Rec item catalogs,
TSV and LC-Rec sequences, and the manifests, shards and catalogs of three small indexes built
with the given binary (plain, with a trained model, with user IDs). Each shard seed starts with
the byte that picks the manifest's expectation in the `shard` target (0: none). Deterministic:
run it again after a format change and commit the result. Standard library only.
"""

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def npy(descr, shape, payload, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin1") + payload


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--semid", required=True)
    parser.add_argument("--out", default=os.path.join(HERE, "corpus"))
    options = parser.parse_args()
    rng = random.Random(16)
    out = options.out
    for target in ["npy", "items", "sequences", "manifest", "shard", "catalog"]:
        shutil.rmtree(os.path.join(out, target), ignore_errors=True)

    # npy: every accepted dtype, both header versions, and the malformed cases of the tests.
    d = os.path.join(out, "npy")
    floats = [rng.gauss(0, 1) for _ in range(24)]
    write(d, "f4-6x4.npy", npy("<f4", (6, 4), struct.pack("<24f", *floats)))
    write(d, "f8-3x2.npy", npy("<f8", (3, 2), struct.pack("<6d", *floats[:6])))
    write(d, "f2-2x2.npy", npy("<f2", (2, 2), struct.pack("<4e", *floats[:4])))
    write(d, "i4-5x3.npy", npy("<i4", (5, 3), struct.pack("<15i", *range(15))))
    write(d, "i8-2x3.npy", npy("<i8", (2, 3), struct.pack("<6q", *range(6))))
    write(d, "f4-v2-2x2.npy", npy("<f4", (2, 2), struct.pack("<4f", *floats[:4]), version=2))
    write(d, "f4-0x4.npy", npy("<f4", (0, 4), b""))
    write(d, "fortran.npy", npy("<f4", (2, 2), struct.pack("<4f", *floats[:4])).replace(b"False", b"True "))
    write(d, "big-endian.npy", npy(">f4", (2, 2), struct.pack(">4f", *floats[:4])))
    write(d, "truncated.npy", npy("<f4", (6, 4), struct.pack("<10f", *floats[:10])))
    write(d, "nan.npy", npy("<f4", (1, 2), struct.pack("<2f", 1.0, float("nan"))))
    write(d, "1d.npy", npy("<f4", (4,), struct.pack("<4f", *floats[:4])))

    # items: JSON Lines and LC-Rec item JSON (the target reads both ways).
    d = os.path.join(out, "items")
    write(d, "plain.jsonl", "".join(json.dumps({"item": i, "source_id": "S%d" % i, "title": "Item %d" % i}) + "\n"
                                    for i in range(6)))
    write(d, "texts.jsonl", '{"item": 0, "source_id": 17, "title": "T\\u00e9", "text": "a\\tb"}\n\n'
                            '{"item": 1, "title": null, "extra": [1, 2]}\n')
    write(d, "bom-crlf.jsonl", "\ufeff" + '{"item": 0}\r\n{"item": 1, "source_id": "x"}\r\n')
    write(d, "lcrec.item.json", json.dumps({"0": {"title": "A", "description": "d", "brand": "b", "categories": "c"},
                                            "1": {"title": "B"}, "2": {}}))
    write(d, "duplicate.jsonl", '{"item": 0}\n{"item": 0}\n')
    write(d, "bad-id.jsonl", '{"item": 2.5}\n')

    # sequences: TSV and LC-Rec inter JSON.
    d = os.path.join(out, "sequences")
    write(d, "plain.tsv", "".join("%d\t%s\n" % (u, " ".join(str(rng.randrange(80)) for _ in range(rng.randint(2, 9))))
                                  for u in range(8)))
    write(d, "crlf-tabs.tsv", "0\t1 2\t3\r\n\r\n1\t4  5\r\n")
    write(d, "lcrec.inter.json", json.dumps({"0": [1, 2, 3], "1": [4, 5], "7": [9]}))
    write(d, "malformed.tsv", "0\t1 2 3 4 5\n1\t6 7 8 9\n2 oops no tab\n")
    write(d, "unknown.tsv", "0\t1 2 3 4 5\n1\t6 7 500 9 10\n")

    # Indexes: manifests, shards and catalogs.
    work = tempfile.mkdtemp(prefix="semid-seeds-")
    try:
        emb = os.path.join(work, "emb.npy")
        with open(emb, "wb") as f:
            f.write(npy("<f4", (40, 8), struct.pack("<320f", *[rng.gauss(0, 1) for _ in range(320)])))
        items = os.path.join(work, "items.jsonl")
        with open(items, "w") as f:
            for i in range(40):
                f.write(json.dumps({"item": i, "source_id": "S%d" % i, "title": "Item %d" % i}) + "\n")
        seqs = os.path.join(work, "seq.tsv")
        with open(seqs, "w") as f:
            for u in range(30):
                f.write("%d\t%s\n" % (u, " ".join(str(rng.randrange(40)) for _ in range(rng.randint(3, 8)))))

        def semid(*args):
            subprocess.run([options.semid] + list(args) + ["--quiet"], check=True, stdout=subprocess.DEVNULL)

        plain, trained, users = (os.path.join(work, n) for n in ("plain.semid", "trained.semid", "users.semid"))
        semid("build", "--embeddings", emb, "--items", items, "--levels", "2", "--codebook-size", "4",
              "--kmeans-warmup", "none", "--out", plain)
        shutil.copytree(plain, trained)
        semid("train", trained, "--sequences", seqs, "--epochs", "2", "--dim", "8", "--heads", "2", "--batch", "8",
              "--seed", "1")
        shutil.copytree(trained, users)
        semid("users", users, "--sequences", seqs, "--levels", "2", "--codebook-size", "4")
        for name, index in (("plain", plain), ("trained", trained), ("users", users)):
            write(os.path.join(out, "manifest"), name + ".json", open(os.path.join(index, "manifest.json"), "rb").read())
        write(os.path.join(out, "catalog"), "plain.sqlite", open(os.path.join(plain, "catalog.sqlite"), "rb").read())
        write(os.path.join(out, "catalog"), "users.sqlite", open(os.path.join(users, "catalog.sqlite"), "rb").read())
        write(os.path.join(out, "catalog"), "empty.sqlite", b"")
        # Shards: the target's first byte picks the expectation (1: int32 [80, 3], 2: float32
        # [2, 4, 8], 3: uint16 [7], else none); the index's own shards go with 0.
        manifest = json.load(open(os.path.join(users, "manifest.json")))
        seen = set()
        for shard in manifest["shards"]:
            kind = (shard["dtype"], len(shard["shape"]))
            if kind in seen:
                continue
            seen.add(kind)
            data = open(os.path.join(users, shard["file"]), "rb").read()
            if len(data) <= 8192:
                write(os.path.join(out, "shard"), shard["file"], b"\x00" + data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for target in sorted(os.listdir(out)):
        print("%-10s %d seeds" % (target, len(os.listdir(os.path.join(out, target)))))


if __name__ == "__main__":
    main()
