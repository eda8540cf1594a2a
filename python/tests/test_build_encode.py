"""semid.build and Index.encode: the quantizer built here reproduces its own raw codes, builds are
deterministic and agree with `semid build`, and item metadata arrives in the catalog."""

import json

import numpy as np
import pytest

import semid
from conftest import REPO, clustered, run_cli


def test_encode_reproduces_the_raw_codes_of_an_index_built_here(small, small_embeddings):
    assert small.dimension == 16 and small.levels == 3
    np.testing.assert_array_equal(small.encode(small_embeddings), small.raw_codes)
    # Row by row, out of order, and in other float widths: the same codes.
    order = np.random.default_rng(1).permutation(len(small_embeddings))[:97]
    np.testing.assert_array_equal(small.encode(small_embeddings[order]), small.raw_codes[order])
    np.testing.assert_array_equal(small.encode(small_embeddings[5:6].astype(np.float64)), small.raw_codes[5:6])
    assert small.encode(np.empty((0, 16), dtype=np.float32)).shape == (0, 3)


def test_encode_reproduces_the_stored_raw_codes_of_the_bundled_index(bundled):
    """The shipped Beauty index was built from the bundled embeddings; its frozen quantizer gives
    them back their stored raw codes (and, through item_of, their items). The quantizer's argmin
    runs on BLAS distances, so another OpenBLAS kernel may flip a near-tie: at most 0.1% of rows
    may differ (none do on the development machine)."""
    embeddings = np.load(REPO / "Datasets" / "amazon-beauty" / "embeddings.npy")
    assert embeddings.shape == (bundled.num_items, bundled.dimension)
    codes = bundled.encode(embeddings)
    assert codes.dtype == np.int32 and codes.shape == bundled.raw_codes.shape
    differ = np.any(codes != bundled.raw_codes, axis=1)
    assert differ.mean() <= 1e-3, f"{differ.sum()} of {len(codes)} items encode to other codes than stored"
    if bundled.manifest["parameters"]["collision_policy"]["name"] == "suffix":
        # Raw codes plus the stored suffix are the item's ID.
        ids = np.concatenate([codes, bundled.codes[:, bundled.levels:]], axis=1)
        np.testing.assert_array_equal(bundled.item_of(ids)[~differ], np.arange(bundled.num_items)[~differ])


def test_suffix_ids_are_unique_and_extend_the_raw_codes(small):
    codes = small.codes
    assert small.id_length == 4 and len({tuple(r) for r in codes.tolist()}) == small.num_items
    np.testing.assert_array_equal(codes[:, :3], small.raw_codes)
    assert small.code_sizes[:3] == [8, 8, 8]


def test_per_level_codebook_sizes_from_a_list_match_the_cli(small_embeddings, semid_cli, tmp_path):
    index = semid.build(small_embeddings, codebook_size=[16, 8, 4], seed=5, out=tmp_path / "nu.semid")
    assert index.levels == 3 and index.code_sizes[:3] == [16, 8, 4]
    assert index.manifest["parameters"]["codebook_sizes"] == [16, 8, 4]
    assert "codebook_size" not in index.manifest["parameters"]
    for level, size in enumerate([16, 8, 4]):
        assert 0 <= index.raw_codes[:, level].min() and index.raw_codes[:, level].max() < size
    assert len({tuple(r) for r in index.codes.tolist()}) == index.num_items
    np.testing.assert_array_equal(index.encode(small_embeddings), index.raw_codes)
    # Allowed next codes at the root are level 0's codes in use.
    np.save(tmp_path / "emb.npy", small_embeddings)
    run_cli(semid_cli, "build", "--embeddings", tmp_path / "emb.npy", "--codebook-size", "16,8,4",
            "--seed", 5, "--quiet", "--out", tmp_path / "cli.semid")
    with semid.Index.open(tmp_path / "cli.semid") as cli:
        np.testing.assert_array_equal(cli.codes, index.codes)
    # One value and a list of one value repeat over `levels`; a uniform list is the uniform build.
    same = semid.build(small_embeddings, levels=2, codebook_size=[8], seed=5, out=tmp_path / "one.semid")
    assert same.code_sizes[:2] == [8, 8] and same.manifest["parameters"]["codebook_size"] == 8
    uniform = semid.build(small_embeddings, codebook_size=[8, 8, 8], seed=5, out=tmp_path / "u.semid")
    plain = semid.build(small_embeddings, levels=3, codebook_size=8, seed=5, out=tmp_path / "p.semid")
    np.testing.assert_array_equal(uniform.codes, plain.codes)
    assert (tmp_path / "u.semid" / "manifest.json").read_bytes() == (tmp_path / "p.semid" / "manifest.json").read_bytes()


