"""Follower files read and written batch by batch, in bounded memory.

CSV / TSV and JSON lines are cut into batches of whole rows by this module, reading 4 MiB at a
time: the readers of Polars and Arrow read ahead of a slow consumer (the whole file, if need be),
which defeats streaming. A CSV row ends at a newline outside quotes: a newline preceded by an
even number of quote characters since the last row end (RFC 4180 escapes a quote by doubling
it, which keeps the parity). Each batch is then parsed by Polars with every cell as text.
Parquet is read one batch of rows at a time by Arrow.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from microfluence.kernel.errors import InputError

FILE_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
READ_BYTES = 4 * 2**20
# A row longer than this is an unclosed quote (or not a follower file): stop, don't fill memory.
MAX_ROW_BYTES = 64 * 2**20
_BOM = b"\xef\xbb\xbf"
_NEWLINE, _QUOTE = ord("\n"), ord('"')


def file_format(path: str | Path, given: str | None = None) -> str:
    """csv, tsv, jsonl or parquet: as given, or from the file's extension."""
    if given:
        if given not in set(FILE_FORMATS.values()):
            raise InputError(f"unknown format {given!r}: use csv, tsv, jsonl or parquet")
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in FILE_FORMATS:
        raise InputError(
            f"cannot tell the format from {suffix or 'no extension'!r}: "
            "use .csv, .tsv, .jsonl or .parquet (or --format)",
            file=str(path),
        )
    return FILE_FORMATS[suffix]


def _row_ends(buffer: bytes, quoted: bool) -> np.ndarray:
    """Offsets just after each complete row in ``buffer`` (which starts at a row boundary)."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    newline = data == _NEWLINE
    if quoted:
        # uint8 wraps at 256, which keeps the parity of the running count of quotes.
        newline &= (np.cumsum(data == _QUOTE, dtype=np.uint8) & 1) == 0
    return np.flatnonzero(newline) + 1


def row_chunks(
    path: Path, *, batch_rows: int, header: bool, quoted: bool
) -> Iterator[tuple[bytes, bytes]]:
    """(header line, up to ``batch_rows`` whole rows) from a text file, as raw bytes."""
    head: bytes | None = None if header else b""
    buffer, eof, given = b"", False, False
    with path.open("rb") as handle:
        while True:
            if not eof:
                block = handle.read(READ_BYTES)
                eof = not block
                buffer += block
                if head is None and buffer.startswith(_BOM):
                    buffer = buffer[len(_BOM) :]
            ends = _row_ends(buffer, quoted)
            if not ends.size and not eof and len(buffer) > MAX_ROW_BYTES:
                raise InputError(
                    f"a row longer than {MAX_ROW_BYTES // 2**20} MiB: "
                    + ("a quote that is never closed?" if quoted else "is this a follower file?"),
                    file=str(path),
                )
            if head is None:
                if not ends.size and not eof:
                    continue
                cut = int(ends[0]) if ends.size else len(buffer)
                head, buffer, ends = buffer[:cut], buffer[cut:], ends[1:] - cut
            while len(ends) >= batch_rows:
                cut = int(ends[batch_rows - 1])
                yield head, buffer[:cut]
                given = True
                buffer, ends = buffer[cut:], ends[batch_rows:] - cut
            if eof:
                if buffer.strip() or (header and not given):
                    yield head or b"", buffer  # a header alone gives one batch without rows
                return


def _first_line(message: str) -> str:
    return str(message).strip().splitlines()[0] if str(message).strip() else "unreadable"


def read_batches(
    path: str | Path, *, data_format: str | None = None, batch_rows: int = 100_000
) -> Iterator[pl.DataFrame]:
    """The rows of a follower file, batch by batch. CSV and TSV cells stay text; JSON-lines
    batches get the columns of the first batch (keys missing from a row are null)."""
    path = Path(path)
    kind = file_format(path, data_format)
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    if path.stat().st_size == 0:
        raise InputError(
            "the file is empty: expected a header row and follower rows", file=str(path)
        )
    if kind == "parquet":
        try:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yield pl.from_arrow(batch)  # type: ignore[misc]
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"cannot read the Parquet file: {_first_line(exc)}", file=str(path)
            ) from exc
        return
    text = kind in ("csv", "tsv")
    columns: list[str] | None = None
    for head, rows in row_chunks(path, batch_rows=batch_rows, header=text, quoted=kind == "csv"):
        try:
            if text:
                frame = pl.read_csv(
                    io.BytesIO(head + rows),
                    separator="," if kind == "csv" else "\t",
                    infer_schema=False,
                    encoding="utf8-lossy",
                    quote_char='"' if kind == "csv" else None,
                )
            else:
                frame = pl.read_ndjson(io.BytesIO(rows), infer_schema_length=None)
        except pl.exceptions.PolarsError as exc:
            raise InputError(
                f"cannot read the {kind} file: {_first_line(exc)}", file=str(path)
            ) from exc
        if columns is None:
            columns = frame.columns
        elif frame.columns != columns:
            new = [c for c in frame.columns if c not in columns]
            if new:
                raise InputError(
                    f"column(s) {new} appear after the first {batch_rows:,} rows; "
                    "give every key in the first rows",
                    file=str(path),
                )
            frame = frame.select(
                [pl.col(c) if c in frame.columns else pl.lit(None).alias(c) for c in columns]
            )
        yield frame


class ScoredFileWriter:
    """Writes scored batches to a temporary file, moved into place only when all went well."""

    def __init__(self, output: Path, kind: str) -> None:
        self.output, self.kind = output, kind
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        os.close(handle)
        self.temporary = Path(name)
        self.handle: IO[bytes] | None = None
        self.parquet: pq.ParquetWriter | None = None

    def write(self, batch: pl.DataFrame) -> None:
        try:
            if self.kind == "parquet":
                table = batch.to_arrow()
                if self.parquet is None:
                    self.parquet = pq.ParquetWriter(self.temporary, table.schema)
                self.parquet.write_table(table.cast(self.parquet.schema))
                return
            first = self.handle is None
            if self.handle is None:
                self.handle = self.temporary.open("wb")
            if self.kind == "jsonl":
                batch.write_ndjson(self.handle)
            else:
                separator = "," if self.kind == "csv" else "\t"
                batch.write_csv(self.handle, separator=separator, include_header=first)
        except (pl.exceptions.PolarsError, pa.ArrowException) as exc:
            raise InputError(
                f"cannot write these columns as {self.kind}: {_first_line(exc)}",
                file=str(self.output),
            ) from exc

    def _close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        if self.handle is not None:
            self.handle.close()

    def commit(self) -> None:
        self._close()
        if self.parquet is None and self.handle is None:
            self.temporary.write_bytes(b"")
        os.replace(self.temporary, self.output)

    def abort(self) -> None:
        self._close()
        self.temporary.unlink(missing_ok=True)
