"""Bad input gives a Python exception with the library's message, never a crash."""

import numpy as np
import pytest

import semid
from conftest import BUNDLED, copy_index


def test_missing_index(tmp_path):
    with pytest.raises(semid.IndexNotFoundError, match="index not found") as caught:
        semid.Index.open(tmp_path / "nowhere.semid")
    assert isinstance(caught.value, FileNotFoundError) and str(tmp_path) in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(semid.IndexNotFoundError, match="not a semid index"):
        semid.Index.open(tmp_path / "empty")


def test_corrupted_shard(tmp_path):
    index = copy_index(BUNDLED, tmp_path / "copy.semid")
    shard = index / "ids-00000.zst"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(semid.CorruptIndexError, match="checksum mismatch"):
        semid.Index.open(index)


def test_corrupted_catalog(tmp_path):
    index = copy_index(BUNDLED, tmp_path / "copy.semid")
    with open(index / "catalog.sqlite", "r+b") as f:
        f.seek(5000)
        f.write(b"\x00garbage\x00")
    # Every open verifies the catalog's checksum (docs/safety.md), not only its first use.
    with pytest.raises(semid.CorruptIndexError, match="catalog.sqlite: checksum mismatch"):
        semid.Index.open(index)


def test_wrong_dtypes(bundled):
    with pytest.raises(TypeError, match="integer array"):
        bundled.allowed_next(np.zeros((2, 1), dtype=np.float32))
    with pytest.raises(TypeError, match="integer array"):
        bundled.item_of(np.zeros((2, bundled.id_length)))
    with pytest.raises(TypeError, match="floating-point"):
        bundled.encode(np.zeros((2, bundled.dimension), dtype=np.int32))
    with pytest.raises(TypeError, match="floating-point"):
        semid.build(np.zeros((20, 4), dtype=np.int64), out="/tmp/never.semid")
    with pytest.raises(ValueError, match="outside int32"):
        bundled.item_of(np.full((1, bundled.id_length), 2**40))


def test_wrong_shapes(bundled):
    with pytest.raises(ValueError, match=r"2-D \[rows, t\].*prefixes\[None, :\]"):
        bundled.allowed_next(np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError, match=f"{bundled.id_length} columns"):
        bundled.item_of(np.zeros((2, bundled.id_length - 1), dtype=np.int32))
    with pytest.raises(ValueError, match=rf"\[n, {bundled.dimension}\]"):
        bundled.encode(np.zeros((2, bundled.dimension + 1), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        semid.build(np.zeros(10, dtype=np.float32), out="/tmp/never.semid")
    with pytest.raises(ValueError, match="600 rows"):
        semid.build(np.zeros((600, 4), dtype=np.float32), ["a"], out="/tmp/never.semid")


def test_prefixes_longer_than_the_id(bundled):
    with pytest.raises(ValueError, match=f"longer than this index's IDs \\({bundled.id_length} codes\\)"):
        bundled.allowed_next(np.zeros((2, bundled.id_length + 1), dtype=np.int32))


def test_non_finite_embeddings(bundled, tmp_path):
    x = np.zeros((3, bundled.dimension), dtype=np.float32)
    x[1, 4] = np.nan
    with pytest.raises(semid.InvalidArgumentError, match="row 1, column 4 is not finite"):
        bundled.encode(x)
    y = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    y[7, 2] = np.inf
    with pytest.raises(semid.InvalidArgumentError, match="row 7, column 2 is not finite"):
        semid.build(y, levels=2, codebook_size=4, out=tmp_path / "x.semid")


def test_bad_build_options(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    with pytest.raises(semid.InvalidArgumentError, match="collisions"):
        semid.build(x, collisions="greedy", out=tmp_path / "x.semid")
    with pytest.raises(semid.InvalidArgumentError, match="method"):
        semid.build(x, method="random", out=tmp_path / "x.semid")
    with pytest.raises(semid.InvalidArgumentError, match="cannot learn 256 codes from 50 vectors"):
        semid.build(x, out=tmp_path / "x.semid")
    with pytest.raises(semid.IndexNotFoundError):
        semid.build(x, tmp_path / "no-items.jsonl", levels=2, codebook_size=4, out=tmp_path / "x.semid")
    with pytest.raises(ValueError, match="row i must be item i"):
        semid.build(x, [{"item": 3, "title": "t"}] * 50, levels=2, codebook_size=4, out=tmp_path / "x.semid")


def test_token_templates():
    assert semid.token_name("<{letter}_{code}>", 2, 7) == "<c_7>"
    assert semid.token_name("<SID_{position}_{code}>", 30, 1) == "<SID_30_1>"
    assert semid.token_name("x" * 300 + "{letter}{code}", 0, 1).endswith("a1")
    with pytest.raises(semid.InvalidArgumentError, match="unknown placeholder"):
        semid.token_name("<{level}_{code}>", 0, 0)


def test_no_trie_without_unique_ids(tmp_path):
    x = np.repeat(np.random.default_rng(0).normal(size=(10, 4)), 3, axis=0).astype(np.float32)
    index = semid.build(x, levels=1, codebook_size=4, collisions="none", out=tmp_path / "dup.semid")
    assert index.codes.shape == (30, 1)
    with pytest.raises(semid.UnsupportedError, match="same semantic ID"):
        index.allowed_next(np.zeros((1, 0), dtype=np.int32))


def test_extreme_token_values_are_dead_prefixes_not_crashes(bundled):
    bases = [10 + sum(bundled.code_sizes[:l]) for l in range(bundled.id_length)]
    generated = np.array([[np.iinfo(np.int64).min], [np.iinfo(np.int64).max], [-1]], dtype=np.int64)
    indptr, tokens = bundled.allowed_next_tokens(generated, bases, eos_token_id=3)
    assert indptr.tolist() == [0, 1, 2, 3] and tokens.tolist() == [3, 3, 3]
    with pytest.raises(semid.InvalidArgumentError, match="must be non-negative"):
        bundled.allowed_next_tokens(generated, [-5] + bases[1:])
    with pytest.raises(semid.InvalidArgumentError, match="too large"):
        from semid._native import lib
        from ctypes import byref, c_int64
        count = c_int64()
        status = lib.semid_index_allowed_next(bundled._pointer(), None, 2**62, 0, None, None, 0, byref(count))
        semid._native.check(status)
