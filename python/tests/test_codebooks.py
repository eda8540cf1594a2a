"""The build in steps (semid.CodebookSettings, encode_codebooks, build_from_codes): codes by hand,
an index from codes that encodes like its codebooks, and clear errors."""

import ctypes

import numpy as np
import pytest

import semid
from semid import _native
from conftest import clustered

# Two levels of two codes in 2-d: (0, 0), (10, 0); then (0, 1), (0, -1).
BOOKS = np.array([[0, 0], [10, 0], [0, 1], [0, -1]], dtype=np.float32)
TINY = semid.CodebookSettings(levels=2, codebook_size=2)


def test_the_options_struct_matches_the_library():
    options = TINY.options()
    assert options.struct_size == ctypes.sizeof(_native.CodebookOptions)
    assert options.levels == 2 and options.codebook_size == 2 and options.kmeans_iterations == 10
    assert options.kmeans_init == b"kmeans++" and options.collisions == b"suffix"


def test_codes_and_errors_by_hand():
    x = np.array([[9, 2], [0.5, -3]], dtype=np.float64)
    codes, errors, levels = semid.encode_codebooks(BOOKS, x, TINY, errors=True, level_errors=True)
    np.testing.assert_array_equal(codes, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(errors, [2.0, 4.25])
    np.testing.assert_allclose(levels, [[5, 2], [9.25, 4.25]], rtol=1e-6)
    assert semid.encode_codebooks(BOOKS, np.empty((0, 2), np.float32), TINY).shape == (0, 2)


def test_an_index_from_codes_encodes_with_its_codebooks(tmp_path):
    settings = semid.CodebookSettings(levels=2, codebook_size=4, seed=3)
    x = clustered(300, 8, 10, seed=4)
    books = clustered(8, 8, 8, seed=5)
    codes, errors, levels = semid.encode_codebooks(books, x, settings, errors=True, level_errors=True)
    variance = float(((x - x.mean(0)) ** 2).sum(1).mean())
    index = semid.build_from_codes(books, codes, errors, variance, settings, out=tmp_path / "c.semid",
                                   level_errors=levels, items=[f"t{i}" for i in range(300)], input_name="x.parquet")
    np.testing.assert_array_equal(index.raw_codes, codes)
    np.testing.assert_array_equal(index.encode(x), codes)
    assert index.id_length == 3 and len({tuple(r) for r in index.codes.tolist()}) == 300
    assert index.titles[7] == "t7"
    reconstruction = index.manifest["batches"][0]["reconstruction"]
    assert reconstruction["mean_squared_error"] == pytest.approx(float(errors.astype(np.float64).mean()))
    assert reconstruction["total_variance"] == pytest.approx(variance)
    assert len(reconstruction["residual_fraction_by_level"]) == 2
    assert index.manifest["batches"][0]["inputs"][0]["file"] == "x.parquet"
    index.close()


def test_errors_name_the_argument(tmp_path):
    x = np.array([[9, 2], [0.5, -3]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"codebooks must be \[sum K_l, d\] = \[4, d\]"):
        semid.encode_codebooks(BOOKS[:3], x, TINY)
    with pytest.raises(ValueError, match="vectors has 3 columns, expected 2"):
        semid.encode_codebooks(BOOKS, np.zeros((2, 3), np.float32), TINY)
    with pytest.raises(semid.InvalidArgumentError, match="vectors row 1, column 0 is not finite"):
        semid.encode_codebooks(BOOKS, np.array([[0, 0], [np.nan, 0]], np.float32), TINY)
    with pytest.raises(ValueError, match="codebook_size lists 3 sizes but levels is 2"):
        semid.CodebookSettings(levels=2, codebook_size=[4, 4, 4]).options()
    with pytest.raises(semid.InvalidArgumentError, match="options.kmeans_init"):
        semid.encode_codebooks(BOOKS, x, semid.CodebookSettings(levels=2, codebook_size=2, kmeans_init="fast"))
    codes = np.array([[1, 0], [0, 1]])
    errors = np.array([2, 4.25], np.float32)
    sinkhorn = semid.CodebookSettings(levels=2, codebook_size=2, collisions="sinkhorn")
    with pytest.raises(semid.InvalidArgumentError, match="needs the vectors"):
        semid.build_from_codes(BOOKS, codes, errors, 1.0, sinkhorn, out=tmp_path / "s.semid")
    with pytest.raises(semid.InvalidArgumentError, match="code 2 is outside the codebook"):
        semid.build_from_codes(BOOKS, np.array([[1, 0], [2, 1]]), errors, 1.0, TINY, out=tmp_path / "r.semid")
    with pytest.raises(ValueError, match=r"item_errors must be float \[2\]"):
        semid.build_from_codes(BOOKS, codes, errors[:1], 1.0, TINY, out=tmp_path / "e.semid")
    assert not (tmp_path / "s.semid").exists() and not (tmp_path / "r.semid").exists()
    semid.build_from_codes(BOOKS, codes, errors, 1.0, TINY, out=tmp_path / "ok.semid").close()
    with pytest.raises(semid.OutputExistsError):
        semid.build_from_codes(BOOKS, codes, errors, 1.0, TINY, out=tmp_path / "ok.semid")


def test_the_steps_give_the_ids_of_semid_build_when_training_samples(tmp_path, semid_cli):
    """2,000 items, K = 8 and 16 rows per code: every level trains on a sample; the steps on those
    rows alone give the IDs, raw codes and errors of `semid build` on the .npy, byte for byte."""
    from conftest import run_cli
    x = clustered(2000, 16, 50, seed=12)
    settings = semid.CodebookSettings(levels=3, codebook_size=8, seed=4, max_points_per_centroid=16)
    rows = semid.training_rows(len(x), settings)
    assert rows.dtype == np.int64 and 100 < len(rows) < len(x) and np.all(np.diff(rows) > 0)
    books, report = semid.train_codebooks(x[rows], rows, len(x), settings)
    assert books.shape == (24, 16) and [r["training_points"] for r in report] == [128, 128, 128]
    codes, errors, levels = semid.encode_codebooks(books, x, settings, errors=True, level_errors=True)
    variance = float(((x.astype(np.float64) - x.mean(0, dtype=np.float64)) ** 2).sum(1).mean())
    index = semid.build_from_codes(books, codes, errors, variance, settings, out=tmp_path / "steps.semid",
                                   level_errors=levels, training_report=report)
    np.save(tmp_path / "x.npy", x)
    run_cli(semid_cli, "build", "--embeddings", tmp_path / "x.npy", "--levels", 3, "--codebook-size", 8, "--seed", 4,
            "--max-points-per-centroid", 16, "--quiet", "--out", tmp_path / "cli.semid")
    for name in ("ids-00000.zst", "raw_codes-00000.zst", "reconstruction_errors-00000.zst"):
        assert (tmp_path / "steps.semid" / name).read_bytes() == (tmp_path / "cli.semid" / name).read_bytes(), name
    with semid.Index.open(tmp_path / "cli.semid") as cli:
        assert index.manifest["statistics"] == cli.manifest["statistics"]
        assert index.manifest["parameters"] == cli.manifest["parameters"]
    index.close()
    with pytest.raises(semid.InvalidArgumentError, match="rows"):
        semid.train_codebooks(x[rows[1:]], rows[1:], len(x), settings)
