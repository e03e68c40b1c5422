"""What keeps one import from exhausting the server: caps on bytes and rows, and cancelling.

An upload of a few kilobytes can decompress to gigabytes (a gzip "bomb") or hold millions of
tiny records; every importer therefore reads through an :class:`ImportGuard` that

* counts the bytes it reads *after* decompression (plain files too) and stops with an
  :class:`ImportLimitError` naming the file and the limit once they pass
  ``MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB`` — early, while the bomb is still being read;
* counts the records (rows, posts, profiles — valid or rejected) and stops past
  ``MICROFLUENCE_MAX_IMPORT_ROWS``, which also bounds how long the import's write
  transaction holds the store (docs/importing.md, "Limits");
* asks its ``cancel`` callback at every checkpoint (between batches) whether the import should
  stop, and raises :class:`ImportCancelled` when it should — the import then rolls back like
  any failed one.

The limits count per import, over all its files, so a folder of many small bombs is stopped
as surely as one big one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from microfluence.kernel.config import get_settings
from microfluence.kernel.errors import InputError, MicrofluenceError

CancelCheck = Callable[[], bool]
MIB = 1 << 20
BYTES_SETTING = "MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB"
ROWS_SETTING = "MICROFLUENCE_MAX_IMPORT_ROWS"


class ImportLimitError(InputError):
    """The input is larger than an import may be (bytes after decompression, or rows)."""

    code = "import_too_large"


class ImportCancelled(MicrofluenceError):
    """The import was cancelled (by an owner); nothing it read was written."""

    code = "cancelled"

    def __init__(self, message: str = "the import was cancelled; nothing was written") -> None:
        self.message = message
        super().__init__(message)


@dataclass
class ImportGuard:
    """The byte and row budget of one import, and its cancel check."""

    max_bytes: int
    max_rows: int
    cancel: CancelCheck | None = None
    bytes_read: int = 0
    rows: int = 0

    @classmethod
    def from_settings(cls, cancel: CancelCheck | None = None) -> ImportGuard:
        settings = get_settings()
        return cls(
            max_bytes=settings.max_import_decompressed_mb * MIB,
            max_rows=settings.max_import_rows,
            cancel=cancel,
        )

    def read(self, n: int, file: str) -> None:
        """Count ``n`` more bytes read (after decompression) from ``file``."""
        self.bytes_read += n
        if self.bytes_read > self.max_bytes:
            raise ImportLimitError(
                f"more than {self.max_bytes // MIB:,} MiB after decompression "
                f"({BYTES_SETTING}): a decompression bomb, or split the input",
                file=file,
            )

    def count_rows(self, n: int, file: str) -> None:
        """Count ``n`` more records (valid or rejected) read from ``file``."""
        self.rows += n
        if self.rows > self.max_rows:
            raise ImportLimitError(
                f"more than {self.max_rows:,} rows in one import ({ROWS_SETTING}): "
                "split the input into several imports",
                file=file,
            )

    def checkpoint(self) -> None:
        """Between batches: stop here when the import was cancelled."""
        if self.cancel is not None and self.cancel():
            raise ImportCancelled()

    def wrap(self, stream: IO[bytes], file: str) -> CountedStream:
        """``stream`` with every byte read counted against this guard."""
        return CountedStream(stream, self, file)


def unlimited() -> ImportGuard:
    """A guard that never stops (for callers that bound their input themselves)."""
    return ImportGuard(max_bytes=1 << 62, max_rows=1 << 62)


class CountedStream:
    """A binary stream whose reads count against an :class:`ImportGuard`.

    Wraps the *decompressed* stream, so the count is what the import really has to handle; the
    check runs on every read, so a bomb stops within one block of crossing the limit.
    """

    def __init__(self, stream: IO[bytes], guard: ImportGuard, file: str) -> None:
        self.stream = stream
        self.guard = guard
        self.file = file

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            # Never read "everything" at once: the whole point is to look before it is all in.
            chunks = []
            while block := self.read(1 << 20):
                chunks.append(block)
            return b"".join(chunks)
        data = self.stream.read(size)
        self.guard.read(len(data), self.file)
        return data

    def readline(self, limit: int = -1) -> bytes:
        line = self.stream.readline(limit)
        self.guard.read(len(line), self.file)
        return line

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> CountedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
