"""A build in steps, for embeddings that are not in one process's memory (see semid.spark):
the training rows, codebooks trained on them, encoding with codebooks, an index from raw codes.
With the same settings and seed the result has the IDs ``semid build`` gives, byte for byte."""

from __future__ import annotations

import os
from ctypes import byref, c_int32, c_int64, c_void_p
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

import numpy as np

from ._build import _items_arguments, _progress_callback
from ._index import Index, PathLike, _address
from ._native import CodebookOptions, LevelReport, check, lib

BUFFER_TOO_SMALL = 7  # SEMID_ERROR_BUFFER_TOO_SMALL


@dataclass(frozen=True)
class CodebookSettings:
    """RQ-KMeans settings of a build in steps; the flags of ``semid build`` of the same names.
    None means the library's default (that of ``semid build``).

    - `levels`: quantizer levels L; `codebook_size`: codes per level K, one int for every level
      or one per level (a list of L; then `levels` may be left out).
    - `collisions`: ``"suffix"`` or ``"none"`` (``"sinkhorn"`` needs the vectors: use
      :func:`semid.build`).
    - `kmeans_warmup`: ``"auto"``, ``"none"`` or increasing subspace dimensions.
    """

    levels: Optional[int] = None
    codebook_size: Union[int, Sequence[int]] = 256
    seed: int = 0
    collisions: str = "suffix"
    kmeans_iterations: Optional[int] = None
    kmeans_tolerance: Optional[float] = None
    max_points_per_centroid: Optional[int] = None
    kmeans_init: Optional[str] = None
    kmeans_warmup: Union[str, Sequence[int]] = "auto"
    warmup_iterations: Optional[int] = None
    warmup_tolerance: Optional[float] = None
    kmeans_restarts: Optional[int] = None
    kmeans_refinement: Optional[int] = None
    rows_per_shard: Optional[int] = None

    @property
    def codebook_sizes(self) -> List[int]:
        """K per level (L values)."""
        if isinstance(self.codebook_size, (int, np.integer)):
            levels = 3 if self.levels is None else int(self.levels)
            return [int(self.codebook_size)] * max(levels, 0)
        sizes = [int(k) for k in self.codebook_size]
        if self.levels is not None and len(sizes) != self.levels:
            raise ValueError(f"codebook_size lists {len(sizes)} sizes but levels is {self.levels}; "
                             "give one size per level (or one size for all)")
        return sizes

    @property
    def total_codes(self) -> int:
        """Codebook rows over all levels, sum of K_l."""
        return sum(self.codebook_sizes)

    def options(self, overwrite: bool = False, progress=None) -> CodebookOptions:
        """The semid_codebook_options of these settings (the library checks every value)."""
        options = CodebookOptions()
        lib.semid_codebook_options_init(byref(options))
        keep = []  # arrays the struct points to, alive as long as it is
        sizes = self.codebook_sizes
        options.levels = len(sizes)
        if isinstance(self.codebook_size, (int, np.integer)):
            options.codebook_size = int(self.codebook_size)
        else:
            array = (c_int32 * max(len(sizes), 1))(*sizes)
            keep.append(array)
            options.codebook_sizes = c_void_p(_ctypes_address(array))
            options.codebook_size = sizes[0] if sizes else 0
        options.seed = int(self.seed)
        options.collisions = self.collisions.encode()
        for name in ("kmeans_iterations", "max_points_per_centroid", "warmup_iterations", "kmeans_restarts",
                     "kmeans_refinement", "rows_per_shard"):
            value = getattr(self, name)
            if value is not None:
                setattr(options, name, int(value))
        for name in ("kmeans_tolerance", "warmup_tolerance"):
            value = getattr(self, name)
            if value is not None:
                setattr(options, name, float(value))
        if self.kmeans_init is not None:
            options.kmeans_init = self.kmeans_init.encode()
        warmup = self.kmeans_warmup
        if isinstance(warmup, str):
            if warmup == "none":
                empty = (c_int32 * 1)(0)
                keep.append(empty)
                options.warmup_dimensions = c_void_p(_ctypes_address(empty))
                options.warmup_dimension_count = 0
            elif warmup != "auto":
                raise ValueError(f"kmeans_warmup must be 'auto', 'none' or increasing dimensions, got {warmup!r}")
        else:
            dims = [int(v) for v in warmup]
            array = (c_int32 * max(len(dims), 1))(*dims)
            keep.append(array)
            options.warmup_dimensions = c_void_p(_ctypes_address(array))
            options.warmup_dimension_count = len(dims)
        options.overwrite = 1 if overwrite else 0
        if progress is not None:
            options.progress = progress
        options.keep = keep
        return options


    def check(self) -> None:
        """Raises what the library says about these settings (InvalidArgumentError naming the
        option), without any data."""
        options = self.options()
        needed = c_int64(0)
        status = lib.semid_training_rows(max(self.codebook_sizes, default=2), byref(options), None, 0, byref(needed))
        if status != BUFFER_TOO_SMALL:
            check(status)


