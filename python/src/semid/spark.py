"""semid on Apache Spark: an index from embeddings in Parquet, with the IDs ``semid build`` gives.

``python -m semid.spark build --master local[2] --embeddings items.parquet --out items.semid``
(or :func:`build` from Python). The Parquet data has a column ``item`` (integers, exactly
0 .. n-1) and a column ``embedding`` (list<float>, or list<double>, of one dimension d). The job:

1. validates the data on the executors (ids, nulls, dimension, finite values) and sums its
   moments (for the manifest's total variance);
2. asks semid which rows training reads (``semid.training_rows``: a function of n, the settings
   and the seed), collects exactly those rows to the driver and trains the codebooks there
   (``semid.train_codebooks``; the codebooks ``semid build`` trains on all rows, bit for bit);
3. broadcasts the codebooks and encodes every partition on the executors (``mapInArrow`` +
   ``semid.encode_codebooks``: exact nearest centroids, so a row's codes do not depend on its
   partition);
4. gathers the codes on the driver in item order and writes a normal semid index
   (``semid.build_from_codes``: collisions suffix or none, the manifest, the writer lock, an atomic
   write), which ``semid inspect / verify / recommend`` read like any other.

Driver memory: the training sample (at most 512 x K rows per level by default) and
n x (12 + 8 L) bytes of codes and errors. The executors need this package (and its libsemidc) in
the Python they run: see docs/spark.md.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

import semid
from semid import CodebookSettings

#: Largest magnitude semid accepts in an embedding (IndexBuilder.maximumMagnitude).
MAXIMUM_MAGNITUDE = 1e12


class SparkInputError(ValueError):
    """The Parquet input does not fit: a column is missing or of the wrong type, ids are not
    0 .. n-1, embeddings are null, of different dimensions or not finite."""


# ---- Executor side (module-level functions: Spark pickles them by reference) ---------------------

def _embedding_matrix(batch, where: str) -> "tuple[np.ndarray, np.ndarray]":
    """(items int64 [rows], embeddings float32 [rows, d]) of an Arrow batch the validation accepted."""
    items = batch.column("item").to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    column = batch.column("embedding")
    rows = len(column)
    if rows == 0:
        return items, np.empty((0, 0), dtype=np.float32)
    lengths = column.value_lengths().to_numpy(zero_copy_only=False)
    if column.null_count or (lengths != lengths[0]).any():
        raise SparkInputError(f"{where}: a batch holds null embeddings or several dimensions (the validation pass "
                              "should have refused them)")
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return items, values.reshape(rows, int(lengths[0]))


def _validate_partition(batches):
    """mapInArrow: one row of checks and moments per Arrow batch (see _STATISTICS_SCHEMA)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    for batch in batches:
        rows = batch.num_rows
        if rows == 0:
            continue
        items = batch.column("item")
        column = batch.column("embedding")
        item_values = items.to_numpy(zero_copy_only=False)
        null_items = items.null_count
        valid_items = item_values[~np.isnan(item_values)] if null_items else item_values
        lengths = column.value_lengths().fill_null(-1).to_numpy(zero_copy_only=False)
        present = lengths >= 0
        shortest = int(np.argmin(np.where(present, lengths, np.iinfo(np.int64).max))) if present.any() else 0
        longest = int(np.argmax(lengths))
        flat = column.flatten()
        null_values = flat.null_count
        values = flat.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        owners = np.repeat(np.arange(rows), np.where(present, lengths, 0))
        bad = ~np.isfinite(values)
        large = np.abs(np.where(bad, 0, values)) > MAXIMUM_MAGNITUDE
        uniform = present.all() and lengths.min() == lengths.max() and not null_values

        def item_at(index):
            return int(item_values[index]) if 0 <= index < rows and not (null_items and np.isnan(item_values[index])) else -1
        record = {
            "rows": rows,
            "min_item": int(valid_items.min()) if len(valid_items) else 0,
            "max_item": int(valid_items.max()) if len(valid_items) else -1,
            "null_items": null_items,
            "null_embeddings": int((~present).sum()),
            "null_embedding_item": item_at(int(np.argmin(present))) if not present.all() else -1,
            "null_values": null_values,
            "null_value_item": item_at(int(owners[np.argmax(pc.is_null(flat).to_numpy(zero_copy_only=False))]))
            if null_values else -1,
            "min_length": int(lengths[shortest]) if present.any() else -1,
            "min_length_item": item_at(shortest),
            "max_length": int(lengths[longest]),
            "max_length_item": item_at(longest),
            "nonfinite": int(bad.sum()),
            "nonfinite_item": item_at(int(owners[np.argmax(bad)])) if bad.any() else -1,
            "large": int(large.sum()),
            "large_item": item_at(int(owners[np.argmax(large)])) if large.any() else -1,
            "sums": values.reshape(rows, -1).sum(axis=0).tolist() if uniform and not bad.any() else [],
            "sum_squares": float((values * values).sum()) if not bad.any() else 0.0,
        }
        yield pa.RecordBatch.from_pylist([record], schema=_statistics_arrow_schema())


