"""allowed_next against a brute-force reference and against the CLI's NumPy trie export."""

import json

import numpy as np
import pytest

from conftest import BUNDLED, run_cli


def brute_force(codes, prefix):
    """The codes that follow `prefix` among the IDs themselves, ascending."""
    t = len(prefix)
    if t == codes.shape[1]:
        return np.empty(0, dtype=np.int32)
    rows = np.all(codes[:, :t] == np.asarray(prefix, dtype=np.int32), axis=1)
    return np.unique(codes[rows, t])


def random_prefixes(rng, index, rows, t):
    """Half prefixes of real IDs, half random codes (some outside their position's range)."""
    real = index.codes[rng.integers(0, index.num_items, rows), :t]
    noise = np.stack([rng.integers(-1, k + 1, rows) for k in index.code_sizes[:t]], axis=1) if t else real
    choose = rng.random(rows) < 0.5
    return np.where(choose[:, None], real, noise).astype(np.int32).reshape(rows, t)


@pytest.mark.parametrize("which", ["bundled", "small", "tiny"])
def test_allowed_next_equals_brute_force_on_random_prefixes(which, request):
    index = request.getfixturevalue(which)
    rng = np.random.default_rng(42)
    codes = index.codes
    for t in range(index.id_length + 1):
        prefixes = random_prefixes(rng, index, 300, t)
        indptr, allowed = index.allowed_next(prefixes)
        assert indptr.dtype == np.int64 and allowed.dtype == np.int32
        assert indptr.shape == (301,) and indptr[0] == 0 and indptr[-1] == allowed.size
        for b, prefix in enumerate(prefixes):
            np.testing.assert_array_equal(allowed[indptr[b]:indptr[b + 1]], brute_force(codes, prefix),
                                          err_msg=f"prefix {prefix.tolist()}")


def test_a_batch_larger_than_the_preallocated_bound_is_sized_exactly(bundled):
    # 20,000 empty prefixes x 256 codes is past the bound the bindings allocate up front.
    indptr, allowed = bundled.allowed_next(np.zeros((20000, 0), dtype=np.int32))
    root = brute_force(bundled.codes, [])
    assert allowed.size == 20000 * root.size
    np.testing.assert_array_equal(allowed[indptr[7]:indptr[8]], root)


def test_every_real_prefix_allows_something_and_a_complete_id_nothing(bundled):
    codes = bundled.codes
    for t in range(bundled.id_length):
        indptr, _ = bundled.allowed_next(codes[:, :t])
        assert np.all(np.diff(indptr) > 0)
    indptr, allowed = bundled.allowed_next(codes)
    assert allowed.size == 0 and np.all(indptr == 0)


def load_trie_export(directory):
    """Reads `semid export --format trie` with NumPy alone."""
    meta = json.loads((directory / "trie.json").read_text())
    offsets = [np.load(directory / name) for name in meta["offsets"]]
    tokens = [np.load(directory / name) for name in meta["tokens"]]
    return meta, offsets, tokens, np.load(directory / meta["leaf_items"])


def walk(offsets, tokens, prefix):
    """The allowed next codes after `prefix` from the exported CSR arrays, or None at a leaf."""
    node = 0
    for level, code in enumerate(prefix):
        row = tokens[level][offsets[level][node]:offsets[level][node + 1]]
        j = np.searchsorted(row, code)
        if j == row.size or row[j] != code:
            return np.empty(0, dtype=np.int32), None
        node = offsets[level][node] + j
    if len(prefix) == len(offsets):
        return np.empty(0, dtype=np.int32), node
    return tokens[len(prefix)][offsets[len(prefix)][node]:offsets[len(prefix)][node + 1]], node


def test_the_numpy_trie_export_gives_the_same_answers(bundled, semid_cli, tmp_path):
    run_cli(semid_cli, "export", BUNDLED, "--format", "trie", "--out", tmp_path / "trie")
    meta, offsets, tokens, leaf_items = load_trie_export(tmp_path / "trie")
    assert meta["code_sizes"] == bundled.code_sizes and meta["items"] == bundled.num_items
    assert all(a.dtype == np.int32 for a in offsets + tokens + [leaf_items])
    rng = np.random.default_rng(7)
    for t in range(bundled.id_length + 1):
        prefixes = random_prefixes(rng, bundled, 200, t)
        indptr, allowed = bundled.allowed_next(prefixes)
        for b, prefix in enumerate(prefixes):
            expected, _ = walk(offsets, tokens, prefix)
            np.testing.assert_array_equal(allowed[indptr[b]:indptr[b + 1]], expected)
    # The leaves map back to the items.
    for item in rng.integers(0, bundled.num_items, 300):
        _, leaf = walk(offsets, tokens, bundled.codes[item])
        assert leaf_items[leaf] == item


def test_the_hf_tokens_export_is_the_token_vocabulary(bundled, semid_cli, tmp_path):
    run_cli(semid_cli, "export", BUNDLED, "--format", "hf-tokens", "--out", tmp_path / "tokens.json")
    assert json.loads((tmp_path / "tokens.json").read_text()) == bundled.token_vocabulary()
    run_cli(semid_cli, "export", BUNDLED, "--format", "hf-tokens", "--token-template", "<s_{letter}_{code}>",
            "--out", tmp_path / "tokens.json", "--force")
    assert json.loads((tmp_path / "tokens.json").read_text()) == bundled.token_vocabulary("<s_{letter}_{code}>")
