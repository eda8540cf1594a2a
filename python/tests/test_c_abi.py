"""The C header is the contract: a C program compiled against semid.h with -Werror links and runs
against the bundled libsemidc, and every exported semid_* function is declared in the header."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import semid
from conftest import BUNDLED, REPO

PACKAGE = Path(semid.__file__).resolve().parent
HEADER = PACKAGE / "include" / "semid.h"

PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "semid.h"

#define CHECK(call) do { int s_ = (call); if (s_ != SEMID_OK) { \
    fprintf(stderr, "%s failed: %s: %s\n", #call, semid_status_name(s_), semid_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (semid_abi_version() != SEMID_ABI_VERSION) return 2;
    semid_index *index = NULL;
    int status = semid_index_open("/nonexistent/index", &index);
    printf("missing %s %s\n", semid_status_name(status), semid_last_error());
    CHECK(semid_index_open(argv[1], &index));
    int64_t n = 0; int32_t length = 0;
    CHECK(semid_index_num_items(index, &n));
    CHECK(semid_index_id_length(index, &length));
    int32_t sizes[16];
    CHECK(semid_index_code_sizes(index, sizes, 16));
    const int32_t *codes = NULL;
    CHECK(semid_index_codes(index, &codes));
    int64_t item = -2;
    CHECK(semid_index_item_of(index, codes + 5 * length, 1, length, &item));
    int64_t indptr[3]; int32_t next[512]; int64_t count = 0;
    int32_t firsts[2] = { codes[0], codes[length] };  /* the first codes of items 0 and 1 */
    CHECK(semid_index_allowed_next(index, firsts, 2, 1, indptr, next, 512, &count));
    status = semid_index_allowed_next(index, firsts, 2, 1, indptr, next, 0, &count);
    printf("items %lld length %d item5 %lld next %lld small %s\n", (long long)n, length, (long long)item,
           (long long)count, semid_status_name(status));
    float scores[2 * 2000];
    int64_t bases[16]; int64_t base = 1000;
    for (int l = 0; l < length; l++) { bases[l] = base; base += sizes[l]; }
    int64_t generated[2] = { bases[0] + codes[0], bases[0] + codes[length] };
    for (int i = 0; i < 4000; i++) scores[i] = 1.0f;
    CHECK(semid_index_mask_scores(index, generated, 2, 1, 1, bases, 7, scores, scores, 2000, 2000));
    int kept = 0;
    for (int i = 0; i < 4000; i++) kept += isfinite(scores[i]);
    printf("kept %d\n", kept);
    CHECK(semid_index_close(index));
    status = semid_index_close(index);
    printf("closed twice %s\n", semid_status_name(status));
    return 0;
}
"""


@pytest.fixture(scope="module")
def compiler():
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    pytest.skip("no C compiler")


def test_a_c_program_compiles_against_the_header_and_runs(compiler, tmp_path):
    assert HEADER.is_file(), "the package ships semid.h"
    source = tmp_path / "probe.c"
    source.write_text(PROGRAM)
    binary = tmp_path / "probe"
    library = Path(semid.library_path)
    subprocess.run([compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(HEADER.parent),
                    str(source), "-o", str(binary), str(library), f"-Wl,-rpath,{library.parent}", "-lm"], check=True)
    result = subprocess.run([str(binary), str(BUNDLED)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("missing SEMID_ERROR_NOT_FOUND /nonexistent/index")
    with semid.Index.open(BUNDLED) as index:
        indptr, allowed = index.allowed_next(index.codes[:2, :1])
        assert lines[1] == (f"items {index.num_items} length {index.id_length} item5 5 next {allowed.size} "
                            "small SEMID_ERROR_BUFFER_TOO_SMALL")
        assert lines[2] == f"kept {allowed.size}"
    assert lines[3] == "closed twice SEMID_ERROR_INVALID_ARGUMENT"


def test_every_exported_function_is_declared_in_the_header():
    if not shutil.which("nm"):
        pytest.skip("no nm")
    exported = subprocess.run(["nm", "-D", "--defined-only", semid.library_path], capture_output=True, text=True,
                              check=True).stdout
    symbols = {line.split()[-1] for line in exported.splitlines() if re.search(r" T semid_\w+$", line)}
    declared = set(re.findall(r"\b(semid_\w+)\s*\(", HEADER.read_text()))
    # The AMX matrix kernels (CSemidKernels) share the prefix but are not part of the ABI.
    kernels = set()
    for header in (REPO / "Sources" / "CSemidKernels" / "include").glob("*.h"):
        kernels |= set(re.findall(r"\b(semid_\w+)\s*\(", header.read_text()))
    assert declared <= symbols, f"declared but not exported: {sorted(declared - symbols)}"
    assert symbols - kernels <= declared, f"exported but not declared: {sorted(symbols - kernels - declared)}"


def test_the_library_finds_its_swift_runtime_without_environment(tmp_path):
    """`import semid` from a clean environment (no LD_LIBRARY_PATH, no PYTHONPATH tricks)."""
    import sys
    result = subprocess.run(["env", "-i", sys.executable, "-c", "import semid; print(semid.blas_info())"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OpenBLAS" in result.stdout
    if shutil.which("ldd"):
        ldd = subprocess.run(["ldd", semid.library_path], capture_output=True, text=True).stdout
        assert "not found" not in ldd, ldd