def _ctypes_address(array) -> int:
    from ctypes import addressof
    return addressof(array)


def _float_matrix(value, name: str, columns: Optional[int] = None) -> np.ndarray:
    """`value` as C-contiguous float32 [rows, columns] (no copy when it already is one)."""
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {array.shape}")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} has {array.shape[1]} columns, expected {columns}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _codebook_matrix(codebooks, settings: CodebookSettings) -> np.ndarray:
    books = _float_matrix(codebooks, "codebooks")
    if books.shape[0] != settings.total_codes or books.shape[1] < 1:
        raise ValueError(f"codebooks must be [sum K_l, d] = [{settings.total_codes}, d] for codebook sizes "
                         f"{settings.codebook_sizes}, got shape {books.shape}")
    return books


def training_rows(items: int, settings: CodebookSettings) -> np.ndarray:
    """The rows (int64, ascending) of an `items`-row input that training with `settings` reads:
    the union of every level's seeded sample (all rows when a level trains on all). A function of
    (items, settings, seed) only; at most 512 x K per level with the default settings."""
    options = settings.options()
    needed = c_int64(0)
    status = lib.semid_training_rows(int(items), byref(options), None, 0, byref(needed))
    if status != BUFFER_TOO_SMALL:
        check(status)
    rows = np.empty(needed.value, dtype=np.int64)
    check(lib.semid_training_rows(int(items), byref(options), _address(rows) if rows.size else None, rows.size,
                                  byref(needed)))
    return rows