@pytest.mark.parametrize("kwargs, message", [
    (dict(codebook_size=[16, 8], levels=3), "levels is 3"),
    (dict(codebook_size=[16, 1, 4]), "level 2 is 1"),
    (dict(codebook_size=[]), "empty"),
    (dict(codebook_size="16,8"), "codebook_size"),
])
def test_bad_codebook_size_lists(small_embeddings, tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        semid.build(small_embeddings, out=tmp_path / "bad.semid", **kwargs)
    assert not (tmp_path / "bad.semid").exists()


def test_titles_from_a_list(small):
    assert small.titles[:3] == ["Item 0", "Item 1", "Item 2"] and small.source_ids[0] is None


def test_same_seed_same_ids_and_the_cli_agrees(small_embeddings, semid_cli, tmp_path):
    a = semid.build(small_embeddings, levels=3, codebook_size=8, seed=5, out=tmp_path / "a.semid")
    b = semid.build(small_embeddings, levels=3, codebook_size=8, seed=5, out=tmp_path / "b.semid")
    np.testing.assert_array_equal(a.codes, b.codes)
    np.save(tmp_path / "emb.npy", small_embeddings)
    run_cli(semid_cli, "build", "--embeddings", tmp_path / "emb.npy", "--levels", 3, "--codebook-size", 8,
            "--seed", 5, "--quiet", "--out", tmp_path / "cli.semid")
    with semid.Index.open(tmp_path / "cli.semid") as cli:
        np.testing.assert_array_equal(cli.codes, a.codes)
        np.testing.assert_array_equal(cli.raw_codes, a.raw_codes)
    inputs = a.manifest["batches"][0]["inputs"][0]
    assert inputs["file"] == "<memory float32>" and inputs["rows"] == 600 and inputs["columns"] == 16
    assert inputs["bytes"] == small_embeddings.nbytes


def test_items_as_dicts_or_a_file(tmp_path):
    embeddings = clustered(40, 8, 4, seed=2)
    items = [{"title": f"T{i}", "source_id": f"S{i}"} for i in range(40)]
    index = semid.build(embeddings, items, levels=2, codebook_size=4, out=tmp_path / "d.semid")
    assert index.titles[3] == "T3" and index.source_ids[39] == "S39"
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"item": i, "source_id": f"A{i}", "title": f"Ü{i}"}) + "\n" for i in range(40)))
    index = semid.build(embeddings, path, levels=2, codebook_size=4, out=tmp_path / "f.semid")
    assert index.titles[0] == "Ü0" and index.source_ids[1] == "A1"
    mixed = semid.build(embeddings, ["x", None] * 20, levels=2, codebook_size=4, out=tmp_path / "m.semid")
    assert mixed.titles[:2] == ["x", None]


def test_progress_reaches_the_callback(tmp_path):
    events = []
    semid.build(clustered(64, 8, 4, seed=2), levels=2, codebook_size=4, out=tmp_path / "p.semid",
                progress=lambda *event: events.append(event))
    assert events and all(isinstance(stage, str) for stage, *_ in events)
    assert any(finished for *_, finished in events)


def test_an_exception_in_the_progress_callback_is_raised_after_the_build(tmp_path):
    calls = []

    def failing(*event):
        calls.append(event)
        raise RuntimeError("stop reporting")

    with pytest.raises(RuntimeError, match="stop reporting"):
        semid.build(clustered(64, 8, 4, seed=2), levels=2, codebook_size=4, out=tmp_path / "p.semid",
                    progress=failing)
    assert len(calls) == 1, "the callback is not called again after it raised"
    with semid.Index.open(tmp_path / "p.semid") as index:  # the build itself finished
        assert index.num_items == 64


def test_rq_vae_builds_and_encodes(tmp_path):
    embeddings = clustered(256, 16, 8, seed=4)
    vae = semid.build(embeddings, levels=2, codebook_size=8, method="rq-vae", epochs=3, out=tmp_path / "vae.semid")
    assert vae.manifest["parameters"]["method"] == "rq-vae" and vae.dimension == 16
    np.testing.assert_array_equal(vae.encode(embeddings), vae.raw_codes)


def test_sinkhorn_ids_keep_the_length_and_are_unique(tmp_path):
    embeddings = np.random.default_rng(4).normal(size=(200, 16)).astype(np.float32)
    index = semid.build(embeddings, levels=3, codebook_size=8, collisions="sinkhorn", out=tmp_path / "s.semid")
    assert index.id_length == 3 and len({tuple(r) for r in index.codes.tolist()}) == 200
    np.testing.assert_array_equal(index.encode(embeddings), index.raw_codes)
    np.testing.assert_array_equal(index.item_of(index.codes), np.arange(200))


def test_writing_is_refused_or_atomic(tmp_path, small_embeddings):
    out = tmp_path / "x.semid"
    first = semid.build(small_embeddings, levels=2, codebook_size=8, out=out)
    before = first.codes.copy()
    with pytest.raises(semid.OutputExistsError, match="already exists"):
        semid.build(small_embeddings, levels=2, codebook_size=8, out=out)
    with pytest.raises(semid.InvalidArgumentError):
        semid.build(small_embeddings, levels=2, codebook_size=1000, out=out, overwrite=True)
    with semid.Index.open(out) as still:  # a failed build leaves the previous index intact
        np.testing.assert_array_equal(still.codes, before)
    replaced = semid.build(small_embeddings, levels=3, codebook_size=8, out=out, overwrite=True)
    assert replaced.levels == 3
    (tmp_path / "notes").mkdir()
    with pytest.raises(semid.InvalidArgumentError, match="not a semid index"):
        semid.build(small_embeddings, levels=2, codebook_size=8, out=tmp_path / "notes", overwrite=True)
