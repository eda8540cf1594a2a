"""python -m semid.spark build on Spark local[2]: byte-identical IDs to `semid build` on the same
vectors and seed (with training on a sample and items spread over partitions out of order), and
clear errors for input that does not fit."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import semid
from conftest import clustered, run_cli

pyspark = pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from semid import spark as semid_spark  # noqa: E402

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (Java 17)", allow_module_level=True)

N, D = 6000, 32
FLAGS = {"levels": 3, "codebook_size": 16, "seed": 7, "max_points_per_centroid": 64}


def write_parquet(directory, items, embeddings, parts=3, item_type=None, embedding_type=None, names=("item", "embedding")):
    """Writes (items, embeddings) as `parts` Parquet files, rows shuffled (seeded)."""
    directory.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(0).permutation(len(items))
    for part, rows in enumerate(np.array_split(order, parts)):
        item_array = pa.array([items[r] for r in rows], type=item_type or pa.int64())
        embedding_array = pa.array([embeddings[r] for r in rows], type=embedding_type or pa.list_(pa.float32()))
        pq.write_table(pa.table({names[0]: item_array, names[1]: embedding_array}), directory / f"part-{part}.parquet")
    return directory


@pytest.fixture(scope="module")
def vectors():
    return clustered(N, D, 80, seed=21)


@pytest.fixture(scope="module")
def session():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("semid tests").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


def test_the_spark_build_has_the_ids_of_semid_build(tmp_path, vectors, semid_cli):
    """The command line in local[2]: a new JVM, three Parquet files, items shuffled; training reads
    a sample (64 rows per code); IDs, raw codes and errors are the bytes `semid build` writes."""
    data = write_parquet(tmp_path / "emb", list(range(N)), vectors.tolist())
    items = tmp_path / "items.jsonl"
    items.write_text("".join(f'{{"item": {i}, "title": "product {i}"}}\n' for i in range(N)))
    assert len(semid.training_rows(N, semid.CodebookSettings(**FLAGS))) < N * 0.6
    result = subprocess.run(
        [sys.executable, "-m", "semid.spark", "build", "--master", "local[2]", "--embeddings", str(data), "--items",
         str(items), "--levels", "3", "--codebook-size", "16", "--seed", "7", "--max-points-per-centroid", "64",
         "--conf", "spark.ui.enabled=false", "--out", str(tmp_path / "spark.semid")],
        capture_output=True, text=True, env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wrote" in result.stdout and "training rows" in result.stderr
    np.save(tmp_path / "x.npy", vectors)
    run_cli(semid_cli, "build", "--embeddings", tmp_path / "x.npy", "--items", items, "--levels", 3,
            "--codebook-size", 16, "--seed", 7, "--max-points-per-centroid", 64, "--quiet", "--out", tmp_path / "cli.semid")
    for name in ("ids-00000.zst", "raw_codes-00000.zst", "reconstruction_errors-00000.zst"):
        assert (tmp_path / "spark.semid" / name).read_bytes() == (tmp_path / "cli.semid" / name).read_bytes(), name
    with semid.Index.open(tmp_path / "spark.semid") as built, semid.Index.open(tmp_path / "cli.semid") as cli:
        assert built.manifest["parameters"] == cli.manifest["parameters"]
        assert built.manifest["statistics"]["collisions"] == cli.manifest["statistics"]["collisions"]
        ours, theirs = built.manifest["statistics"]["kmeans"], cli.manifest["statistics"]["kmeans"]
        for a, b in zip(ours["levels"], theirs["levels"]):
            assert a["training_points"] == b["training_points"] and a["iterations"] == b["iterations"]
            assert a["residual_mean_squared_norm"] == pytest.approx(b["residual_mean_squared_norm"], rel=1e-6)
        a, b = built.manifest["batches"][0]["reconstruction"], cli.manifest["batches"][0]["reconstruction"]
        assert a["mean_squared_error"] == b["mean_squared_error"]
        assert a["total_variance"] == pytest.approx(b["total_variance"], rel=1e-6)
        assert built.titles[:2] == ["product 0", "product 1"]
        assert built.manifest["batches"][0]["inputs"][0]["file"] == "emb"
    # The other commands read it like any index.
    verified = run_cli(semid_cli, "verify", tmp_path / "spark.semid", "--embeddings", tmp_path / "x.npy")
    assert f"{N} reproduce their stored raw codes" in verified.stdout
    run_cli(semid_cli, "inspect", tmp_path / "spark.semid")


def test_one_codebook_size_per_level_and_collisions_none(tmp_path, vectors, session, semid_cli):
    """The Python API on a running session; the list form of --codebook-size; policy none."""
    data = write_parquet(tmp_path / "emb", list(range(2000)), vectors[:2000].tolist(), parts=2)
    timings = {}
    index = semid_spark.build(str(data), out=tmp_path / "s.semid", spark=session, codebook_size=[16, 16],
                              collisions="none", seed=3, progress=False, timings=timings)
    assert index.levels == 2 and index.id_length == 2 and set(timings) >= {"validate", "train", "write"}
    np.save(tmp_path / "x.npy", vectors[:2000])
    run_cli(semid_cli, "build", "--embeddings", tmp_path / "x.npy", "--levels", 2, "--codebook-size", 16,
            "--collisions", "none", "--seed", 3, "--quiet", "--out", tmp_path / "cli.semid")
    with semid.Index.open(tmp_path / "cli.semid") as cli:
        np.testing.assert_array_equal(index.codes, cli.codes)
    index.close()


@pytest.mark.parametrize("case, message", [
    ("ids from 1", r"item ids must be exactly 0 \.\. n-1 \(n = 300 rows.*run from 1 to 300"),
    ("repeated id", r"item 7 appears 2 times"),
    ("missing column", r"no column 'embedding' \(columns: item, vector\); expected columns item \(int64\)"),
    ("string ids", r"column 'item' is string, expected int64"),
    ("string values", r"column 'embedding' is array<string>, expected list<float>"),
    ("wrong dimension", r"different dimensions: item 5 has 31 values, item \d+ has 32"),
    ("not finite", r"1 embedding values are not finite .*item 9"),
    ("null embedding", r"1 rows have a null embedding \(item 4"),
])
def test_input_that_does_not_fit_gets_a_clear_error(tmp_path, vectors, session, case, message):
    items, values = list(range(300)), vectors[:300].tolist()
    names, item_type, embedding_type = ("item", "embedding"), None, None
    if case == "ids from 1":
        items = [i + 1 for i in items]
    elif case == "repeated id":
        items[8] = 7
    elif case == "missing column":
        names = ("item", "vector")
    elif case == "string ids":
        items, item_type = [str(i) for i in items], pa.string()
    elif case == "string values":
        values, embedding_type = [[str(v) for v in row] for row in values], pa.list_(pa.string())
    elif case == "wrong dimension":
        values[5] = values[5][:-1]
    elif case == "not finite":
        values[9][3] = float("nan")
    elif case == "null embedding":
        values[4] = None
    data = write_parquet(tmp_path / "emb", items, values, parts=2, item_type=item_type, embedding_type=embedding_type,
                         names=names)
    with pytest.raises(semid_spark.SparkInputError, match=message) as raised:
        semid_spark.build(str(data), out=tmp_path / "x.semid", spark=session, codebook_size=8, progress=False)
    assert str(data) in str(raised.value)
    assert not (tmp_path / "x.semid").exists()


def test_settings_are_checked_before_spark_starts(tmp_path):
    with pytest.raises(ValueError, match="sinkhorn .* the vectors stay on the executors"):
        semid_spark.build("none.parquet", out=tmp_path / "x.semid", collisions="sinkhorn")
    with pytest.raises(semid.InvalidArgumentError, match="options.kmeans_iterations"):
        semid_spark.build("none.parquet", out=tmp_path / "x.semid", kmeans_iterations=0)
    assert semid_spark.main(["build", "--embeddings", "x", "--out", str(tmp_path / "y"), "--levels", "2",
                             "--codebook-size", "8,8,8"]) == 2
