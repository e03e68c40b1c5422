"""The shared run of the table importers (creators, posts): read, match, parse, check, write.

Each chunk of the file is parsed column-wise, every invalid cell becomes a per-row error (line,
field, value, reason), and then either the whole import stops at the first bad row — nothing
written — or, with ``skip_invalid``, the bad rows are streamed to the rejects file
(:mod:`microfluence.ingest.rejects`) and the good ones staged. Once the whole file is read and
checked, the staged rows are written in one transaction
(:class:`microfluence.ingest.write.stage.StagedImport`): all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import numpy as np
import polars as pl

from microfluence.catalog.validation import handle_rule, url_rule
from microfluence.ingest.guard import CancelCheck, ImportGuard
from microfluence.ingest.rejects import default_rejects_path, refused
from microfluence.ingest.report import ImportReport, Rejection
from microfluence.ingest.tables.reader import Chunk, ProgressCallback, TableReader
from microfluence.ingest.values import numbers
from microfluence.ingest.values.columns import ColumnMap, percent_hint, resolve_columns
from microfluence.ingest.write.stage import StagedImport
from microfluence.ingest.write.writer import StoreWriter
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import PLATFORMS, POST_TYPES

PLATFORM_ALIASES = {
    "ig": "instagram",
    "insta": "instagram",
    "instagram.com": "instagram",
    "tt": "tiktok",
    "tik tok": "tiktok",
    "tik-tok": "tiktok",
    "tiktok.com": "tiktok",
    "yt": "youtube",
    "youtube.com": "youtube",
    "twitter": "x",
    "twitter.com": "x",
    "x.com": "x",
    "fb": "facebook",
    "facebook.com": "facebook",
    "twitch.tv": "twitch",
    "snap": "snapchat",
    "pin": "pinterest",
    "blogs": "blog",
    "website": "blog",
}
POST_TYPE_ALIASES = {
    "image": "image",
    "photo": "image",
    "picture": "image",
    "graphimage": "image",
    "feed": "image",
    "carousel": "carousel",
    "carousel_album": "carousel",
    "carouselalbum": "carousel",
    "sidecar": "carousel",
    "graphsidecar": "carousel",
    "album": "carousel",
    "video": "video",
    "graphvideo": "video",
    "igtv": "video",
    "reel": "reel",
    "reels": "reel",
    "clips": "reel",
    "story": "story",
    "stories": "story",
    "short": "short",
    "shorts": "short",
}
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SHOWN_REASONS = 5


@dataclass(frozen=True)
class FieldSpec:
    """How to read one canonical field: its kind and, for text, the longest value stored."""

    # text, handle, platform, count, interactions (a count where -1 means hidden), number, rate,
    # bool, time, tags, handles, post_type
    kind: str
    max_len: int | None = None
    blanks: bool = True  # "N/A", "-" … mean unknown (not for free text such as a bio)
    required: bool = False  # a row without it is an error


def _text(expr: pl.Expr, dtype: pl.DataType, spec: FieldSpec) -> numbers.Parsed:
    if dtype.is_nested():
        return numbers.Parsed(
            pl.lit(None, dtype=pl.String),
            pl.when(expr.is_not_null()).then(pl.lit("expected text, got a list or object")),
        )
    text = expr.cast(pl.String).str.strip_chars()
    empty = (
        numbers.blank(text, numbers.TEXT_BLANKS) if spec.blanks else (text.is_null() | (text == ""))
    )
    value = pl.when(~empty).then(text)
    error = pl.when(value.str.contains(_CONTROL)).then(pl.lit("contains control characters"))
    if spec.required:
        error = error.when(value.is_null()).then(pl.lit("missing"))
    if spec.max_len:
        error = error.when(value.str.len_chars() > spec.max_len).then(
            pl.lit(f"longer than {spec.max_len} characters")
        )
    if spec.kind == "email":
        error = error.when(~value.str.contains(_EMAIL)).then(pl.lit("not an e-mail address"))
    if spec.kind == "url":  # http(s) only: the one rule of every way in (catalog.validation)
        value, url_error = url_rule(value)
        error = error.otherwise(url_error)
    return numbers.Parsed(value, error)


def handle_values(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Handles: '@Ann' → 'ann'; a profile URL gives its first path segment
    ('https://instagram.com/ann/' → 'ann'); letters, digits, '_', '.', '-' only. The rule is
    catalog.validation's, shared with the API, the pages and the commands."""
    frame = pl.DataFrame({"x": series})
    base = _text(pl.col("x"), series.dtype, FieldSpec("text", 200))
    handle, handle_error = handle_rule(pl.col("value"))
    staged = (
        frame.with_columns(value=base.value, base_error=base.error)
        .with_columns(
            handle=handle,
            error=pl.when(pl.col("base_error").is_not_null())
            .then(pl.col("base_error"))
            .otherwise(handle_error),
        )
        .select(pl.when(pl.col("error").is_null()).then(pl.col("handle")).alias("value"), "error")
    )
    return staged["value"], staged["error"].cast(pl.String)


