"""Finding and reading JSON documents on disk: folders, compression, encodings, clear errors.

Memory stays bounded whatever a file holds. Every byte is read through the import's
:class:`~microfluence.ingest.guard.ImportGuard` after decompression (so a gzip or xz bomb stops
at ``MICROFLUENCE_MAX_IMPORT_DECOMPRESSED_MB``), and no JSON value larger than
:data:`MAX_JSON_VALUE` is ever built in memory at once:

* a document of at most that size is parsed whole (orjson, fast);
* a larger one must be a list — of posts, profiles, GraphQL edges … — and is parsed element by
  element as it is read (ijson), each element at most that size;
* a JSON Lines file is read line by line, each line at most that size.

A JSON value takes up to about 25 times its text as Python objects (``[{}, {}, …]``), so the
bound on what one value costs is about 200 MiB, whatever the file's size.
"""

from __future__ import annotations

import codecs
import gzip
import lzma
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from microfluence.ingest.guard import ImportGuard, unlimited
from microfluence.kernel.errors import InputError

# What a folder scan picks up: instaloader writes ``.json`` or ``.json.xz`` (its default), some
# archives hold ``.json.gz``; ``.info`` files are profile metadata in the same JSON form.
# JSON Lines files (one post per line, as many scrapers write them) are read line by line.
JSONL_SUFFIXES = (".jsonl", ".jsonl.xz", ".jsonl.gz", ".ndjson", ".ndjson.xz", ".ndjson.gz")
JSON_SUFFIXES = (
    ".json",
    ".json.xz",
    ".json.gz",
    ".info",
    ".info.xz",
    ".info.gz",
    *JSONL_SUFFIXES,
)
# The largest JSON value built in memory at once: a whole document, an element of a larger
# top-level list, a line of JSON Lines (an Instagram post or profile is a few kilobytes).
MAX_JSON_VALUE = 8 << 20
_READ_ERRORS = (lzma.LZMAError, EOFError, OSError, zlib.error)

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def is_json_file(path: Path) -> bool:
    return path.name.lower().endswith(JSON_SUFFIXES)


def is_json_lines(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def discover(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The files to read: files as given, folders searched recursively, in a stable order."""
    found: list[Path] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
            if not candidates:
                raise InputError(
                    f"no {', '.join(JSON_SUFFIXES)} files in this folder", file=str(path)
                )
        elif path.is_file():
            candidates = [path]
        else:
            raise InputError("no such file or folder", file=str(path))
        for candidate in candidates:
            # abspath, not resolve(): one string operation instead of a syscall per file.
            key = os.path.abspath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _walk(folder: Path) -> list[Path]:
    """JSON files under ``folder``, depth first in name order (os.walk: no stat per file)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(Path(root, n) for n in sorted(files) if n.lower().endswith(JSON_SUFFIXES))
    return out


def open_json(path: Path, guard: ImportGuard) -> IO[bytes]:
    """The file's bytes, decompressed (xz or gzip, told by their magic bytes, not the name) and
    counted by ``guard``."""
    file = str(path)
    try:
        with path.open("rb") as probe:
            head = probe.read(6)
        if head.startswith(_XZ_MAGIC):
            handle: IO[bytes] = lzma.open(path, "rb")
        elif head.startswith(_GZIP_MAGIC):
            handle = gzip.open(path, "rb")
        else:
            handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=file) from exc
    return guard.wrap(handle, file)  # type: ignore[return-value]


def _read_up_to(stream: Any, size: int, file: str) -> bytes:
    """Exactly ``size`` bytes, or fewer at the end of the stream."""
    parts: list[bytes] = []
    wanted = size
    try:
        while wanted > 0:
            block = stream.read(min(wanted, 1 << 20))
            if not block:
                break
            parts.append(block)
            wanted -= len(block)
    except _READ_ERRORS as exc:
        raise InputError(f"cannot decompress: {exc}", file=file) from exc
    return b"".join(parts)


class _Utf8:
    """A stream of UTF-8 bytes from one in UTF-8 (a BOM dropped), UTF-16 or UTF-32."""

    def __init__(self, stream: Any, file: str) -> None:
        self.stream = stream
        self.file = file
        head = _read_up_to(stream, 4, file)
        self.encoding = "utf-8"
        for bom, encoding in _BOMS:
            if head.startswith(bom):
                self.encoding = encoding
                head = head[len(bom) :]
                break
        else:
            if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
                # JSON starts with an ASCII character: a zero byte beside it means UTF-16.
                self.encoding = "utf-16-be" if head[0] == 0 else "utf-16-le"
        self._decoder = (
            None
            if self.encoding == "utf-8"
            else codecs.getincrementaldecoder(self.encoding)(errors="strict")
        )
        self._pending = self._convert(head, final=False)

    def _convert(self, data: bytes, *, final: bool) -> bytes:
        if self._decoder is None:
            return data
        try:
            return self._decoder.decode(data, final=final).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not valid {self.encoding} text: {exc.reason}", file=self.file
            ) from exc

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            out, self._pending = self._pending, b""
            return out
        while True:
            try:
                raw = self.stream.read(size if size and size > 0 else 1 << 16)
            except _READ_ERRORS as exc:
                raise InputError(f"cannot decompress: {exc}", file=self.file) from exc
            out = self._convert(raw, final=not raw)
            if out or not raw:
                return out