_STATISTICS_FIELDS = [("rows", "long"), ("min_item", "long"), ("max_item", "long"), ("null_items", "long"),
                      ("null_embeddings", "long"), ("null_embedding_item", "long"), ("null_values", "long"),
                      ("null_value_item", "long"), ("min_length", "long"), ("min_length_item", "long"),
                      ("max_length", "long"), ("max_length_item", "long"), ("nonfinite", "long"),
                      ("nonfinite_item", "long"), ("large", "long"), ("large_item", "long"),
                      ("sums", "array<double>"), ("sum_squares", "double")]
_STATISTICS_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in _STATISTICS_FIELDS)


def _statistics_arrow_schema():
    import pyarrow as pa
    kinds = {"long": pa.int64(), "double": pa.float64(), "array<double>": pa.list_(pa.float64())}
    return pa.schema([(name, kinds[kind]) for name, kind in _STATISTICS_FIELDS])


def _gather_partition(batches, rows):
    """mapInArrow: the rows of each batch whose item is in the broadcast sorted array `rows`."""
    import pyarrow as pa
    wanted = rows.value
    for batch in batches:
        items = batch.column("item").to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        position = np.minimum(np.searchsorted(wanted, items), len(wanted) - 1)
        keep = wanted[position] == items
        if keep.any():
            yield batch.filter(pa.array(keep))


def _encode_partition(batches, codebooks, settings: CodebookSettings, where: str):
    """mapInArrow: item, code_0 .. code_{L-1}, error, level_error_0 .. of every row."""
    import pyarrow as pa
    books = codebooks.value
    levels = len(settings.codebook_sizes)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        items, x = _embedding_matrix(batch, where)
        codes, errors, level_errors = semid.encode_codebooks(books, x, settings, errors=True, level_errors=True)
        arrays = [pa.array(items)] + [pa.array(codes[:, level]) for level in range(levels)] + [pa.array(errors)]
        arrays += [pa.array(level_errors[:, level]) for level in range(levels)]
        yield pa.RecordBatch.from_arrays(arrays, names=_encoded_names(levels))


def _encoded_names(levels: int) -> List[str]:
    return (["item"] + [f"code_{level}" for level in range(levels)] + ["error"]
            + [f"level_error_{level}" for level in range(levels)])


def _encoded_schema(levels: int) -> str:
    names = _encoded_names(levels)
    kinds = ["long"] + ["int"] * levels + ["float"] * (levels + 1)
    return ", ".join(f"{name} {kind}" for name, kind in zip(names, kinds))


# ---- Driver side -----------------------------------------------------------------------------------

