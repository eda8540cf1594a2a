"""semid: semantic IDs for generative retrieval, from Python.

- :class:`Index` opens an index directory (``Index.open(path)``): sizes, the ID matrix, item <-> ID
  lookups, batched allowed next codes in CSR form, encoding of new embeddings, titles.
- :func:`build` makes an index from embeddings in memory.
- A build in steps for embeddings kept elsewhere (:mod:`semid.spark` runs it on Spark):
  :class:`CodebookSettings`, :func:`training_rows`, :func:`train_codebooks`, :func:`encode_codebooks`,
  :func:`build_from_codes`.
- :mod:`semid.hf` constrains Hugging Face ``generate`` to real items (needs torch + transformers).

Everything runs in semid's Swift library (``libsemidc``, bundled with this package); NumPy arrays go
in and out, without copies where the memory allows. Errors are :class:`SemidError` subclasses with
the library's message.
"""

from . import _native
from ._build import build
from ._codebooks import CodebookSettings, build_from_codes, encode_codebooks, train_codebooks, training_rows
from ._index import Index, Item, token_name
from .errors import (CorruptIndexError, IndexNotFoundError, InternalError, InvalidArgumentError, OutputExistsError,
                     SemidError, SemidIOError, UnsupportedError)

__version__ = _native.lib.semid_version().decode()

#: The loaded native library.
library_path = str(_native.library_path)


def blas_info() -> str:
    """The BLAS library semid uses, its kernel and thread count."""
    return _native.lib.semid_blas_info().decode()


__all__ = ["Index", "Item", "build", "CodebookSettings", "training_rows", "train_codebooks", "encode_codebooks",
           "build_from_codes", "token_name", "blas_info", "library_path", "SemidError", "InvalidArgumentError",
           "IndexNotFoundError", "CorruptIndexError", "SemidIOError", "UnsupportedError", "OutputExistsError",
           "InternalError", "__version__"]