def _loads(data: bytes, file: str) -> Any:
    if not data.strip():
        raise InputError("empty file: expected a JSON document", file=file)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = str(exc.msg if hasattr(exc, "msg") else exc)
        if "UTF-8" in reason:
            raise InputError(
                "not UTF-8 text: save the file as UTF-8 (JSON must be Unicode)", file=file
            ) from exc
        raise InputError(
            f"not valid JSON: {reason} (column {exc.colno})", file=file, line=exc.lineno
        ) from exc


class _ElementReader:
    """``head`` then the rest of ``stream``, refusing to read more than :data:`MAX_JSON_VALUE`
    bytes for one element of a streamed list (``mark`` is called after each element)."""

    def __init__(self, head: bytes, stream: _Utf8, file: str) -> None:
        self._head = head
        self.stream = stream
        self.file = file
        self.read_bytes = 0
        self._mark = 0
        self.element = 0

    def mark(self) -> None:
        self._mark = self.read_bytes
        self.element += 1

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 16
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self.stream.read(size)
        self.read_bytes += len(data)
        if self.read_bytes - self._mark > MAX_JSON_VALUE + (1 << 16):
            raise InputError(
                f"element $[{self.element}] of the list is larger than "
                f"{MAX_JSON_VALUE >> 20} MiB (not an Instagram post)",
                file=self.file,
            )
        return data


def iter_json_values(path: Path, guard: ImportGuard) -> Iterator[tuple[str, Any]]:
    """A JSON file's values as (JSON path, value): ``("$", document)`` for a document of at
    most :data:`MAX_JSON_VALUE`, else ``("$[i]", element)`` for each element of a top-level
    list, parsed as it is read. A larger document that is not a list is refused."""
    file = str(path)
    with open_json(path, guard) as stream:
        text = _Utf8(stream, file)
        head = _read_up_to(text, MAX_JSON_VALUE + 1, file)
        if len(head) <= MAX_JSON_VALUE:
            yield "$", _loads(head, file)
            return
        if not head.lstrip().startswith(b"["):
            raise InputError(
                f"a JSON document larger than {MAX_JSON_VALUE >> 20} MiB must be a list of "
                "posts or profiles (or JSON Lines: one per line, e.g. jq -c '.[]' or "
                "jq -c '.data.user.edge_owner_to_timeline_media.edges[]')",
                file=file,
            )
        reader = _ElementReader(head, text, file)
        del head
        try:
            for element in ijson.items(reader, "item", use_float=True):
                yield f"$[{reader.element}]", element
                reader.mark()
        except ijson.JSONError as exc:
            raise InputError(
                f"not valid JSON after element $[{reader.element - 1}] of the list: {exc}",
                file=file,
            ) from exc


def iter_json_lines(
    path: Path, guard: ImportGuard | None = None
) -> Iterator[tuple[int, Any, InputError | None]]:
    """(line number, document, error) of each non-blank line of a JSON Lines file, streamed.

    A line that is not JSON comes with its error (and no document), so that the caller may go
    on with the next line; a file that cannot be read or decompressed, or a line longer than
    :data:`MAX_JSON_VALUE`, raises.
    """
    file = str(path)
    with open_json(path, guard or unlimited()) as handle:
        number = 0
        try:
            while line := handle.readline(MAX_JSON_VALUE + 1):
                number += 1
                if len(line) > MAX_JSON_VALUE:
                    raise InputError(
                        f"a line longer than {MAX_JSON_VALUE >> 20} MiB", file=file, line=number
                    )
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8) :]
                if not line.strip():
                    continue
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    reason = "not UTF-8 text" if "UTF-8" in str(exc) else "not valid JSON"
                    detail = exc.msg if hasattr(exc, "msg") else str(exc)
                    error = InputError(
                        f"{reason}: {detail} (column {exc.colno})", file=file, line=number
                    )
                    yield number, None, error
                    continue
                yield number, data, None
        except _READ_ERRORS as exc:
            raise InputError(f"cannot decompress: {exc}", file=file, line=number + 1) from exc


def read_json(path: Path, guard: ImportGuard | None = None) -> Any:
    """One whole JSON document (at most :data:`MAX_JSON_VALUE`) from a plain, xz- or
    gzip-compressed file (told by its content)."""
    file = str(path)
    values = iter_json_values(path, guard or unlimited())
    where, value = next(values)
    if where != "$":
        values.close()
        raise InputError(
            f"larger than {MAX_JSON_VALUE >> 20} MiB: import it, which reads it element by element",
            file=file,
        )
    return value