def _platform(expr: pl.Expr | None, dtype: pl.DataType, default: str | None) -> numbers.Parsed:
    fallback = pl.lit(default, dtype=pl.String)
    if expr is None:
        given = fallback
    else:
        text = _text(expr, dtype, FieldSpec("text", 40)).value.str.to_lowercase()
        given = pl.coalesce(text.replace(PLATFORM_ALIASES), fallback)
    error = (
        pl.when(given.is_null())
        .then(pl.lit("no platform (pass --platform or fill the platform column)"))
        .when(~given.is_in(PLATFORMS))
        .then(pl.lit(f"unknown platform; expected one of {', '.join(PLATFORMS)}"))
    )
    return numbers.Parsed(pl.when(error.is_null()).then(given), error)


def _post_type(expr: pl.Expr, dtype: pl.DataType) -> numbers.Parsed:
    text = _text(expr, dtype, FieldSpec("text", 40)).value
    key = text.str.to_lowercase().str.replace_all(r"[\s\-]", "").str.strip_prefix("graph")
    aliases = {k.removeprefix("graph"): v for k, v in POST_TYPE_ALIASES.items()}
    value = key.replace_strict(aliases, default=None, return_dtype=pl.String)
    error = pl.when(text.is_not_null() & value.is_null()).then(
        pl.lit(f"unknown post type; expected one of {', '.join(POST_TYPES)}")
    )
    return numbers.Parsed(value, error)


_TOKEN_KEYS = ("name", "title", "hashtag", "tag", "username", "handle", "unique_id", "text")


def _tokens(expr: pl.Expr, dtype: pl.DataType, *, handles: bool) -> numbers.Parsed:
    """A list of hashtags or handles from a list column or text such as '#a #b' or 'a, b'."""
    word = r"[\p{L}\p{M}\p{N}_.]+" if handles else r"[\p{L}\p{M}\p{N}_]+"
    inner: pl.Expr | None = None
    if isinstance(dtype, pl.List | pl.Array) and not dtype.inner.is_nested():
        inner = expr.cast(pl.List(pl.String))
    elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        # Scrapers give tags as objects: [{"name": "fitness", "id": …}] (TikTok), or users.
        names = {f.name for f in dtype.inner.fields if not f.dtype.is_nested()}
        key = next((k for k in _TOKEN_KEYS if k in names), None)
        if key is not None:
            inner = expr.list.eval(pl.element().struct.field(key).cast(pl.String))
    if inner is not None:
        tokens = inner.list.eval(
            pl.element().str.strip_chars().str.strip_chars_start("#@").str.to_lowercase()
        ).list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        return numbers.Parsed(tokens, pl.lit(None, dtype=pl.String))
    if dtype.is_nested():
        return numbers.Parsed(
            pl.lit(None, dtype=pl.List(pl.String)),
            pl.when(expr.is_not_null()).then(pl.lit("expected a list of text")),
        )
    text = expr.cast(pl.String)
    tokens = text.str.to_lowercase().str.extract_all(word)
    if handles:
        tokens = tokens.list.eval(pl.element().str.strip_chars_end("."))
    return numbers.Parsed(pl.when(~numbers.blank(text)).then(tokens), pl.lit(None, dtype=pl.String))


