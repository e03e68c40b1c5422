"""The one rejects writer of every importer: rejected rows streamed to a CSV file as they come.

Each rejected row is written the moment it is found — never gathered in memory first — so an
input with millions of bad rows costs disk, not memory, and the user gets *every* rejected row
(an :class:`~microfluence.ingest.report.ImportReport` keeps only a small sample, for summaries).

The file has the columns ``file, line, field, reason, value, row`` (docs/importing.md). It is
written to ``<path>.part`` and moved into place only when the import succeeds, so a failed or
cancelled import leaves no half-written rejects file behind — and an old one is replaced only by
a complete new one.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from microfluence.ingest.report import Rejection
from microfluence.kernel.errors import InputError

HEADER = ("file", "line", "field", "reason", "value", "row")

# How to import the valid rows of a file a strict import refused, in the words of every face
# (one message: the error travels through the job queue to the API and the pages unchanged).
SKIP_INVALID_HINT = (
    "to import the valid rows and list the others, import again with --skip-invalid "
    '(command line), skip_invalid=true (API, library) or "Import the valid rows and list the '
    'others" ticked (import page)'
)


def refused(
    message: str,
    *,
    file: str | None,
    line: int | None = None,
    field: str | None = None,
    value: object = None,
    others: int = 0,
) -> InputError:
    """The error of a strict import that stops at a bad row: the row's reason, how many more
    bad rows were seen with it (``others``), and how to import the valid rows instead."""
    more = (
        f"; {others:,} more invalid row{'s' if others != 1 else ''} seen so far" if others else ""
    )
    return InputError(
        f"{message}{more} — {SKIP_INVALID_HINT}", file=file, line=line, field=field, value=value
    )


def with_hint(exc: InputError) -> InputError:
    """``exc`` (a bad item of a strict import) with :data:`SKIP_INVALID_HINT`."""
    return refused(exc.message, file=exc.file, line=exc.line, field=exc.field, value=exc.value)


class RejectsFile:
    """Rejected rows with their reasons, as CSV, written as they are rejected."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._part = self.path.with_name(self.path.name + ".part")
        self._handle = self._part.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle)
        self._csv.writerow(HEADER)
        self.written = 0

    def write(self, rejection: Rejection) -> None:
        self._csv.writerow(
            [
                rejection.file,
                rejection.line,
                rejection.field,
                rejection.reason,
                rejection.value,
                rejection.row,
            ]
        )
        self.written += 1

    def commit(self) -> None:
        """The import succeeded: put the complete file in place."""
        self._handle.close()
        os.replace(self._part, self.path)

    def discard(self) -> None:
        """The import failed: leave nothing behind."""
        self._handle.close()
        self._part.unlink(missing_ok=True)


def default_rejects_path(path: Path) -> Path:
    """``creators.csv`` → ``creators.rejects.csv`` beside it (``x.csv.gz`` → ``x.rejects.csv``)."""
    name = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(suffix)
    stem = Path(name).stem
    return path.with_name(f"{stem}.rejects.csv")