def train_codebooks(sample, rows, items: int, settings: CodebookSettings, *, progress=False):
    """Trains the codebooks from the training rows alone: `sample` is float [len(rows), d], row i =
    input row rows[i], for the rows :func:`training_rows` gives (ascending; a superset works).
    Returns (codebooks float32 [sum K_l, d], report): the codebooks ``semid build`` trains on all
    `items` rows, bit for bit, and per level a dict of ``iterations``, ``training_points``,
    ``reseeded_clusters`` and ``residual_mean_squared_norm`` (over the sample) for
    :func:`build_from_codes`. `progress` as for :func:`semid.build`."""
    x = _float_matrix(sample, "sample")
    order = np.ascontiguousarray(rows, dtype=np.int64)
    if order.shape != (x.shape[0],):
        raise ValueError(f"rows must be [{x.shape[0]}] (one per sample row), got shape {order.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"sample must have at least one row and column, got shape {x.shape}")
    levels = len(settings.codebook_sizes)
    books = np.empty((settings.total_codes, x.shape[1]), dtype=np.float32)
    report = (LevelReport * max(levels, 1))()
    callback, raised = _progress_callback(progress)
    options = settings.options(progress=callback)
    check(lib.semid_train_codebooks(_address(x), x.shape[0], x.shape[1], _address(order), int(items), byref(options),
                                    _address(books), books.size, _ctypes_address(report)))
    if raised:
        raise raised[0]
    return books, [{"iterations": r.iterations, "training_points": r.training_points,
                    "reseeded_clusters": r.reseeded_clusters,
                    "residual_mean_squared_norm": r.residual_mean_squared_norm} for r in report[:levels]]


def encode_codebooks(codebooks, vectors, settings: CodebookSettings, *, errors: bool = False,
                     level_errors: bool = False):
    """Raw codes int32 [n, L] of `vectors` (float [n, d]) under `codebooks` (float32 [sum K_l, d],
    level 0 first): exact nearest centroids, so any batch of rows gets the codes ``semid build``
    gives those rows. With `errors`, also each row's squared reconstruction error (float32 [n]);
    with `level_errors`, the squared norm of each row's residual after each level
    (float32 [n, L]). Returns the codes, or a tuple (codes, errors?, level_errors?)."""
    books = _codebook_matrix(codebooks, settings)
    x = _float_matrix(vectors, "vectors", books.shape[1])
    n, levels = x.shape[0], len(settings.codebook_sizes)
    codes = np.empty((n, levels), dtype=np.int32)
    err = np.empty(n, dtype=np.float32) if errors else None
    lev = np.empty((n, levels), dtype=np.float32) if level_errors else None
    options = settings.options()
    check(lib.semid_encode_codebooks(_address(books), books.shape[1], byref(options), _address(x) if n else None, n,
                                     _address(codes) if n else None, None if err is None or not n else _address(err),
                                     None if lev is None or not n else _address(lev)))
    if not (errors or level_errors):
        return codes
    return tuple(a for a in (codes, err, lev) if a is not None)


def build_from_codes(codebooks, raw_codes, item_errors, total_variance: float, settings: CodebookSettings, *,
                     out: PathLike, level_errors=None, training_report: Optional[Sequence[dict]] = None,
                     items: Union[None, PathLike, Sequence] = None, input_name: Optional[str] = None,
                     overwrite: bool = False, progress=False) -> Index:
    """Writes an index from every item's raw codes (int32 [n, L], row i = item i), as
    :func:`semid.build` would from the embeddings, and returns it opened.

    - `item_errors`: float32 [n] and `level_errors` (optional, float32 [n, L]) from
      :func:`encode_codebooks`; `total_variance`: mean ||x - mean||^2 of the embeddings.
    - `training_report`: what :func:`train_codebooks` returned (or None: no k-means report).
    - `items`: as for :func:`semid.build` (a catalog path, titles or dicts, or None).
    - `input_name`: how the manifest names the embeddings (e.g. the Parquet file).
    - `overwrite`, `progress`: as for :func:`semid.build`. The write is atomic and waits for the
      writer lock of an index it replaces.
    """
    books = _codebook_matrix(codebooks, settings)
    codes = np.ascontiguousarray(raw_codes)
    levels = len(settings.codebook_sizes)
    if codes.dtype.kind not in "iu" or codes.ndim != 2 or codes.shape[1] != levels or codes.shape[0] < 1:
        raise ValueError(f"raw_codes must be integers [n, {levels}] with n >= 1, got {codes.dtype} {codes.shape}")
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    n = codes.shape[0]
    errors = np.ascontiguousarray(item_errors, dtype=np.float32)
    if errors.shape != (n,):
        raise ValueError(f"item_errors must be float [{n}], got shape {errors.shape}")
    per_level = None
    if level_errors is not None:
        per_level = np.ascontiguousarray(level_errors, dtype=np.float32)
        if per_level.shape != (n, levels):
            raise ValueError(f"level_errors must be float [{n}, {levels}], got shape {per_level.shape}")
    report = None
    if training_report is not None:
        if len(training_report) != levels:
            raise ValueError(f"training_report has {len(training_report)} levels, expected {levels}")
        report = (LevelReport * levels)(*[LevelReport(int(r["iterations"]), int(r["training_points"]),
                                                      int(r["reseeded_clusters"]),
                                                      float(r["residual_mean_squared_norm"]))
                                          for r in training_report])
    callback, raised = _progress_callback(progress)
    options = settings.options(overwrite=overwrite, progress=callback)
    items_path, source_ids, titles, keep = _items_arguments(items, n)
    path = os.fspath(out)
    pointer = c_void_p()
    check(lib.semid_build_from_codes(_address(books), books.shape[1], _address(codes), n, _address(errors),
                                     None if per_level is None else _address(per_level), float(total_variance),
                                     None if report is None else _ctypes_address(report), items_path, source_ids,
                                     titles, None if input_name is None else input_name.encode(), byref(options),
                                     os.fsencode(path), byref(pointer)))
    del keep
    index = Index(pointer.value, path)
    if raised:
        index.close()
        raise raised[0]
    return index
