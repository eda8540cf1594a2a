"""Shared fixtures: the bundled Beauty index, small indexes built here, the semid CLI."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import semid

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "Codebooks" / "beauty.semid"


def clustered(rows, cols, clusters, seed):
    """Gaussian clusters with noise, float32 [rows, cols]."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, cols))
    labels = rng.integers(0, clusters, rows)
    return (centers[labels] + 0.3 * rng.normal(size=(rows, cols))).astype(np.float32)


@pytest.fixture(scope="session")
def semid_cli():
    """The `semid` executable: $SEMID_CLI (set by `make test`), else a build in the checkout."""
    explicit = os.environ.get("SEMID_CLI")
    candidates = [Path(explicit)] if explicit else [REPO / ".build-tests" / "release" / "semid",
                                                   REPO / ".build" / "release" / "semid"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    if explicit:
        pytest.fail(f"SEMID_CLI={explicit} is not an executable")
    pytest.skip("no semid executable built (make test sets SEMID_CLI)")


def run_cli(cli, *args):
    result = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, f"semid {' '.join(map(str, args))} failed: {result.stderr}"
    return result


@pytest.fixture(scope="session")
def bundled():
    """The Beauty index shipped in Codebooks/ (12,101 items, IDs 3 x 256 + suffix)."""
    with semid.Index.open(BUNDLED) as index:
        yield index


@pytest.fixture(scope="session")
def small_embeddings():
    return clustered(600, 16, 20, seed=3)


@pytest.fixture(scope="session")
def small(tmp_path_factory, small_embeddings):
    """An index built here: 600 items, 3 levels of 8 codes, suffix policy, titled items."""
    out = tmp_path_factory.mktemp("small") / "small.semid"
    titles = [f"Item {i}" for i in range(len(small_embeddings))]
    return semid.build(small_embeddings, titles, levels=3, codebook_size=8, seed=3, out=out)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """16 items with IDs of 2 codes of 4 plus a suffix: small enough to enumerate every ID."""
    out = tmp_path_factory.mktemp("tiny") / "tiny.semid"
    return semid.build(clustered(16, 8, 4, seed=11), levels=2, codebook_size=4, seed=1, out=out)


def copy_index(source, target):
    shutil.copytree(source, target)
    return target
