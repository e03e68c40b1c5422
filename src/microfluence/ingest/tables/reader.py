"""Tables from files, in chunks: CSV, TSV, JSON Lines and Parquet, streamed with bounded memory.

:func:`read_table` yields :class:`Chunk` s of at most ``chunk_rows`` records. Each record keeps
the 1-based line where it starts in the file (for Parquet: its 1-based row number), so every
error can name file and line, and its original text, so rejected rows can be written out as
they were.

Formats are told by the extension (``.csv``, ``.tsv``/``.tab``, ``.jsonl``/``.ndjson``/
``.json``, ``.parquet``/``.pq``, each optionally ``.gz``, ``.bz2`` or ``.xz`` compressed) and,
for anything else, by sniffing the first bytes: Parquet's magic number, a ``{`` for JSON Lines,
otherwise a delimited file whose delimiter (comma, tab, semicolon or pipe) is the one the header
line uses most.

Text is UTF-8 (a byte-order mark is dropped); UTF-16 with or without a byte-order mark and
Windows-1252 (a superset of the printable Latin-1) are recognised from the first 64 KiB and
transcoded on the fly. Anything else — or control characters that only binary data has — is a
clear error naming the file and line.

Delimited files are split into records by a vectorised scan (NumPy) that tracks quoting, so
quoted fields may contain delimiters, doubled quotes and newlines; each block of records is then
parsed by Polars with every column as text, which the importers' number and time parsers read.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import polars as pl

from microfluence.ingest.guard import ImportGuard
from microfluence.kernel.config import get_settings
from microfluence.kernel.errors import InputError

ProgressCallback = Callable[[int, int | None], None]

FORMATS = ("csv", "tsv", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BLOCK = 4 << 20
_SNIFF = 64 << 10
_MAX_RECORD = 64 << 20  # bounds memory when a stray quote swallows the rest of the file
_READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


@dataclass
class Chunk:
    """Up to ``chunk_rows`` records: the frame as read, and where each record came from."""

    frame: pl.DataFrame
    lines: pl.Series  # 1-based line (row, for Parquet) of each record
    _raw: Callable[[int], str]

    def raw(self, index: int) -> str:
        """The original text of the record at ``index`` (a JSON object for Parquet rows)."""
        return self._raw(index)


def detect_format(path: Path, head: bytes) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def _open_binary(path: Path, guard: ImportGuard) -> tuple[IO[bytes], IO[bytes]]:
    """(stream of the file's bytes — decompressed, counted by ``guard`` — and the raw file whose
    position measures progress)."""
    raw = path.open("rb")
    opener = _COMPRESSED.get(path.suffix.lower())
    stream = raw if opener is None else opener(raw, "rb")  # type: ignore[operator]
    return guard.wrap(stream, str(path)), raw  # type: ignore[return-value]


def _line_of(data: bytes, position: int, first_line: int) -> int:
    return first_line + data.count(b"\n", 0, position)


def detect_encoding(head: bytes, *, file: str) -> str:
    """utf-8, utf-8-sig, utf-16-le/-be or cp1252, from the first bytes; else a clear error."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[: len(head) - len(head) % 2]
    if sample and sample.count(0):
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        # ASCII-range text in UTF-16 has a NUL in every other byte.
        if odd >= 0.4 * half and even < 0.05 * half:
            return "utf-16-le"
        if even >= 0.4 * half and odd < 0.05 * half:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8, UTF-16 or Windows-1252 text (byte 0x{head[exc.start]:02x} at "
            f"offset {exc.start}); save the file as UTF-8",
            file=file,
            line=_line_of(head, exc.start, 1),
        ) from exc


class _Utf8Blocks:
    """The file as blocks of UTF-8 bytes, transcoding other encodings on the fly."""

    def __init__(
        self, path: Path, *, file: str, guard: ImportGuard, block: int | None = None
    ) -> None:
        self.file = file
        self.stream, self._raw = _open_binary(path, guard)
        self.block = block or _BLOCK
        try:
            head = self.stream.read(_SNIFF)
        except _READ_ERRORS as exc:
            raise InputError(f"cannot read the file: {exc}", file=file) from exc
        self.head = head
        self.encoding = detect_encoding(head, file=file)
        self._decoder = (
            None
            if self.encoding in ("utf-8", "utf-8-sig")
            else codecs.getincrementaldecoder(self.encoding)(errors="strict")
        )
        self._pending = head[3:] if self.encoding == "utf-8-sig" else head
        self._lines_out = 1

    def position(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        self.stream.close()
        if self._raw is not self.stream:
            self._raw.close()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            if self._pending is not None:
                data, self._pending = self._pending, None
            else:
                try:
                    data = self.stream.read(self.block)
                except _READ_ERRORS as exc:
                    raise InputError(f"cannot read the file: {exc}", file=self.file) from exc
            final = not data
            if self._decoder is not None:
                try:
                    text = self._decoder.decode(data, final=final)
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"not valid {self.encoding} text",
                        file=self.file,
                        line=self._lines_out,
                    ) from exc
                data = text.encode("utf-8")
                self._lines_out += data.count(b"\n")
            if data:
                yield data
            if final:
                return


