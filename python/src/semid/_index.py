"""semid.Index: an open index directory, read through libsemidc."""

from __future__ import annotations

import json
import os
import threading
from ctypes import byref, c_char_p, c_int32, c_int64, c_uint8, c_void_p, string_at
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._native import check, lib

PathLike = Union[str, "os.PathLike[str]"]
_BUFFER_TOO_SMALL = 7
#: Answers of at most this many entries are written into a buffer of the largest possible size;
#: larger batches ask for the exact size first.
_LARGE = 1 << 22


class _Handle:
    """Owns one `semid_index *`; closes it when the last reference (the Index or an array view
    of its memory) goes away."""

    __slots__ = ("pointer", "__weakref__")

    def __init__(self, pointer: int):
        self.pointer = pointer

    def __del__(self):
        pointer, self.pointer = self.pointer, None
        if pointer and lib is not None:
            lib.semid_index_close(pointer)


class _Buffer:
    """Exposes memory owned by an index handle to NumPy without copying; keeps the handle alive."""

    def __init__(self, handle: _Handle, address: int, shape: Tuple[int, ...], typestr: str):
        self.handle = handle
        self.__array_interface__ = {"data": (address, True), "shape": shape, "typestr": typestr, "version": 3}


def _view(handle: _Handle, address: int, shape: Tuple[int, ...], dtype) -> np.ndarray:
    if 0 in shape:
        return np.empty(shape, dtype=dtype)
    return np.asarray(_Buffer(handle, address, shape, np.dtype(dtype).str))


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def int_matrix(value, name: str, columns: Optional[int] = None, columns_text: str = "t") -> np.ndarray:
    """`value` as a C-contiguous int32 [rows, columns] array (no copy when it already is one).

    Integer arrays of other widths are converted when every value fits int32; anything else raises
    TypeError (not integers) or ValueError (not 2-D, wrong width, out of range)."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array (int32 codes), got dtype {array.dtype}")
    if array.ndim != 2:
        hint = " (one prefix: prefixes[None, :])" if array.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D [rows, {columns_text}], got shape {array.shape}{hint}")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns ([rows, {columns_text}]), got shape {array.shape}")
    if array.dtype != np.int32:
        if array.size and (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{name} holds values outside int32")
        array = array.astype(np.int32)
    return np.ascontiguousarray(array)


class Item(NamedTuple):
    """One item of the catalog."""

    item: int
    source_id: Optional[str]
    title: Optional[str]
    semantic_id: Tuple[int, ...]


class Index:
    """An open semid index: sizes, code matrices, lookups, allowed next codes, encoding, titles.

    Open with :meth:`Index.open` (or build with :func:`semid.build`). Arrays returned by
    :attr:`codes` and :attr:`raw_codes` are read-only views of the library's memory (no copy); the
    memory is freed once the index is closed *and* no such view is left. Every method may be called
    from several threads at once (the GIL is released during library calls).
    """

    def __init__(self, pointer: int, path: str):
        self._handle: Optional[_Handle] = _Handle(pointer)
        self._path = path
        self._lock = threading.Lock()
        self._strings = {}
        out32 = c_int32()
        out64 = c_int64()
        check(lib.semid_index_num_items(pointer, byref(out64)))
        self._num_items = out64.value
        check(lib.semid_index_id_length(pointer, byref(out32)))
        self._id_length = out32.value
        check(lib.semid_index_levels(pointer, byref(out32)))
        self._levels = out32.value
        check(lib.semid_index_dimension(pointer, byref(out32)))
        self._dimension = out32.value
        sizes = np.zeros(self._id_length, dtype=np.int32)
        check(lib.semid_index_code_sizes(pointer, _address(sizes), self._id_length))
        self._code_sizes = [int(k) for k in sizes]

    @classmethod
    def open(cls, path: PathLike) -> "Index":
        """Opens the index directory at `path`, verifying every shard's checksum and the trie.

        Raises :class:`semid.IndexNotFoundError` when there is no index there and
        :class:`semid.CorruptIndexError` when a file fails its checks."""
        path = os.fspath(path)
        pointer = c_void_p()
        check(lib.semid_index_open(os.fsencode(path), byref(pointer)))
        return cls(pointer.value, path)

    # Lifetime

    def close(self) -> None:
        """Closes the index; later calls raise ValueError. Array views keep their memory alive."""
        self._handle = None

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _pointer(self) -> int:
        handle = self._handle
        if handle is None:
            raise ValueError(f"the index {self._path} is closed")
        return handle.pointer

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self._num_items} items, ID length {self._id_length}"
        return f"<semid.Index {self._path!r}: {state}>"

    def __len__(self) -> int:
        return self._num_items

    # Sizes

    @property
    def path(self) -> str:
        """The index directory."""
        return self._path

    @property
    def num_items(self) -> int:
        """Number of items n."""
        return self._num_items

    @property
    def id_length(self) -> int:
        """Codes per semantic ID (the quantizer's levels, plus one under the suffix policy)."""
        return self._id_length

    @property
    def levels(self) -> int:
        """Quantizer levels L (columns of :attr:`raw_codes` and of :meth:`encode`'s output)."""
        return self._levels

    @property
    def dimension(self) -> int:
        """Dimension of the vectors :meth:`encode` takes (0 for random / sequential IDs)."""
        return self._dimension

    @property
    def code_sizes(self) -> list:
        """Vocabulary size of each ID position (`id_length` ints)."""
        return list(self._code_sizes)

    @property
    def manifest(self) -> dict:
        """manifest.json: parameters, seed, statistics, batches, shards."""
        out = c_char_p()
        check(lib.semid_index_manifest_json(self._pointer(), byref(out)))
        return json.loads(out.value.decode("utf-8"))

    # Arrays

    @property
    def codes(self) -> np.ndarray:
        """The final semantic IDs, int32 [num_items, id_length], row i = item i (read-only, no copy)."""
        out = c_void_p()
        check(lib.semid_index_codes(self._pointer(), byref(out)))
        return _view(self._handle, out.value, (self._num_items, self._id_length), np.int32)

    @property
    def raw_codes(self) -> np.ndarray:
        """The raw quantizer codes before the collision policy, int32 [num_items, levels] (no copy)."""
        out = c_void_p()
        check(lib.semid_index_raw_codes(self._pointer(), byref(out)))
        return _view(self._handle, out.value, (self._num_items, self._levels), np.int32)

    # Catalog

    def _column(self, column: int) -> list:
        with self._lock:
            if column not in self._strings:
                data, offsets, present = c_void_p(), c_void_p(), c_void_p()
                check(lib.semid_index_catalog_strings(self._pointer(), column, byref(data), byref(offsets),
                                                      byref(present)))
                n = self._num_items
                ends = np.ctypeslib.as_array((c_int64 * (n + 1)).from_address(offsets.value)).copy()
                flags = np.ctypeslib.as_array((c_uint8 * max(n, 1)).from_address(present.value))[:n].copy()
                raw = string_at(data.value, int(ends[-1])) if ends[-1] else b""
                self._strings[column] = [raw[ends[i]:ends[i + 1]].decode("utf-8") if flags[i] else None
                                         for i in range(n)]
            return self._strings[column]

    @property
    def titles(self) -> list:
        """The title of every item (None where the catalog has none), read from catalog.sqlite once."""
        return self._column(0)

    @property
    def source_ids(self) -> list:
        """The source id of every item (e.g. an ASIN; None where none was given)."""
        return self._column(1)

    def items(self, items: Union[Sequence[int], np.ndarray]) -> list:
        """Catalog rows of the given item ids, as :class:`Item` tuples (item, source_id, title,
        semantic_id); ids outside 0 .. num_items-1 (e.g. -1 from :meth:`item_of`) raise IndexError."""
        ids = np.asarray(items)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"items must be integer item ids, got dtype {ids.dtype}")
        titles, sources, codes = self.titles, self.source_ids, self.codes
        out = []
        for i in ids.reshape(-1).tolist():
            if not 0 <= i < self._num_items:
                raise IndexError(f"item {i} is not in the index (items are 0..{self._num_items - 1})")
            out.append(Item(i, sources[i], titles[i], tuple(int(c) for c in codes[i])))
        return out

    # Lookups

    def item_of(self, ids) -> np.ndarray:
        """The item of each semantic ID, int32 [B, id_length] -> int64 [B]; -1 where the codes are no
        item's ID."""
        ids = int_matrix(ids, "ids", self._id_length, "id_length")
        out = np.empty(ids.shape[0], dtype=np.int64)
        check(lib.semid_index_item_of(self._pointer(), _address(ids), ids.shape[0], self._id_length, _address(out)))
        return out

    def allowed_next(self, prefixes) -> Tuple[np.ndarray, np.ndarray]:
        """The allowed next codes of a batch of equal-length prefixes, int32 [B, t] with
        0 <= t <= id_length, in CSR form: ``(indptr int64 [B+1], codes int32 [nnz])``, the codes
        allowed after prefix b being ``codes[indptr[b]:indptr[b+1]]`` (ascending). A prefix that is
        no item's prefix, or a complete ID, allows nothing."""
        prefixes = int_matrix(prefixes, "prefixes")
        rows, t = prefixes.shape
        if t > self._id_length:
            raise ValueError(f"prefixes of {t} codes are longer than this index's IDs ({self._id_length} codes)")
        pointer = self._pointer()
        indptr = np.empty(rows + 1, dtype=np.int64)
        count = c_int64()

        def call(capacity):
            codes = np.empty(capacity, dtype=np.int32)
            status = lib.semid_index_allowed_next(pointer, _address(prefixes), rows, t, _address(indptr),
                                                  _address(codes) if capacity else None, capacity, byref(count))
            return status, codes

        return indptr, _sized_answer(call, rows * (self._code_sizes[t] if t < self._id_length else 0), count)

    def allowed_next_tokens(self, generated, position_bases: Sequence[int],
                            eos_token_id: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`allowed_next` in an LLM's vocabulary: the code `c` of ID position `l` is token
        ``position_bases[l] + c``. `generated` is int64 [B, t], the tokens after the prompt. Once
        the ID is complete (t >= id_length), and after a prefix that is no item's prefix, only
        `eos_token_id` is allowed (nothing when it is None). Returns ``(indptr int64 [B+1], tokens
        int64 [nnz])``."""
        generated = np.asarray(generated)
        if generated.dtype.kind not in "iu":
            raise TypeError(f"generated must be an integer array of token ids, got dtype {generated.dtype}")
        if generated.ndim != 2:
            raise ValueError(f"generated must be 2-D [rows, t], got shape {generated.shape}")
        generated = np.ascontiguousarray(generated, dtype=np.int64)
        bases = _bases_array(position_bases, self._id_length)
        rows, t = generated.shape
        pointer = self._pointer()
        eos = -1 if eos_token_id is None else int(eos_token_id)
        indptr = np.empty(rows + 1, dtype=np.int64)
        count = c_int64()

        def call(capacity):
            tokens = np.empty(capacity, dtype=np.int64)
            status = lib.semid_index_allowed_next_tokens(pointer, _address(generated), rows, t, t, _address(bases), eos,
                                                         _address(indptr), _address(tokens) if capacity else None,
                                                         capacity, byref(count))
            return status, tokens

        return indptr, _sized_answer(call, rows * (max(self._code_sizes) + 1), count)

    # Encoding

    def encode(self, embeddings) -> np.ndarray:
        """Raw quantizer codes of new vectors with the index's frozen quantizer: float [n, dimension]
        -> int32 [n, levels]. Encoding the embeddings the index was built from gives its
        :attr:`raw_codes`."""
        array = np.asarray(embeddings)
        if array.dtype.kind != "f":
            raise TypeError(f"embeddings must be a floating-point array, got dtype {array.dtype}")
        if array.ndim != 2 or array.shape[1] != self._dimension:
            raise ValueError(f"embeddings must be 2-D [n, {self._dimension}], got shape {array.shape}")
        array = np.ascontiguousarray(array, dtype=np.float32)
        out = np.empty((array.shape[0], self._levels), dtype=np.int32)
        check(lib.semid_index_encode(self._pointer(), _address(array), array.shape[0], array.shape[1], _address(out)))
        return out

    # Tokens

    def token_vocabulary(self, template: str = "<{letter}_{code}>") -> list:
        """Every ID token in order (position 0's codes, then position 1's, ...), e.g. ``<a_0>``;
        placeholders {letter}, {position}, {code}. Adding them to a tokenizer in this order gives
        position l's code c the token ``base + sum(code_sizes[:l]) + c``."""
        return [token_name(template, position, code)
                for position, size in enumerate(self._code_sizes) for code in range(size)]


def _sized_answer(call, bound: int, count: c_int64) -> np.ndarray:
    """The answer of a CSR query: `call(capacity)` returns (status, buffer) and sets `count`. Up to
    `_LARGE` entries the buffer gets the largest possible size `bound` at once; beyond, a first
    call with no room asks for the exact size."""
    status, values = call(bound if bound <= _LARGE else 0)
    if status == _BUFFER_TOO_SMALL:
        status, values = call(count.value)
    check(status)
    return values[:count.value]


def _bases_array(position_bases: Sequence[int], id_length: int) -> np.ndarray:
    bases = np.asarray(position_bases, dtype=np.int64).reshape(-1)
    if bases.shape[0] != id_length:
        raise ValueError(f"position_bases has {bases.shape[0]} entries; the IDs have {id_length} positions")
    return np.ascontiguousarray(bases)


def token_name(template: str, position: int, code: int) -> str:
    """The token of `code` at ID `position` under `template` (placeholders {letter}, {position},
    {code}; {{ and }} are braces), as the library names it."""
    buffer = np.empty(256, dtype=np.uint8)
    length = c_int64()
    status = lib.semid_token_name(template.encode("utf-8"), position, code, _address(buffer), buffer.size,
                                  byref(length))
    if status == 7:  # the token is longer than the buffer
        buffer = np.empty(length.value + 1, dtype=np.uint8)
        status = lib.semid_token_name(template.encode("utf-8"), position, code, _address(buffer), buffer.size,
                                      byref(length))
    check(status)
    return buffer[:length.value].tobytes().decode("utf-8")


__all__ = ["Index", "Item", "token_name"]
