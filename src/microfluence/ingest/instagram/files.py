"""Finding and reading JSON documents on disk: folders, compression, encodings, clear errors."""

from __future__ import annotations

import codecs
import gzip
import lzma
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

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
# One document is parsed whole, so a decompression bomb must stop before it fills the memory.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

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


def iter_json_lines(path: Path) -> Iterator[tuple[int, Any, InputError | None]]:
    """(line number, document, error) of each non-blank line of a JSON Lines file, streamed.

    A line that is not JSON comes with its error (and no document), so that the caller may go
    on with the next line; a file that cannot be read or decompressed raises.
    """
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
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
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
        except (lzma.LZMAError, EOFError, OSError, zlib.error) as exc:
            raise InputError(f"cannot decompress: {exc}", file=file, line=number + 1) from exc


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


def _decompress(raw: bytes, file: str) -> bytes:
    try:
        if raw.startswith(_XZ_MAGIC):
            decompressor = lzma.LZMADecompressor()
            data = decompressor.decompress(raw, max_length=MAX_DOCUMENT_BYTES + 1)
            if not decompressor.eof and len(data) <= MAX_DOCUMENT_BYTES:
                raise InputError("truncated xz data", file=file)
        elif raw.startswith(_GZIP_MAGIC):
            decompressor_gz = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            data = decompressor_gz.decompress(raw, MAX_DOCUMENT_BYTES + 1)
            if not decompressor_gz.eof and len(data) <= MAX_DOCUMENT_BYTES:
                raise InputError("truncated gzip data", file=file)
        else:
            return raw
    except (lzma.LZMAError, zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"cannot decompress: {exc}", file=file) from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"decompresses to more than {MAX_DOCUMENT_BYTES // 2**20} MiB; split it", file=file
        )
    return data


def _text(data: bytes, file: str) -> bytes | str:
    """UTF-8 bytes as they are (orjson checks them); other Unicode encodings by their BOM."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8":
                return data[len(bom) :]
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {encoding} text: {exc.reason}", file=file) from exc
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        # JSON starts with an ASCII character: a zero byte beside it means UTF-16 without BOM.
        encoding = "utf-16-be" if data[0] == 0 else "utf-16-le"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid {encoding} text: {exc.reason}", file=file) from exc
    return data


def read_json(path: Path) -> Any:
    """One JSON document from a plain, xz- or gzip-compressed file (detected by content)."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=file) from exc
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; split it", file=file)
    text = _text(_decompress(raw, file), file)
    if not text or (isinstance(text, bytes) and not text.strip()):
        raise InputError("empty file: expected a JSON document", file=file)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        reason = str(exc.msg if hasattr(exc, "msg") else exc)
        if "UTF-8" in reason:
            raise InputError(
                "not UTF-8 text: save the file as UTF-8 (JSON must be Unicode)", file=file
            ) from exc
        raise InputError(
            f"not valid JSON: {reason} (column {exc.colno})", file=file, line=exc.lineno
        ) from exc