def _input_frame(spark, path: str):
    """The Parquet data as (DataFrame of item long, embedding array<float>), after checking the
    schema: errors name the file, the column and what was expected."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    try:
        frame = spark.read.parquet(path)
    except Exception as error:  # AnalysisException: path missing, not Parquet
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SparkInputError(f"{path}: cannot be read as Parquet ({message})") from error
    fields = {field.name: field.dataType for field in frame.schema.fields}
    expected = "columns item (int64) and embedding (list<float>)"
    for name in ("item", "embedding"):
        if name not in fields:
            raise SparkInputError(f"{path}: no column '{name}' (columns: {', '.join(fields) or 'none'}); "
                                  f"expected {expected}")
    if not isinstance(fields["item"], T.IntegralType):
        raise SparkInputError(f"{path}: column 'item' is {fields['item'].simpleString()}, expected int64 item ids")
    embedding = fields["embedding"]
    if not (isinstance(embedding, T.ArrayType) and isinstance(embedding.elementType, (T.FloatType, T.DoubleType))):
        raise SparkInputError(f"{path}: column 'embedding' is {embedding.simpleString()}, expected list<float> "
                              "(array<float>, or array<double>)")
    return frame.select(F.col("item").cast("long").alias("item"), F.col("embedding").cast("array<float>").alias("embedding"))


def _checked_statistics(frame, path: str) -> "tuple[int, int, np.ndarray, float]":
    """Validates every row on the executors; returns (n, d, column sums [d], sum of squares)."""
    parts = frame.mapInArrow(_validate_partition, _STATISTICS_SCHEMA).toArrow().to_pylist()
    n = sum(p["rows"] for p in parts)
    if n == 0:
        raise SparkInputError(f"{path}: no rows; expected items 0 .. n-1 with their embeddings")

    def first(count_key, item_key):
        hits = [p for p in parts if p[count_key]]
        return sum(p[count_key] for p in hits), (hits[0][item_key] if hits else -1)
    nulls = sum(p["null_items"] for p in parts)
    if nulls:
        raise SparkInputError(f"{path}: column 'item' has {nulls} null values; expected item ids 0 .. n-1")
    count, item = first("null_embeddings", "null_embedding_item")
    if count:
        raise SparkInputError(f"{path}: {count} rows have a null embedding (item {item}, ...); every item needs one")
    count, item = first("null_values", "null_value_item")
    if count:
        raise SparkInputError(f"{path}: {count} embedding values are null (in item {item}, ...); expected numbers")
    shortest = min(parts, key=lambda p: p["min_length"])
    longest = max(parts, key=lambda p: p["max_length"])
    if shortest["min_length"] != longest["max_length"]:
        raise SparkInputError(
            f"{path}: embeddings have different dimensions: item {shortest['min_length_item']} has "
            f"{shortest['min_length']} values, item {longest['max_length_item']} has {longest['max_length']}; "
            "every embedding must have the same dimension")
    d = longest["max_length"]
    if d < 1:
        raise SparkInputError(f"{path}: the embeddings are empty lists; expected at least one value each")
    count, item = first("nonfinite", "nonfinite_item")
    if count:
        raise SparkInputError(f"{path}: {count} embedding values are not finite (NaN or infinite; item {item}, ...)")
    count, item = first("large", "large_item")
    if count:
        raise SparkInputError(f"{path}: {count} embedding values exceed ±{MAXIMUM_MAGNITUDE:g} (item {item}, ...), "
                              "which overflows squared distances in float32; rescale the embeddings")
    low, high = min(p["min_item"] for p in parts), max(p["max_item"] for p in parts)
    if low != 0 or high != n - 1:
        raise SparkInputError(f"{path}: item ids must be exactly 0 .. n-1 (n = {n} rows; item i is row i of the "
                              f"index), but they run from {low} to {high}")
    sums = np.zeros(d, dtype=np.float64)
    for p in parts:
        sums += np.asarray(p["sums"], dtype=np.float64)
    return n, d, sums, float(sum(p["sum_squares"] for p in parts))


def _check_unique(frame, path: str, n: int) -> None:
    """Ids in 0 .. n-1 over n rows are exactly 0 .. n-1 unless one repeats: find repeats."""
    from pyspark.sql import functions as F
    repeated = frame.groupBy("item").count().where(F.col("count") > 1).limit(3).collect()
    if repeated:
        listed = ", ".join(f"item {row['item']} appears {row['count']} times" for row in repeated)
        raise SparkInputError(f"{path}: item ids must be exactly 0 .. n-1, each once ({listed}); "
                              "the ids missing instead are no item's")


def _settings(levels: Optional[int], codebook_size, seed: int, collisions: str, **kmeans) -> CodebookSettings:
    if collisions == "sinkhorn":
        raise ValueError("--collisions sinkhorn re-assigns last-level codes by the items' distances to the codebook, "
                         "and the vectors stay on the executors: use suffix or none here, or `semid build` on a .npy")
    if collisions not in ("suffix", "none"):
        raise ValueError(f"collisions must be suffix or none (got {collisions!r})")
    return CodebookSettings(levels=levels, codebook_size=codebook_size, seed=seed, collisions=collisions,
                            **{key: value for key, value in kmeans.items() if value is not None})


def build(embeddings: str, *, out: Union[str, os.PathLike], spark=None, master: Optional[str] = None,
          items: Union[None, str, os.PathLike] = None, levels: Optional[int] = None,
          codebook_size: Union[int, Sequence[int]] = 256, collisions: str = "suffix", seed: int = 0,
          kmeans_iterations: Optional[int] = None, kmeans_tolerance: Optional[float] = None,
          max_points_per_centroid: Optional[int] = None, kmeans_init: Optional[str] = None,
          kmeans_warmup: Union[str, Sequence[int]] = "auto", warmup_iterations: Optional[int] = None,
          warmup_tolerance: Optional[float] = None, kmeans_restarts: Optional[int] = None,
          kmeans_refinement: Optional[int] = None, rows_per_shard: Optional[int] = None,
          partitions: Optional[int] = None, overwrite: bool = False, progress: bool = True,
          timings: Optional[Dict[str, float]] = None, spark_conf: Optional[Dict[str, str]] = None) -> semid.Index:
    """Builds a semid index from the Parquet `embeddings` (a file or directory Spark reads: columns
    ``item`` 0 .. n-1 and ``embedding`` list<float>) on Spark, writes it to `out` (a local path
    of the driver) and returns it opened. Same data and settings give the IDs of
    ``semid build`` on the same vectors as a .npy, byte for byte.

    - `spark`: a SparkSession to use; else one is created with `master` (e.g. ``"local[2]"``;
      None = the master spark-submit configured) and `spark_conf`, and stopped at the end.
    - `items`: a JSONL or LC-Rec catalog of items 0 .. n-1 read on the driver (None: untitled).
    - `levels`, `codebook_size` (an int, or one per level), `collisions` (suffix | none), `seed`
      and the k-means settings: those of ``semid build`` (None = its default).
    - `partitions`: encode in this many partitions (default: at least the default parallelism;
      the data is repartitioned when it has fewer).
    - `progress`: stage lines on stderr. `timings`, when given, receives seconds per stage.

    Raises :class:`SparkInputError` for input that does not fit, ValueError for bad settings and
    the :class:`semid.SemidError` subclasses for what the library refuses.
    """
    started = time.monotonic()
    stage_times: Dict[str, float] = {} if timings is None else timings
    settings = _settings(levels, codebook_size, seed, collisions, kmeans_iterations=kmeans_iterations,
                         kmeans_tolerance=kmeans_tolerance, max_points_per_centroid=max_points_per_centroid,
                         kmeans_init=kmeans_init, kmeans_warmup=kmeans_warmup, warmup_iterations=warmup_iterations,
                         warmup_tolerance=warmup_tolerance, kmeans_restarts=kmeans_restarts,
                         kmeans_refinement=kmeans_refinement, rows_per_shard=rows_per_shard)
    settings.check()  # every value checked by the library before Spark starts
    path = os.fspath(embeddings)
    target = os.fspath(out)
    if os.path.exists(target) and not overwrite:
        raise semid.OutputExistsError(f"{target} exists; pass overwrite=True (--force) to replace an index there")

    def say(message: str) -> None:
        if progress:
            print(f"semid.spark: {message}  [{time.monotonic() - started:.1f}s]", file=sys.stderr, flush=True)

    clock = [time.monotonic()]

    def stage(name: str) -> None:
        now = time.monotonic()
        stage_times[name] = now - clock[0]
        clock[0] = now

    owned = spark is None
    if owned:
        spark = _session(master, spark_conf or {})
        stage("spark session")
        say(f"Spark {spark.version} session, master {spark.sparkContext.master}")
    try:
        frame = _input_frame(spark, path)
        n, d, sums, sum_squares = _checked_statistics(frame, path)
        _check_unique(frame, path, n)
        stage("validate")
        say(f"{path}: {n} items of dimension {d}, ids 0 .. {n - 1}")
        mean = sums / n
        variance = max(0.0, sum_squares / n - float(np.dot(mean, mean)))

        rows = semid.training_rows(n, settings)
        wanted = spark.sparkContext.broadcast(rows)
        gathered = frame.mapInArrow(functools.partial(_gather_partition, rows=wanted), frame.schema).toArrow()
        gathered = gathered.sort_by("item")
        got = gathered.column("item").to_numpy()
        if not np.array_equal(got, rows):
            raise SparkInputError(f"{path}: collecting the {len(rows)} training rows gave {len(got)} rows "
                                  "(is the data changing while the job runs?)")
        column = gathered.column("embedding").combine_chunks()
        sample = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(rows), d)
        wanted.unpersist()
        stage("training sample")
        say(f"collected the {len(rows)} training rows ({len(rows) / n:.1%} of the items)")
        codebooks, report = semid.train_codebooks(sample, rows, n, settings, progress=progress)
        del sample, gathered
        stage("train")
        say(f"trained {len(settings.codebook_sizes)} codebooks of {settings.codebook_sizes} codes")

        books = spark.sparkContext.broadcast(codebooks)
        parallelism = partitions or spark.sparkContext.defaultParallelism
        encoded_input = frame
        if partitions is not None or frame.rdd.getNumPartitions() < parallelism:
            encoded_input = frame.repartition(parallelism)
        levels_count = len(settings.codebook_sizes)
        encoded = encoded_input.mapInArrow(
            functools.partial(_encode_partition, codebooks=books, settings=settings, where=path),
            _encoded_schema(levels_count)).toArrow()
        books.unpersist()
        stage("encode and collect")
        say(f"encoded {encoded.num_rows} items on the executors")

        codes = np.empty((n, levels_count), dtype=np.int32)
        errors = np.empty(n, dtype=np.float32)
        level_errors = np.empty((n, levels_count), dtype=np.float32)
        order = encoded.column("item").to_numpy()
        if len(order) != n or not np.array_equal(np.sort(order), np.arange(n)):
            raise SparkInputError(f"{path}: the encoded rows are not items 0 .. {n - 1} once each "
                                  "(is the data changing while the job runs?)")
        for level in range(levels_count):
            codes[order, level] = encoded.column(f"code_{level}").to_numpy()
            level_errors[order, level] = encoded.column(f"level_error_{level}").to_numpy()
        errors[order] = encoded.column("error").to_numpy()
        del encoded, order
        index = semid.build_from_codes(codebooks, codes, errors, variance, settings, out=target,
                                       level_errors=level_errors, training_report=report, items=items,
                                       input_name=os.path.basename(path.rstrip("/")) or path, overwrite=overwrite,
                                       progress=progress)
        stage("write")
        say(f"wrote {target}: {index.num_items} items, ID length {index.id_length}")
        return index
    finally:
        if owned:
            spark.stop()


def _session(master: Optional[str], conf: Dict[str, str]):
    """A SparkSession for this job (executors on a local master run this very Python)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ImportError("semid.spark needs PySpark (pip install pyspark pyarrow 'pandas<3'; Java 17)") from error
    if master is not None and master.startswith("local"):
        # Local workers start `python3` from PATH unless told otherwise; they need this package.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("semid build")
    if master is not None:
        builder = builder.master(master)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


