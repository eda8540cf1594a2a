"""semid.build: an index from embeddings in memory."""

from __future__ import annotations

import os
import sys
import time
from ctypes import byref, c_char_p, c_int32, c_void_p
from typing import Callable, Optional, Sequence, Union

import numpy as np

from ._index import Index, PathLike, _address
from ._native import PROGRESS, BuildOptions, check, lib

ProgressCallback = Callable[[str, str, int, int, bool], None]


def build(embeddings, items: Union[None, PathLike, Sequence] = None, *, levels: Optional[int] = None,
          codebook_size: Union[int, Sequence[int]] = 256,
          collisions: str = "suffix", seed: int = 0, out: PathLike, method: str = "rq-kmeans",
          kmeans_iterations: Optional[int] = None, epochs: Optional[int] = None, overwrite: bool = False,
          progress: Union[bool, ProgressCallback] = False) -> Index:
    """Builds an index from `embeddings` (float [n, d], row i = item i), writes it to `out` and
    returns it opened. Same inputs and seed give the same IDs as ``semid build`` with the same
    settings.

    - `items`: None (untitled items), the path of a JSONL or LC-Rec ``*.item.json`` catalog of items
      0 .. n-1, or a sequence of n entries, each a title (str or None) or a dict with ``title``
      and/or ``source_id`` (and optionally ``item``, which must equal its position).
    - `levels`, `codebook_size`: quantizer levels L and codes per level: one int K for every
      level, or a sequence with one size per level (e.g. ``[1024, 256, 256]``). `levels` defaults
      to the sequence's length, or 3 for an int; given with a sequence, it must equal its length.
    - `collisions`: ``"suffix"`` (TIGER, one extra level), ``"sinkhorn"`` (unique at length L) or
      ``"none"``.
    - `method`: ``"rq-kmeans"`` or ``"rq-vae"``; `kmeans_iterations` / `epochs` override the
      library defaults.
    - `overwrite`: replace an existing index at `out` (never anything else).
    - `progress`: True prints progress to stderr; a callable gets
      ``(stage, detail, step, total, finished)``, from any thread. An exception it raises (also
      Ctrl-C, which arrives there) is raised once the build returns; the library cannot stop a
      build midway, so by then `out` is written.

    The write is atomic: a failed build leaves any previous index at `out` intact.
    """
    array = np.asarray(embeddings)
    if array.dtype.kind != "f":
        raise TypeError(f"embeddings must be a floating-point array, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"embeddings must be 2-D [n, d] with n, d >= 1, got shape {array.shape}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    n, d = array.shape

    options = BuildOptions()
    lib.semid_build_options_init(byref(options))
    sizes = _codebook_sizes(codebook_size, levels)
    options.levels = len(sizes)
    options.codebook_size = sizes[0]
    sizes_array = (c_int32 * len(sizes))(*sizes)
    if len(set(sizes)) > 1:
        options.codebook_sizes = sizes_array
    options.method = method.encode()
    options.collisions = collisions.encode()
    options.seed = int(seed)
    if kmeans_iterations is not None:
        if kmeans_iterations < 1:
            raise ValueError(f"kmeans_iterations must be at least 1, got {kmeans_iterations}")
        options.kmeans_iterations = int(kmeans_iterations)
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        options.epochs = int(epochs)
    options.overwrite = 1 if overwrite else 0
    callback, raised = _progress_callback(progress)
    if callback is not None:
        options.progress = callback

    items_path, source_ids, titles, keep = _items_arguments(items, n)
    path = os.fspath(out)
    pointer = c_void_p()
    check(lib.semid_build(_address(array), n, d, items_path, source_ids, titles, byref(options), os.fsencode(path),
                          byref(pointer)))
    del keep, sizes_array
    index = Index(pointer.value, path)
    if raised:
        # The library cannot stop a build midway: it finished and wrote `out`.
        index.close()
        error = raised[0]
        if hasattr(error, "add_note"):
            error.add_note(f"raised by the progress callback of semid.build; the build finished and wrote {path}")
        raise error
    return index


def _items_arguments(items, n: int):
    """(items_path, source_ids, titles, keep-alive) for semid_build."""
    if items is None:
        return None, None, None, None
    if isinstance(items, (str, bytes, os.PathLike)):
        return os.fsencode(items), None, None, None
    entries = list(items)
    if len(entries) != n:
        raise ValueError(f"items has {len(entries)} entries but the embeddings have {n} rows; row i must be item i")
    titles, sources = [], []
    for position, entry in enumerate(entries):
        if entry is None or isinstance(entry, str):
            titles.append(entry)
            sources.append(None)
        elif isinstance(entry, dict):
            unknown = set(entry) - {"item", "title", "source_id"}
            if unknown:
                raise ValueError(f"items[{position}] has unknown keys {sorted(unknown)}; use item, title, source_id")
            if "item" in entry and entry["item"] != position:
                raise ValueError(f"items[{position}] has item {entry['item']!r}; row i must be item i")
            for key in ("title", "source_id"):
                if entry.get(key) is not None and not isinstance(entry[key], str):
                    raise TypeError(f"items[{position}][{key!r}] must be a str or None, got {type(entry[key]).__name__}")
            titles.append(entry.get("title"))
            sources.append(entry.get("source_id"))
        else:
            raise TypeError(f"items[{position}] must be a title (str), None or a dict, got {type(entry).__name__}")

    def strings(values):
        if all(v is None for v in values):
            return None, None
        array = (c_char_p * n)(*[None if v is None else v.encode("utf-8") for v in values])
        return _ctypes_address(array), array

    title_pointer, title_keep = strings(titles)
    source_pointer, source_keep = strings(sources)
    return None, source_pointer, title_pointer, (title_keep, source_keep)


def _ctypes_address(array) -> int:
    from ctypes import addressof
    return addressof(array)


def _codebook_sizes(codebook_size, levels) -> list:
    """One size per level from `codebook_size` (an int or a sequence of ints) and `levels`."""
    if isinstance(codebook_size, (bool, np.bool_, str, bytes)):
        raise TypeError(f"codebook_size must be an int or a sequence of ints, got {codebook_size!r}")
    if isinstance(codebook_size, (int, np.integer)):
        sizes = [int(codebook_size)] * (3 if levels is None else int(levels))
    else:
        try:
            sizes = [int(k) for k in codebook_size]
        except (TypeError, ValueError):
            raise TypeError(f"codebook_size must be an int or a sequence of ints, got {codebook_size!r}") from None
        if not sizes:
            raise ValueError("codebook_size is an empty sequence; give one size per level")
        if len(sizes) == 1 and levels is not None:
            sizes = sizes * int(levels)
        elif levels is not None and int(levels) != len(sizes):
            raise ValueError(f"codebook_size has {len(sizes)} sizes but levels is {levels}; give one size per level")
    if not 1 <= len(sizes) <= 64:
        raise ValueError(f"levels must be in 1...64, got {len(sizes)}")
    for level, k in enumerate(sizes):
        if not 2 <= k <= 65536:
            raise ValueError(f"codebook_size at level {level + 1} is {k}; every size must be in 2...65536")
    return sizes


def _progress_callback(progress):
    """(the ctypes callback or None, a list that receives the first exception the user's function
    raises: after it the function is not called again)."""
    raised = []
    if progress is False or progress is None:
        return None, raised
    if progress is True:
        start = time.monotonic()
        interactive = sys.stderr.isatty()

        def report(stage, detail, step, total, finished):
            if not (interactive or finished):
                return
            line = stage + (f" {step}/{total}" if total > 0 else f" {step}" if step > 0 else "")
            line += f"  {detail}" if detail else ""
            line += f"  [{time.monotonic() - start:.1f}s]"
            sys.stderr.write(("\r\x1b[K" if interactive else "") + line + ("\n" if finished else ""))
            sys.stderr.flush()
        function = report
    elif callable(progress):
        function = progress
    else:
        raise TypeError("progress must be True, False or a callable (stage, detail, step, total, finished)")

    def trampoline(stage, detail, step, total, finished, _context):
        if raised:
            return
        try:
            function(stage.decode("utf-8", "replace"), detail.decode("utf-8", "replace"), step, total, bool(finished))
        except BaseException as error:  # also KeyboardInterrupt, delivered here during a build
            raised.append(error)
    return PROGRESS(trampoline), raised