@dataclass
class _Records:
    """Complete records found in a buffer: [start, end) byte spans and their first line."""

    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    consumed: int  # bytes of the buffer used up (through the last record's newline)
    newlines: int  # newlines within the consumed bytes


def _split_records(buf: bytes, *, quoted: bool, final: bool, first_line: int) -> _Records:
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    ends = newlines
    if quoted:
        quotes = np.flatnonzero(arr == 34)
        if quotes.size:
            ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    consumed = int(ends[-1]) + 1 if ends.size else 0
    if final and consumed < len(buf):
        ends = np.append(ends, len(buf))
        consumed = len(buf)
    starts = np.empty_like(ends)
    if ends.size:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    # Empty lines hold no record: dropped here, a block of nothing but newlines (a decompression
    # bomb's favourite) costs no per-record arrays further on.
    filled = ends > starts
    if not filled.all():
        starts, ends = starts[filled], ends[filled]
    lines = first_line + np.searchsorted(newlines, starts)
    n_newlines = int(np.searchsorted(newlines, consumed))
    return _Records(starts, ends, lines, consumed, n_newlines)


def _blank_records(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records holding nothing but spaces and carriage returns."""
    blank = ends <= starts
    if not arr.size or not starts.size:
        return blank
    first = arr[np.minimum(starts, arr.size - 1)]
    # Only a record that starts with a space or CR can be blank: look at those few closely.
    for i in np.flatnonzero(~blank & ((first == 32) | (first == 13))).tolist():
        segment = arr[starts[i] : ends[i]]
        blank[i] = not bool(np.any((segment != 32) & (segment != 13)))
    return blank


def _check_utf8(buf: bytes, *, file: str, first_line: int) -> None:
    try:
        buf.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 (byte 0x{buf[exc.start]:02x}); save the file as UTF-8",
            file=file,
            line=_line_of(buf, exc.start, first_line),
        ) from exc


def _check_control(buf: bytes, *, file: str, first_line: int) -> None:
    arr = np.frombuffer(buf, dtype=np.uint8)
    control = (arr < 32) & (arr != 9) & (arr != 10) & (arr != 13)
    control |= arr == 127
    if control.any():
        at = int(np.argmax(control))
        raise InputError(
            f"control character 0x{buf[at]:02x}: binary data, not a text table",
            file=file,
            line=_line_of(buf, at, first_line),
        )


def _sniff_delimiter(header: bytes, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    counts = {d: header.count(d.encode()) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_names(header: bytes, delimiter: str, *, file: str) -> list[str]:
    text = header.decode("utf-8").rstrip("\r\n")
    try:
        names = next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        raise InputError(f"unreadable header: {exc}", file=file, line=1) from exc
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name.strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested JSON objects become dotted columns: {"owner": {"username": …}} → owner.username."""
    for _ in range(8):
        structs = [c for c, t in frame.schema.items() if isinstance(t, pl.Struct)]
        if not structs:
            break
        for name in structs:
            fields = [f.name for f in frame.schema[name].fields]  # type: ignore[attr-defined]
            renamed = [f"{name}.{f}" for f in fields]
            if not fields or any(r in frame.columns for r in renamed):
                frame = frame.drop(name)
                continue
            frame = frame.with_columns(pl.col(name).struct.rename_fields(renamed)).unnest(name)
    return frame


def _json_fallback(data: bytes, starts, ends, lines, *, file: str) -> pl.DataFrame:
    """Slow path, only when Polars refuses a block: find the bad line, or read values as text."""
    rows: list[dict[str, Any]] = []
    for start, end, line in zip(starts.tolist(), ends.tolist(), lines.tolist(), strict=True):
        text = data[start:end]
        if line == 1 and text.lstrip().startswith(b"["):
            raise InputError(
                "a JSON array: tables are read as JSON Lines, one object per line "
                "(convert with: jq -c '.[]' FILE.json > FILE.jsonl)",
                file=file,
                line=line,
            )
        if text.strip() == b"{":
            raise InputError(
                "a JSON object spread over several lines: JSON Lines needs one object per line",
                file=file,
                line=line,
            )
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", file=file, line=line) from exc
        if not isinstance(value, dict):
            raise InputError(
                f"expected a JSON object, got {type(value).__name__}", file=file, line=line
            )
        rows.append(
            {
                k: (v if v is None or isinstance(v, str) else orjson.dumps(v).decode())
                for k, v in value.items()
            }
        )
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")


class TableReader:
    """Iterate a table file in chunks; see the module docstring for formats and encodings."""

    def __init__(
        self,
        path: str | Path,
        *,
        chunk_rows: int | None = None,
        progress: ProgressCallback | None = None,
        file_format: str | None = None,
        guard: ImportGuard | None = None,
    ) -> None:
        self.path = Path(path)
        self.file = str(path)
        # Bytes after decompression and rows are counted against the import's limits.
        self.guard = guard or ImportGuard.from_settings()
        if not self.path.exists():
            raise InputError("no such file", file=self.file)
        if self.path.is_dir():
            raise InputError("is a folder, not a file", file=self.file)
        self.chunk_rows = chunk_rows or get_settings().import_chunk_rows
        self.progress = progress
        self.total_bytes = self.path.stat().st_size
        if self.total_bytes == 0:
            raise InputError("the file is empty", file=self.file)
        with self.path.open("rb") as handle:
            head = handle.read(8)
        if file_format is not None and file_format not in FORMATS:
            raise InputError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")
        self.format = file_format or detect_format(self.path, head)
        self.rows_read = 0
        self.columns: list[str] | None = None  # a delimited file's header, once read

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.total_bytes)

    def __iter__(self) -> Iterator[Chunk]:
        if self.format == "parquet":
            yield from self._parquet()
        else:
            yield from self._text()

    # -- parquet ---------------------------------------------------------------------------------
    def _parquet(self) -> Iterator[Chunk]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file ({exc})", file=self.file) from exc
        total_rows = parquet.metadata.num_rows or 1
        if self.guard.rows + total_rows > self.guard.max_rows:  # known before reading a row
            self.guard.count_rows(total_rows, self.file)
        done = 0
        try:
            for batch in parquet.iter_batches(batch_size=self.chunk_rows):
                self.guard.read(batch.nbytes, self.file)  # the decoded columns
                self.guard.count_rows(batch.num_rows, self.file)
                self.guard.checkpoint()
                frame = _flatten(pl.from_arrow(batch))  # type: ignore[arg-type]
                lines = pl.Series("line", np.arange(done + 1, done + frame.height + 1))
                done += frame.height
                self.rows_read = done

                def raw(index: int, frame: pl.DataFrame = frame) -> str:
                    return orjson.dumps(frame.row(index, named=True), default=str).decode()

                yield Chunk(frame, lines, raw)
                self._report(int(self.total_bytes * done / total_rows))
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"unreadable Parquet data ({exc})", file=self.file) from exc

    # -- delimited text and JSON Lines -------------------------------------------------------------
    def _text(self) -> Iterator[Chunk]:
        blocks = _Utf8Blocks(self.path, file=self.file, guard=self.guard)
        try:
            yield from self._records(blocks)
        finally:
            blocks.close()

    def _records(self, blocks: _Utf8Blocks) -> Iterator[Chunk]:
        is_json = self.format == "jsonl"
        names: list[str] | None = None
        delimiter = ","
        for data, starts, ends, lines in self._complete_records(blocks):
            arr = np.frombuffer(data, dtype=np.uint8)
            keep = ~_blank_records(arr, starts, ends)
            if is_json:
                starts, ends, lines, keep = starts[keep], ends[keep], lines[keep], keep[keep]
            else:
                if names is None:
                    header = self._header(data, starts, ends, keep)
                    if header is None:
                        continue
                    names, delimiter, cut = header
                    starts, ends, lines, keep = starts[cut:], ends[cut:], lines[cut:], keep[cut:]
                self._check_ragged(
                    arr, starts[keep], ends[keep], lines[keep], delimiter, len(names)
                )
            for lo in range(0, starts.size, self.chunk_rows):
                hi = min(lo + self.chunk_rows, starts.size)
                if keep[lo:hi].any():
                    yield self._chunk(
                        data,
                        starts[lo:hi],
                        ends[lo:hi],
                        lines[lo:hi],
                        keep[lo:hi],
                        names,
                        delimiter,
                    )
            self._report(blocks.position())
        self._report(self.total_bytes)

    def _complete_records(
        self, blocks: _Utf8Blocks
    ) -> Iterator[tuple[bytes, np.ndarray, np.ndarray, np.ndarray]]:
        """Blocks of whole records, checked as text: (bytes, record starts, ends, first lines)."""
        quoted = self.format != "jsonl"
        transcoded = blocks.encoding not in ("utf-8", "utf-8-sig")
        buf = b""
        line = 1
        iterator = iter(blocks)
        final = False
        while not final:
            block = next(iterator, None)
            final = block is None
            if block:
                buf = buf + block if buf else block
            records = _split_records(buf, quoted=quoted, final=final, first_line=line)
            if not records.consumed:
                if len(buf) > _MAX_RECORD:
                    raise InputError(
                        f"a record longer than {_MAX_RECORD >> 20} MiB: an unclosed quote?",
                        file=self.file,
                        line=line,
                    )
                continue
            data = buf[: records.consumed]
            if not transcoded:
                _check_utf8(data, file=self.file, first_line=line)
            _check_control(data, file=self.file, first_line=line)
            if final and quoted and data.count(b'"', int(records.starts[-1])) % 2:
                raise InputError(
                    "unterminated quoted field (a quote opened here is never closed)",
                    file=self.file,
                    line=int(records.lines[-1]),
                )
            buf = buf[records.consumed :]
            line += records.newlines
            yield data, records.starts, records.ends, records.lines

    def _header(
        self, data: bytes, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray
    ) -> tuple[list[str], str, int] | None:
        """A delimited file's header: (column names, delimiter, records it used up), or None
        while only blank lines were seen."""
        filled = np.flatnonzero(keep)
        if not filled.size:
            return None
        first = int(filled[0])
        header = data[starts[first] : ends[first]]
        delimiter = _sniff_delimiter(header, self.format)
        names = _header_names(header, delimiter, file=self.file)
        self.columns = names
        return names, delimiter, first + 1

    def _check_ragged(self, arr, starts, ends, lines, delimiter: str, width: int) -> None:  # type: ignore[no-untyped-def]
        if not starts.size:
            return
        seps = np.flatnonzero(arr == ord(delimiter))
        quotes = np.flatnonzero(arr == 34)
        if quotes.size and seps.size:
            # Positions relative to each record's start: a record starts outside quotes.
            before = np.searchsorted(quotes, seps)
            rec = np.searchsorted(starts, seps, side="right") - 1
            rec_quote_base = np.searchsorted(quotes, starts)
            valid = rec >= 0
            parity = np.zeros(seps.size, dtype=np.int64)
            parity[valid] = (before[valid] - rec_quote_base[rec[valid]]) & 1
            seps = seps[parity == 0]
        counts = np.searchsorted(seps, ends) - np.searchsorted(seps, starts)
        bad = np.flatnonzero(counts != width - 1)
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"{int(counts[i]) + 1} fields where the header has {width} "
                f"(a missing or extra {delimiter!r}, or an unclosed quote?)",
                file=self.file,
                line=int(lines[i]),
            )

    def _chunk(self, data, starts, ends, lines, keep, names, delimiter) -> Chunk:  # type: ignore[no-untyped-def]
        if self.format == "jsonl":
            body = data[int(starts[0]) : int(ends[-1])]
            frame = self._read_json(data, body, starts, ends, lines)
        else:
            if keep.all():
                body = data[int(starts[0]) : int(ends[-1])]
            else:  # blank lines: left out before parsing (CSV parsers skip some, not all)
                starts, ends, lines = starts[keep], ends[keep], lines[keep]
                spans = zip(starts.tolist(), ends.tolist(), strict=True)
                body = b"\n".join(data[s:e] for s, e in spans)
            try:
                frame = pl.read_csv(
                    io.BytesIO(body),
                    has_header=False,
                    new_columns=names,
                    schema={name: pl.String for name in names},
                    separator=delimiter,
                    quote_char='"',
                    raise_if_empty=False,
                    truncate_ragged_lines=False,
                )
            except pl.exceptions.PolarsError as exc:
                detail = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ""
                raise InputError(
                    f"unreadable CSV: a stray or unclosed quote? ({detail})",
                    file=self.file,
                    line=int(lines[0]),
                ) from exc
            if frame.height != starts.size:
                raise InputError(
                    "could not split the file into records (an unclosed quote?)",
                    file=self.file,
                    line=int(lines[0]),
                )
        self.rows_read += starts.size
        self.guard.count_rows(int(starts.size), self.file)
        self.guard.checkpoint()

        def raw(index: int) -> str:
            return data[int(starts[index]) : int(ends[index])].decode("utf-8").rstrip("\r")

        return Chunk(frame, pl.Series("line", lines.astype(np.int64)), raw)

    def _read_json(self, data, body, starts, ends, lines) -> pl.DataFrame:  # type: ignore[no-untyped-def]
        try:
            frame = pl.read_ndjson(io.BytesIO(body), infer_schema_length=None)
            if frame.height != starts.size:
                raise ValueError("row count differs")
        except (pl.exceptions.PolarsError, ValueError, OverflowError):
            frame = _json_fallback(data, starts, ends, lines, file=self.file)
        return _flatten(frame)


def read_table(
    path: str | Path,
    *,
    chunk_rows: int | None = None,
    progress: ProgressCallback | None = None,
    guard: ImportGuard | None = None,
) -> TableReader:
    """A :class:`TableReader` over ``path`` (iterate it for chunks)."""
    return TableReader(path, chunk_rows=chunk_rows, progress=progress, guard=guard)