# ---- Command line ----------------------------------------------------------------------------------

def _sizes(text: str) -> Union[int, List[int]]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size or comma-separated sizes, e.g. 256 or 1024,256,256 (got {text!r})")
    return values[0] if len(values) == 1 else values


def _warmup(text: str) -> Union[str, List[int]]:
    if text in ("auto", "none"):
        return text
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto, none or increasing dimensions like 4,8,16 (got {text!r})")


def _conf(text: str) -> "tuple[str, str]":
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (got {text!r})")
    return key, value


def parser() -> argparse.ArgumentParser:
    """The ``python -m semid.spark`` command line."""
    top = argparse.ArgumentParser(prog="python -m semid.spark", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build a semid index from Parquet embeddings on Spark",
                            description="Train a residual quantizer on a sample collected to the driver, encode on the "
                                        "executors, write a semid index (the IDs of `semid build`).")
    b.add_argument("--master", help="Spark master URL, e.g. local[2], spark://host:7077, yarn "
                                    "(default: what spark-submit configured)")
    b.add_argument("--embeddings", required=True, help="Parquet file or directory: item (int64, 0..n-1), embedding (list<float>)")
    b.add_argument("--items", help="item catalog (JSONL or LC-Rec *.item.json) of items 0..n-1, read on the driver")
    b.add_argument("--out", required=True, help="where to write the index directory (on the driver)")
    b.add_argument("--levels", type=int, help="quantizer levels L (default 3, or the number of --codebook-size values)")
    b.add_argument("--codebook-size", type=_sizes, default=256, help="codes per level K, or one per level: 1024,256,256")
    b.add_argument("--collisions", default="suffix", choices=["suffix", "none", "sinkhorn"],
                   help="suffix (TIGER) or none; sinkhorn needs the vectors (use semid build)")
    b.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    b.add_argument("--kmeans-iterations", type=int, help="full-dimensional k-means iterations per level (default 10)")
    b.add_argument("--kmeans-tolerance", type=float, help="stop k-means below this relative improvement (default 1e-5)")
    b.add_argument("--max-points-per-centroid", type=int, help="train each level on at most this many rows per code (default 512; 0 = all)")
    b.add_argument("--kmeans-init", choices=["kmeans++", "random"], help="k-means seeding (default kmeans++)")
    b.add_argument("--kmeans-warmup", type=_warmup, default="auto", help="auto, none or subspace dimensions 4,8,16")
    b.add_argument("--warmup-iterations", type=int, help="k-means iterations per warm-up subspace (default 10)")
    b.add_argument("--warmup-tolerance", type=float, help="warm-up stopping tolerance (default 1e-5)")
    b.add_argument("--kmeans-restarts", type=int, help="independent k-means fits per level (default 1)")
    b.add_argument("--kmeans-refinement", type=int, help="Hartigan passes after k-means (default 2)")
    b.add_argument("--rows-per-shard", type=int, help="maximum rows per shard (default 262144)")
    b.add_argument("--partitions", type=int, help="encode in this many partitions (default: the default parallelism)")
    b.add_argument("--conf", type=_conf, action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    b.add_argument("--force", action="store_true", help="replace --out if it is an existing index")
    b.add_argument("--quiet", action="store_true", help="no progress output")
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status (errors are one line on stderr)."""
    args = parser().parse_args(argv)
    levels = args.levels
    if isinstance(args.codebook_size, list) and levels is None:
        levels = len(args.codebook_size)
    if isinstance(args.codebook_size, list) and levels != len(args.codebook_size):
        print(f"error: --codebook-size lists {len(args.codebook_size)} sizes but --levels is {levels}; give one size "
              "per level or one for all", file=sys.stderr)
        return 2
    try:
        index = build(args.embeddings, out=args.out, master=args.master, items=args.items, levels=levels,
                      codebook_size=args.codebook_size, collisions=args.collisions, seed=args.seed,
                      kmeans_iterations=args.kmeans_iterations, kmeans_tolerance=args.kmeans_tolerance,
                      max_points_per_centroid=args.max_points_per_centroid, kmeans_init=args.kmeans_init,
                      kmeans_warmup=args.kmeans_warmup, warmup_iterations=args.warmup_iterations,
                      warmup_tolerance=args.warmup_tolerance, kmeans_restarts=args.kmeans_restarts,
                      kmeans_refinement=args.kmeans_refinement, rows_per_shard=args.rows_per_shard,
                      partitions=args.partitions, overwrite=args.force, progress=not args.quiet,
                      spark_conf=dict(args.conf))
    except (SparkInputError, ValueError, semid.SemidError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    collisions = index.manifest["statistics"]["collisions"]
    print(f"wrote {args.out}: {index.num_items} items, IDs of {index.id_length} codes (sizes {index.code_sizes}), "
          f"suffix size {collisions.get('suffix_size')}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
