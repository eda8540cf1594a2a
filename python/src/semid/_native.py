"""Loads libsemidc (bundled next to this file by the install) and declares the C functions of
semid.h for ctypes. ctypes releases the GIL during every call."""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int32, c_int64, c_uint32,
                    c_uint64, c_void_p)
from pathlib import Path

from .errors import BY_STATUS, SemidError

ABI_VERSION = 2
_HERE = Path(__file__).resolve().parent
_NAMES = ("libsemidc.dylib",) if sys.platform == "darwin" else ("libsemidc.so",)


def _load():
    override = os.environ.get("SEMID_LIBRARY")
    candidates = [Path(override)] if override else [_HERE / name for name in _NAMES]
    for path in candidates:
        if path.is_file():
            try:
                return ctypes.CDLL(str(path)), path
            except OSError as error:
                raise ImportError(
                    f"semid: cannot load {path}: {error}. It links the Swift runtime of the toolchain it was "
                    "built with (see `ldd` on it); reinstall with `pip install ./python` on this machine.") from error
    raise ImportError(f"semid: the native library is missing ({', '.join(map(str, candidates))}); "
                      "install the package with `pip install ./python` from a semid checkout, which builds it")


lib, library_path = _load()

PROGRESS = CFUNCTYPE(None, c_char_p, c_char_p, c_int64, c_int64, c_int32, c_void_p)


class BuildOptions(Structure):
    """semid_build_options."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("levels", c_int32),
        ("codebook_size", c_int32),
        ("method", c_char_p),
        ("collisions", c_char_p),
        ("seed", c_uint64),
        ("kmeans_iterations", c_int32),
        ("epochs", c_int32),
        ("overwrite", c_int32),
        ("progress", PROGRESS),
        ("progress_context", c_void_p),
        ("codebook_sizes", POINTER(c_int32)),
    ]


class CodebookOptions(Structure):
    """semid_codebook_options."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("levels", c_int32),
        ("codebook_size", c_int32),
        ("codebook_sizes", c_void_p),
        ("seed", c_uint64),
        ("kmeans_iterations", c_int32),
        ("kmeans_tolerance", c_double),
        ("max_points_per_centroid", c_int32),
        ("kmeans_init", c_char_p),
        ("warmup_dimensions", c_void_p),
        ("warmup_dimension_count", c_int32),
        ("warmup_iterations", c_int32),
        ("warmup_tolerance", c_double),
        ("kmeans_restarts", c_int32),
        ("kmeans_refinement", c_int32),
        ("collisions", c_char_p),
        ("rows_per_shard", c_int64),
        ("overwrite", c_int32),
        ("progress", PROGRESS),
        ("progress_context", c_void_p),
    ]


class LevelReport(Structure):
    """semid_level_report."""

    _fields_ = [
        ("iterations", c_int64),
        ("training_points", c_int64),
        ("reseeded_clusters", c_int64),
        ("residual_mean_squared_norm", c_double),
    ]


_P = c_void_p  # every array argument is passed as an address (int)
_PROTOTYPES = {
    "semid_abi_version": (c_int32, []),
    "semid_version": (c_char_p, []),
    "semid_blas_info": (c_char_p, []),
    "semid_last_error": (c_char_p, []),
    "semid_status_name": (c_char_p, [c_int]),
    "semid_index_open": (c_int, [c_char_p, POINTER(c_void_p)]),
    "semid_index_close": (c_int, [c_void_p]),
    "semid_index_num_items": (c_int, [c_void_p, POINTER(c_int64)]),
    "semid_index_id_length": (c_int, [c_void_p, POINTER(c_int32)]),
    "semid_index_code_sizes": (c_int, [c_void_p, _P, c_int32]),
    "semid_index_levels": (c_int, [c_void_p, POINTER(c_int32)]),
    "semid_index_dimension": (c_int, [c_void_p, POINTER(c_int32)]),
    "semid_index_codes": (c_int, [c_void_p, POINTER(c_void_p)]),
    "semid_index_raw_codes": (c_int, [c_void_p, POINTER(c_void_p)]),
    "semid_index_manifest_json": (c_int, [c_void_p, POINTER(c_char_p)]),
    "semid_index_catalog_strings": (c_int, [c_void_p, c_int32, POINTER(c_void_p), POINTER(c_void_p),
                                            POINTER(c_void_p)]),
    "semid_index_item_of": (c_int, [c_void_p, _P, c_int64, c_int32, _P]),
    "semid_index_allowed_next": (c_int, [c_void_p, _P, c_int64, c_int32, _P, _P, c_int64, POINTER(c_int64)]),
    "semid_index_allowed_next_tokens": (c_int, [c_void_p, _P, c_int64, c_int64, c_int32, _P, c_int64, _P, _P,
                                                c_int64, POINTER(c_int64)]),
    "semid_index_mask_scores": (c_int, [c_void_p, _P, c_int64, c_int64, c_int32, _P, c_int64, _P, _P, c_int64,
                                        c_int64]),
    "semid_index_encode": (c_int, [c_void_p, _P, c_int64, c_int64, _P]),
    "semid_token_name": (c_int, [c_char_p, c_int32, c_int32, _P, c_int64, POINTER(c_int64)]),
    "semid_build_options_init": (None, [POINTER(BuildOptions)]),
    "semid_build": (c_int, [_P, c_int64, c_int64, c_char_p, _P, _P, POINTER(BuildOptions), c_char_p,
                            POINTER(c_void_p)]),
    "semid_codebook_options_init": (None, [POINTER(CodebookOptions)]),
    "semid_training_rows": (c_int, [c_int64, POINTER(CodebookOptions), _P, c_int64, POINTER(c_int64)]),
    "semid_train_codebooks": (c_int, [_P, c_int64, c_int64, _P, c_int64, POINTER(CodebookOptions), _P, c_int64, _P]),
    "semid_encode_codebooks": (c_int, [_P, c_int64, POINTER(CodebookOptions), _P, c_int64, _P, _P, _P]),
    "semid_build_from_codes": (c_int, [_P, c_int64, _P, c_int64, _P, _P, c_double, _P, c_char_p, _P, _P, c_char_p,
                                       POINTER(CodebookOptions), c_char_p, POINTER(c_void_p)]),
}

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _function = getattr(lib, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes

if lib.semid_abi_version() != ABI_VERSION:
    raise ImportError(f"semid: {library_path} implements ABI version {lib.semid_abi_version()}, "
                      f"this Python package needs {ABI_VERSION}; reinstall with `pip install ./python`")


def error_for(status: int) -> SemidError:
    """The exception for a failed call's status, with the library's message for this thread."""
    message = lib.semid_last_error().decode("utf-8", "replace")
    return BY_STATUS.get(status, SemidError)(message or lib.semid_status_name(status).decode())


def check(status: int) -> None:
    """Raises the exception of a non-zero status."""
    if status != 0:
        raise error_for(status)
