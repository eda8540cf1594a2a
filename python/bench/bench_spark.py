"""Spark local[N] against `semid build` on the same synthetic catalog, in one run.

The catalog (seeded clustered vectors, float32 [items, dimension], 3 x 256 + suffix by default) is
written once to WORK as a .npy for `semid build` and as Parquet (item int64, embedding
list<float>; several files, rows shuffled) for `python -m semid.spark build`. Then:

1. `semid build` on the .npy (wall time of the process);
2. the Spark job through semid.spark.build on a session started here, its stages timed: the
   session start (JVM), validation and moments, collecting the training rows, training, encoding
   plus collecting the codes, writing the index;
3. the encode alone (the same mapInArrow written to Spark's no-op sink, nothing collected), so
   the cost of collecting the codes to the driver shows separately;
4. the IDs: ids-00000.zst (and raw codes, errors) compared byte for byte.

Run with `make bench-spark` (under the build lock on shared machines: Spark uses every core).
Prints a Markdown table and writes it with the raw numbers to WORK/results.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import semid
from semid import spark as semid_spark


def catalog(work: Path, items: int, dimension: int, seed: int):
    """The .npy and Parquet copies of the seeded catalog (made once)."""
    npy, parquet = work / f"emb-{items}x{dimension}.npy", work / f"emb-{items}x{dimension}.parquet"
    if not npy.is_file() or not parquet.is_dir():
        rng = np.random.default_rng(seed)
        centers = rng.normal(size=(1000, dimension)).astype(np.float32)
        labels = rng.integers(0, 1000, items)
        x = (centers[labels] + 0.5 * rng.normal(size=(items, dimension))).astype(np.float32)
        np.save(npy, x)
        shutil.rmtree(parquet, ignore_errors=True)
        parquet.mkdir(parents=True)
        order = rng.permutation(items)
        for part, rows in enumerate(np.array_split(order, 8)):
            flat = pa.array(x[rows].reshape(-1))
            embedding = pa.FixedSizeListArray.from_arrays(flat, dimension).cast(pa.list_(pa.float32()))
            pq.write_table(pa.table({"item": pa.array(rows.astype(np.int64)), "embedding": embedding}),
                           parquet / f"part-{part:05d}.parquet")
    return npy, parquet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semid", required=True, help="the semid executable (release build)")
    parser.add_argument("--work", required=True, help="directory for the catalog, the indexes and results.json")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=256)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--codebook-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    npy, parquet = catalog(work, args.items, args.dimension, args.seed)
    flags = ["--levels", str(args.levels), "--codebook-size", str(args.codebook_size), "--seed", str(args.seed)]

    # 1. semid build.
    cli_out = work / "cli.semid"
    started = time.monotonic()
    subprocess.run([args.semid, "build", "--embeddings", str(npy), *flags, "--quiet", "--force", "--out", str(cli_out)],
                   check=True, stdout=subprocess.DEVNULL)
    cli_seconds = time.monotonic() - started

    # 2. The Spark job, stage by stage.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    started = time.monotonic()
    spark = (SparkSession.builder.master(args.master).appName("semid bench").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # the JVM and a first job (executor Python workers start lazily)
    session_seconds = time.monotonic() - started
    timings: dict = {}
    spark_out = work / "spark.semid"
    started = time.monotonic()
    index = semid_spark.build(str(parquet), out=spark_out, spark=spark, levels=args.levels,
                              codebook_size=args.codebook_size, seed=args.seed, overwrite=True, progress=False,
                              timings=timings)
    job_seconds = time.monotonic() - started
    index.close()

    # 3. Encoding alone: the same partitions and mapInArrow, written to the no-op sink.
    settings = semid.CodebookSettings(levels=args.levels, codebook_size=args.codebook_size, seed=args.seed)
    frame = semid_spark._input_frame(spark, str(parquet))
    # The codebooks the job broadcast, trained again from the same rows of the .npy (bit-identical).
    x = np.load(npy, mmap_mode="r")
    rows = semid.training_rows(args.items, settings)
    books, _ = semid.train_codebooks(np.asarray(x[rows]), rows, args.items, settings)
    broadcast = spark.sparkContext.broadcast(books)
    parallelism = spark.sparkContext.defaultParallelism
    encoded_input = frame if frame.rdd.getNumPartitions() >= parallelism else frame.repartition(parallelism)
    encode = encoded_input.mapInArrow(
        functools.partial(semid_spark._encode_partition, codebooks=broadcast, settings=settings, where=str(parquet)),
        semid_spark._encoded_schema(args.levels))
    started = time.monotonic()
    encode.write.format("noop").mode("overwrite").save()
    encode_only = time.monotonic() - started
    spark.stop()

    identical = {name: (spark_out / name).read_bytes() == (cli_out / name).read_bytes()
                 for name in ("ids-00000.zst", "raw_codes-00000.zst", "reconstruction_errors-00000.zst")}
    collect = timings["encode and collect"] - encode_only
    spark_total = session_seconds + job_seconds
    rows = [
        ("`semid build` (one process, .npy)", cli_seconds),
        (f"Spark {args.master}: session start (JVM, first job)", session_seconds),
        ("  validate + moments + id check", timings["validate"]),
        ("  collect the training rows", timings["training sample"]),
        ("  train the codebooks (driver)", timings["train"]),
        ("  encode on the executors", encode_only),
        ("  collect the codes to the driver (difference)", collect),
        ("  resolve collisions + write the index", timings["write"]),
        ("Spark job without the session start", job_seconds),
        ("Spark total", spark_total),
    ]
    print(f"{args.items} x {args.dimension} float32, {args.levels} x {args.codebook_size} + suffix, seed {args.seed}; "
          f"{os.cpu_count()} cores, {semid.blas_info()}")
    print("| stage | seconds |\n| --- | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    print(f"\nSpark total / semid build: {spark_total / cli_seconds:.2f}x; "
          f"job without the session: {job_seconds / cli_seconds:.2f}x")
    print("byte-identical to semid build: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in identical.items()))
    results = {"items": args.items, "dimension": args.dimension, "levels": args.levels,
               "codebook_size": args.codebook_size, "seed": args.seed, "master": args.master,
               "semid_build_seconds": cli_seconds, "session_seconds": session_seconds, "job_seconds": job_seconds,
               "stages": timings, "encode_only_seconds": encode_only, "collect_seconds": collect,
               "ratio_total": spark_total / cli_seconds, "ratio_job": job_seconds / cli_seconds,
               "identical": identical, "machine": platform.processor() or platform.machine(),
               "blas": semid.blas_info()}
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(identical.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
