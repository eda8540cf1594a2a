"""Index.open and what it exposes, against the CLI's exports and the catalog read with sqlite3."""

import json
import sqlite3

import numpy as np
import pytest

import semid
from conftest import BUNDLED, run_cli


def test_sizes_match_the_manifest(bundled):
    manifest = json.loads((BUNDLED / "manifest.json").read_text())
    assert bundled.num_items == len(bundled) == manifest["items"] == 12101
    assert bundled.id_length == manifest["id_length"]
    assert bundled.code_sizes == manifest["code_sizes"]
    assert bundled.levels == manifest["parameters"]["levels"] == 3
    assert bundled.dimension == manifest["parameters"]["dimension"]
    assert bundled.manifest["shards"] == manifest["shards"]


def test_codes_equal_the_cli_npy_export(bundled, semid_cli, tmp_path):
    run_cli(semid_cli, "export", BUNDLED, "--format", "npy", "--out", tmp_path / "ids.npy")
    exported = np.load(tmp_path / "ids.npy")
    codes = bundled.codes
    assert codes.dtype == np.int32 and codes.shape == (12101, bundled.id_length)
    np.testing.assert_array_equal(codes, exported)
    assert bundled.raw_codes.shape == (12101, bundled.levels)
    if bundled.manifest["parameters"]["collision_policy"]["name"] == "suffix":
        np.testing.assert_array_equal(bundled.raw_codes, exported[:, :bundled.levels])  # raw codes, then the rank


def test_codes_are_read_only_views_without_copies(bundled):
    a, b = bundled.codes, bundled.codes
    assert np.shares_memory(a, b)
    assert not a.flags.writeable and not a.flags.owndata
    with pytest.raises(ValueError):
        a[0, 0] = 1


def test_titles_and_source_ids_equal_the_catalog(bundled, semid_cli, tmp_path):
    with sqlite3.connect(f"file:{BUNDLED / 'catalog.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT item, title, source_id FROM items ORDER BY item").fetchall()
    assert [r[1] for r in rows] == bundled.titles
    assert [r[2] for r in rows] == bundled.source_ids
    run_cli(semid_cli, "export", BUNDLED, "--format", "tsv", "--out", tmp_path / "ids.tsv")
    lines = (tmp_path / "ids.tsv").read_text().splitlines()[1:]
    assert [line.split("\t")[1] or None for line in lines] == bundled.source_ids
    item = bundled.items([7])[0]
    assert item == semid.Item(7, rows[7][2], rows[7][1], tuple(int(c) for c in bundled.codes[7]))
    with pytest.raises(IndexError):
        bundled.items([-1])


def test_item_of_inverts_codes_and_rejects_other_ids(bundled):
    codes = bundled.codes
    np.testing.assert_array_equal(bundled.item_of(codes), np.arange(12101))
    rng = np.random.default_rng(0)
    probes = np.stack([rng.integers(-1, k + 1, 2000) for k in bundled.code_sizes], axis=1).astype(np.int32)
    known = {tuple(row): i for i, row in enumerate(codes.tolist())}
    expected = [known.get(tuple(row), -1) for row in probes.tolist()]
    np.testing.assert_array_equal(bundled.item_of(probes), expected)
    assert bundled.item_of(np.empty((0, bundled.id_length), dtype=np.int64)).shape == (0,)
    # Other integer widths are converted.
    assert bundled.item_of(codes[:3].astype(np.int64)).tolist() == [0, 1, 2]


def test_the_lc_rec_export_names_the_same_tokens(bundled, semid_cli, tmp_path):
    run_cli(semid_cli, "export", BUNDLED, "--format", "lcrec", "--out", tmp_path / "index.json")
    lcrec = json.loads((tmp_path / "index.json").read_text())
    vocabulary = bundled.token_vocabulary()
    offsets = np.cumsum([0] + bundled.code_sizes[:-1])
    for item in (0, 1, 12100):
        assert lcrec[str(item)] == [vocabulary[offsets[l] + c] for l, c in enumerate(bundled.codes[item])]


def test_closing(tmp_path):
    index = semid.Index.open(BUNDLED)
    codes = index.codes
    first = codes[:5].copy()
    with index:
        pass
    assert index.closed and "closed" in repr(index)
    with pytest.raises(ValueError, match="closed"):
        index.allowed_next(np.zeros((1, 0), dtype=np.int32))
    with pytest.raises(ValueError, match="closed"):
        _ = index.codes
    np.testing.assert_array_equal(codes[:5], first)  # the view keeps its memory alive
    index.close()  # twice is fine
