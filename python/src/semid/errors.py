"""Exceptions raised by semid: one class per status code of the C ABI, each carrying the library's
one-line message (the file, field or argument, and what was expected)."""

from __future__ import annotations


class SemidError(Exception):
    """A failed semid call. ``status`` is the C status name (e.g. ``"SEMID_ERROR_NOT_FOUND"``)."""

    status = "SEMID_ERROR"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(SemidError, ValueError):
    """An argument does not fit: a shape, a size, a dtype, an option."""

    status = "SEMID_ERROR_INVALID_ARGUMENT"


class IndexNotFoundError(SemidError, FileNotFoundError):
    """There is no semid index (or input file) at the path."""

    status = "SEMID_ERROR_NOT_FOUND"


class CorruptIndexError(SemidError):
    """A file of the index fails its checksum or is inconsistent."""

    status = "SEMID_ERROR_CORRUPT"


class SemidIOError(SemidError, OSError):
    """Reading or writing a file failed."""

    status = "SEMID_ERROR_IO"


class UnsupportedError(SemidError):
    """The index cannot do this (e.g. encode with assigned IDs, a trie query on non-unique IDs)."""

    status = "SEMID_ERROR_UNSUPPORTED"


class OutputExistsError(SemidError, FileExistsError):
    """The output exists and overwriting was not requested."""

    status = "SEMID_ERROR_EXISTS"


class InternalError(SemidError):
    """A bug in semid; please report the message."""

    status = "SEMID_ERROR_INTERNAL"


#: Exception class by C status code (semid_status in semid.h). Code 7 (buffer too small) never
#: reaches Python: the bindings size every buffer.
BY_STATUS = {
    1: InvalidArgumentError,
    2: IndexNotFoundError,
    3: CorruptIndexError,
    4: SemidIOError,
    5: UnsupportedError,
    6: OutputExistsError,
    7: InternalError,
    8: InternalError,
}