def caption_hashtags(caption: pl.Expr) -> pl.Expr:
    """#tags in a caption, lower case, in order, once each (Unicode letters count: #café)."""
    found = caption.str.extract_all(r"(?:^|[^\w&#/])#[\p{L}\p{M}\p{N}_]+")
    return found.list.eval(pl.element().str.replace(r"^[^#]*#", "").str.to_lowercase()).list.unique(
        maintain_order=True
    )


def caption_mentions(caption: pl.Expr) -> pl.Expr:
    """@handles in a caption (not e-mail addresses), lower case, in order, once each."""
    found = caption.str.extract_all(r"(?:^|[^\w@/.])@[\p{L}\p{N}_.]+")
    return found.list.eval(
        pl.element().str.replace(r"^[^@]*@", "").str.strip_chars_end(".").str.to_lowercase()
    ).list.unique(maintain_order=True)


def _coalesced(names: list[str], schema: pl.Schema) -> tuple[pl.Expr, pl.DataType]:
    """One expression over a field's columns: the first non-null value of each row."""
    if len(names) == 1:
        return pl.col(names[0]), schema[names[0]]
    dtypes = {schema[n] for n in names} - {pl.Null}
    if len(dtypes) <= 1:
        dtype = dtypes.pop() if dtypes else pl.String
        return pl.coalesce([pl.col(n).cast(dtype) for n in names]), dtype
    if any(d.is_nested() for d in dtypes):
        return pl.col(names[0]), schema[names[0]]
    return pl.coalesce([pl.col(n).cast(pl.String) for n in names]), pl.String


def parse_fields(
    frame: pl.DataFrame,
    columns: ColumnMap,
    specs: Mapping[str, FieldSpec],
    *,
    platform: str | None,
    rate_scale: str = "auto",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(values, errors): one column per mapped field; errors as (row, field, reason)."""
    schema = frame.schema
    exprs: list[pl.Expr] = []
    checks: list[pl.Expr] = []
    series_values: dict[str, pl.Series] = {}
    series_errors: dict[str, pl.Series] = {}
    for name, spec in specs.items():
        column = columns.get(name)
        if spec.kind == "platform":
            parsed = _platform(
                pl.col(column) if column else None,
                schema[column] if column else pl.String,
                platform,
            )
        elif column is None:
            continue
        elif spec.kind in _SERIES_PARSERS:
            expr, _dtype = _coalesced(columns.columns_for(name), schema)
            series = frame.select(expr.alias(name)).to_series()
            if spec.kind == "rate":
                scale = "percent" if rate_scale == "auto" and percent_hint(column) else rate_scale
                value, error = numbers.rate_values(series, scale=scale)
            else:
                value, error = _SERIES_PARSERS[spec.kind](series)
            series_values[name] = value.alias(name)
            series_errors[name] = error.alias(f"\x00{name}")
            continue
        else:
            expr, dtype = _coalesced(columns.columns_for(name), schema)
            if spec.kind in ("tags", "handles"):
                parsed = _tokens(expr, dtype, handles=spec.kind == "handles")
            elif spec.kind == "post_type":
                parsed = _post_type(expr, dtype)
            else:
                parsed = _text(expr, dtype, spec)
        exprs.append(parsed.value.alias(name))
        checks.append(parsed.error.alias(f"\x00{name}"))
    # with_columns, not select: a literal (the --platform default) must fill every row.
    both = (
        frame.with_columns(*exprs, *checks).select(
            [e.meta.output_name() for e in [*exprs, *checks]]
        )
        if exprs
        else pl.DataFrame()
    )
    order = [n for n in specs if n in both.columns or n in series_values]
    values = (
        pl.DataFrame([series_values[n] if n in series_values else both[n] for n in order])
        if order
        else pl.DataFrame(schema={})
    )
    wide = (
        pl.DataFrame([series_errors[n] if n in series_errors else both[f"\x00{n}"] for n in order])
        if order
        else pl.DataFrame()
    )
    if not wide.width:
        return values, _NO_ERRORS
    flagged = wide.with_row_index("row").filter(pl.any_horizontal(pl.exclude("row").is_not_null()))
    if not flagged.height:
        return values, _NO_ERRORS
    errors = (
        flagged.unpivot(index="row", variable_name="field", value_name="reason")
        .filter(pl.col("reason").is_not_null())
        .with_columns(pl.col("field").str.strip_prefix("\x00"))
        .sort("row", maintain_order=True)
    )
    return values, errors


_SERIES_PARSERS = {
    "handle": handle_values,
    "count": numbers.count_values,
    "interactions": numbers.interaction_count_values,
    "number": numbers.number_values,
    "rate": numbers.rate_values,
    "bool": numbers.bool_values,
    "time": numbers.timestamp_values,
}
_NO_ERRORS = pl.DataFrame(schema={"row": pl.UInt32, "field": pl.String, "reason": pl.String})


def _cell(chunk: Chunk, row: int, column: str | None) -> str | None:
    if column is None or column not in chunk.frame.columns:
        return None
    value = chunk.frame[column][row]
    if value is None:
        return None
    if isinstance(value, pl.Series):
        value = value.to_list()
    return str(value)[:200]


def _rejections(
    chunk: Chunk, errors: pl.DataFrame, columns: ColumnMap, file: str
) -> tuple[pl.Series, list[Rejection]]:
    """The rejected rows (mask) and one Rejection per row, reasons joined."""
    per_row = errors.group_by("row", maintain_order=True).agg(
        pl.col("field").first(),
        pl.concat_str([pl.col("field"), pl.lit(": "), pl.col("reason")]).alias("reason"),
    )
    lines = chunk.lines.gather(per_row["row"])
    rejections = []
    for row, field, reasons, line in zip(
        per_row["row"].to_list(),
        per_row["field"].to_list(),
        per_row["reason"].to_list(),
        lines.to_list(),
        strict=True,
    ):
        rejections.append(
            Rejection(
                file=file,
                line=line,
                field=field,
                reason="; ".join(reasons),
                value=_cell(chunk, row, columns.get(field)),
                row=chunk.raw(row),
            )
        )
    flags = np.zeros(chunk.frame.height, dtype=bool)
    flags[per_row["row"].to_numpy()] = True
    mask = pl.Series(flags)
    return mask, rejections


def first_error(chunk: Chunk, errors: pl.DataFrame, columns: ColumnMap, file: str) -> InputError:
    """The first bad row's error, with how many other rows of its batch are bad and how to
    import the valid rows (:func:`microfluence.ingest.rejects.refused`)."""
    row, field, reason = errors.row(0)
    value = _cell(chunk, row, columns.get(field))
    return refused(
        f"{reason} ({value!r})" if value is not None else reason,
        file=file,
        line=int(chunk.lines[row]),
        field=field,
        value=value,
        others=errors["row"].n_unique() - 1,
    )


Write = Callable[[StoreWriter, pl.DataFrame, ImportReport], None]


@dataclass(frozen=True)
class TableKind:
    """One table importer: its name, the fields it reads, how they are checked and written."""

    name: str  # creators, posts: the import run's kind
    variants: Mapping[str, Sequence[str]]  # field → the column names that mean it
    specs: Mapping[str, FieldSpec]
    write: Write  # checked rows → the store (in the write phase)
    required: Sequence[str] = ("handle",)


@dataclass
class TableOptions:
    """How the caller asked for a table to be imported (the importers' keyword arguments)."""

    platform: str | None = None
    mapping: Mapping[str, str] | None = None
    skip_invalid: bool = False
    rejects_path: str | Path | None = None
    progress: ProgressCallback | None = None
    rate_scale: str = "auto"
    chunk_rows: int | None = None
    cancel: CancelCheck | None = None


def _check_options(options: TableOptions) -> str | None:
    """The options' rate scale checked and platform normalised (None: from the file)."""
    if options.rate_scale not in numbers.RATE_SCALES:
        raise InputError(
            f"rate scale must be one of {', '.join(numbers.RATE_SCALES)}", field="rate_scale"
        )
    if options.platform is None:
        return None
    key = options.platform.strip().lower()
    platform = PLATFORM_ALIASES.get(key, key)
    if platform not in PLATFORMS:
        raise InputError(
            f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}",
            field="platform",
        )
    return platform


@dataclass
class _Columns:
    """Which column holds which field, resolved once per distinct header (JSON Lines records
    may differ), with the columns nobody used."""

    table: TableKind
    mapping: Mapping[str, str] | None
    file: str
    resolved: dict[tuple[str, ...], ColumnMap] = dataclass_field(default_factory=dict)
    ignored: dict[str, None] = dataclass_field(default_factory=dict)

    def of(self, names: Sequence[str], report: ImportReport) -> ColumnMap:
        key = tuple(names)
        if key not in self.resolved:
            columns = self._resolve(names)
            self.resolved[key] = columns
            if not report.columns:
                report.columns = dict(columns.fields)
            self.ignored.update(dict.fromkeys(columns.ignored))
        return self.resolved[key]

    def _resolve(self, names: Sequence[str]) -> ColumnMap:
        return resolve_columns(
            names, self.table.variants, self.mapping, file=self.file, required=self.table.required
        )

    def finish(self, reader: TableReader, report: ImportReport) -> None:
        if not self.resolved and reader.columns is not None:
            self._resolve(reader.columns)  # a header without rows: does it lack a column?
        report.ignored_columns = list(self.ignored)


def _checked_rows(
    chunk: Chunk,
    columns: ColumnMap,
    table: TableKind,
    platform: str | None,
    options: TableOptions,
    report: ImportReport,
) -> pl.DataFrame:
    """The chunk's valid rows, parsed; a bad row raises, or with ``skip_invalid`` is rejected."""
    file = report.source
    values, errors = parse_fields(
        chunk.frame, columns, table.specs, platform=platform, rate_scale=options.rate_scale
    )
    report.rows_read += chunk.frame.height
    if not errors.height:
        return values
    if not options.skip_invalid:
        raise first_error(chunk, errors, columns, file)
    mask, rejected = _rejections(chunk, errors, columns, file)
    for rejection in rejected:
        report.reject(rejection)  # streamed to the rejects file
    return values.filter(~mask)


def run_table_import(
    store: Store,
    workspace: str,
    path: str | Path,
    table: TableKind,
    options: TableOptions,
) -> ImportReport:
    """Read, check and stage every chunk of ``path``, then write them in one transaction
    (:mod:`microfluence.ingest.write.stage`); bad rows stop it or go to the rejects file."""
    path = Path(path)
    file = str(path)
    platform = _check_options(options)
    guard = ImportGuard.from_settings(options.cancel)
    reader = TableReader(
        path, chunk_rows=options.chunk_rows, progress=options.progress, guard=guard
    )
    report = ImportReport(kind=table.name, source=file, workspace=workspace)
    rejects = None
    if options.skip_invalid:
        rejects = Path(options.rejects_path) if options.rejects_path else default_rejects_path(path)
    columns = _Columns(table, options.mapping, file)
    with StagedImport(
        store, workspace, table.name, file, report, guard=guard, rejects_path=rejects
    ) as run:
        for chunk in reader:
            found = columns.of(chunk.frame.columns, report)
            run.stage("rows", _checked_rows(chunk, found, table, platform, options, report))
        columns.finish(reader, report)
        run.write(lambda writer, _tag, frame: table.write(writer, frame, report))
    return report
