"""Discount codes as CSV: exported for a shop's bulk import, imported from a list made
elsewhere (a shop's export, a spreadsheet).

Columns, in this order (docs/commerce.md): ``code, kind, value, single_use, batch, creator,
creator_id, campaign, created_at, disabled_at``. ``code`` comes first, so a tool that wants one
code per line reads the first column. On import only ``code`` is required; a row is checked as a
whole file first (vectorised), and the file is written in one go or not at all; a bad row is
named by its line (the header is line 1) and its field.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import IO

import polars as pl
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.errors import InputError, MicrofluenceError
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.tracking import codes as C
from microfluence.tracking.tables import DiscountCode

COLUMNS = (
    "code",
    "kind",
    "value",
    "single_use",
    "batch",
    "creator",
    "creator_id",
    "campaign",
    "created_at",
    "disabled_at",
)
TRUE = ("true", "yes", "1", "y")
FALSE = ("false", "no", "0", "n", "")
MAX_ROWS = 100_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A cell as text; one a spreadsheet would run as a formula is prefixed with ``'``."""
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_codes(session: Session, workspace_id: int, out: IO[str], **filters: object) -> int:
    """Write the workspace's codes (optionally one creator's, campaign's or batch's) as CSV."""
    rows = session.execute(
        select(
            DiscountCode.code,
            DiscountCode.kind,
            DiscountCode.value,
            DiscountCode.single_use,
            DiscountCode.batch,
            Creator.name,
            DiscountCode.creator_id,
            Campaign.name,
            DiscountCode.created_at,
            DiscountCode.disabled_at,
        )
        .outerjoin(Creator, Creator.id == DiscountCode.creator_id)
        .outerjoin(Campaign, Campaign.id == DiscountCode.campaign_id)
        .where(DiscountCode.workspace_id == workspace_id, *_filters(filters))
        .order_by(DiscountCode.code_key)
    ).all()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(
        [_cell(v).lower() if isinstance(v, bool) else _cell(v) for v in row] for row in rows
    )
    return len(rows)


def _filters(filters: dict[str, object]) -> list:
    where = []
    for name in ("creator_id", "campaign_id", "batch"):
        if filters.get(name) is not None:
            where.append(getattr(DiscountCode, name) == filters[name])
    return where


def _read(source: Path | IO[bytes], name: str) -> pl.DataFrame:
    try:
        data = source.read_bytes() if isinstance(source, Path) else source.read()
        frame = pl.read_csv(
            io.BytesIO(data), infer_schema=False, n_rows=MAX_ROWS + 1, truncate_ragged_lines=False
        )
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or ["unreadable"])[0]
        raise InputError(f"not a readable CSV file: {first}", file=name) from None
    if "code" not in frame.columns:
        raise InputError("the file has no 'code' column", file=name, line=1, field="code")
    if frame.height > MAX_ROWS:
        raise InputError(f"more than {MAX_ROWS} codes in one file", file=name)
    missing = [c for c in COLUMNS if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return frame.with_columns(pl.col(c).str.strip_chars() for c in COLUMNS).with_row_index(
        "line", offset=2
    )


def _first_bad(frame: pl.DataFrame, bad: pl.Expr, name: str, field: str, why: str) -> None:
    hit = frame.filter(bad)
    if hit.height:
        row = hit.row(0, named=True)
        value = row.get(field)
        raise InputError(
            f"{why} (got {str(value)[:60]!r}; {hit.height} bad row(s) in all)",
            file=name,
            line=row["line"],
            field=field,
            value=value,
        )


def _checked(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    frame = frame.with_columns(
        kind=pl.col("kind").fill_null("percent").str.to_lowercase().replace("", "percent"),
        single_use=pl.col("single_use").fill_null("").str.to_lowercase(),
        key=pl.col("code").str.to_uppercase(),
        amount=pl.col("value").str.strip_chars_end("%").cast(pl.Float64, strict=False),
    )
    checks = [
        (~pl.col("code").fill_null("").str.contains(C.CUSTOM.pattern), "code", C.CODE_HINT),
        (~pl.col("key").is_first_distinct(), "code", "the code appears twice in the file"),
        (~pl.col("kind").is_in(C.KINDS), "kind", f"use one of {', '.join(C.KINDS)}"),
        (~pl.col("single_use").is_in(TRUE + FALSE), "single_use", "use true or false"),
        (
            pl.col("value").is_not_null() & (pl.col("value") != "") & pl.col("amount").is_null(),
            "value",
            "not a number",
        ),
        (
            (pl.col("kind") != "shipping")
            & (
                pl.col("amount").is_null()
                | (pl.col("amount") <= 0)
                | ((pl.col("kind") == "percent") & (pl.col("amount") > 100))
            ),
            "value",
            "a discount above 0 (at most 100 for a percentage) is needed",
        ),
        (
            pl.col("creator_id").is_not_null()
            & (pl.col("creator_id") != "")
            & pl.col("creator_id").cast(pl.Int64, strict=False).is_null(),
            "creator_id",
            "not a creator id",
        ),
        (pl.col("batch").fill_null("").str.len_chars() > 64, "batch", "at most 64 characters"),
    ]
    for bad, field, why in checks:
        _first_bad(frame, bad, name, field, why)
    return frame


def _resolve_names(
    session: Session, workspace_id: int, frame: pl.DataFrame, name: str
) -> pl.DataFrame:
    """Creator references and campaign names to ids: each distinct value looked up once."""
    creators: dict[str, int] = {}
    for ref in frame["creator"].drop_nulls().unique().to_list():
        if not ref:
            continue
        try:
            owner = C.resolve_owner(session, workspace_id, creator=ref)
        except MicrofluenceError as exc:
            line = frame.filter(pl.col("creator") == ref)["line"][0]
            raise InputError(str(exc), file=name, line=line, field="creator", value=ref) from None
        creators[ref] = owner.creator_id or 0
    ids = {int(v) for v in frame["creator_id"].drop_nulls().to_list() if v}
    known = set(
        session.scalars(
            select(Creator.id).where(Creator.workspace_id == workspace_id, Creator.id.in_(ids))
        )
    )
    _first_bad(
        frame,
        pl.col("creator_id").cast(pl.Int64, strict=False).is_in(sorted(ids - known)),
        name,
        "creator_id",
        "no such creator in this workspace",
    )
    wanted = [c for c in frame["campaign"].drop_nulls().unique().to_list() if c]
    campaigns = dict(
        session.execute(
            select(Campaign.name, Campaign.id).where(
                Campaign.workspace_id == workspace_id, Campaign.name.in_(wanted)
            )
        ).all()
    )
    _first_bad(
        frame,
        pl.col("campaign").is_in([c for c in wanted if c not in campaigns]),
        name,
        "campaign",
        "no such campaign in this workspace",
    )
    return frame.with_columns(
        creator_ref=pl.coalesce(
            pl.col("creator_id").cast(pl.Int64, strict=False),
            pl.col("creator").replace_strict(creators, default=None, return_dtype=pl.Int64),
        ),
        campaign_ref=pl.col("campaign").replace_strict(
            campaigns, default=None, return_dtype=pl.Int64
        ),
    )


def import_codes(
    session: Session, workspace_id: int, source: Path | IO[bytes], name: str | None = None
) -> int:
    """Add the codes of a CSV file (columns above); every row is checked first, codes already
    in the workspace are named by line, and all rows are written or none. Returns the count."""
    name = name or (str(source) if isinstance(source, Path) else "codes.csv")
    frame = _checked(_read(source, name), name)
    frame = _resolve_names(session, workspace_id, frame, name)
    taken = C.taken_keys(session, workspace_id, frame["key"].to_list())
    _first_bad(frame, pl.col("key").is_in(sorted(taken)), name, "code", "already in the workspace")
    now = utcnow()
    rows = frame.select(
        workspace_id=pl.lit(workspace_id),
        code=pl.col("code"),
        code_key=pl.col("key"),
        creator_id=pl.col("creator_ref"),
        campaign_id=pl.col("campaign_ref"),
        deal_id=pl.lit(None, dtype=pl.Int64),
        kind=pl.col("kind"),
        value=pl.when(pl.col("kind") == "shipping").then(None).otherwise(pl.col("value")),
        single_use=pl.col("single_use").is_in(TRUE),
        batch=pl.when(pl.col("batch") == "").then(None).otherwise(pl.col("batch")),
        created_at=pl.lit(now),
    ).to_dicts()
    for row in rows:  # Numeric columns take Decimals on every driver.
        row["value"] = Decimal(row["value"].rstrip("%")) if row["value"] else None
    if rows and not C.insert_codes(session, rows):
        raise InputError("a code of the file was added meanwhile: import it again", file=name)
    _link_deals(session, workspace_id)
    return len(rows)


def _link_deals(session: Session, workspace_id: int) -> None:
    """Codes with a creator and a campaign count for the creator's deal in it (one statement)."""
    deal = (
        select(Deal.id)
        .where(
            and_(
                Deal.campaign_id == DiscountCode.campaign_id,
                Deal.creator_id == DiscountCode.creator_id,
            )
        )
        .scalar_subquery()
    )
    session.execute(
        update(DiscountCode)
        .where(
            DiscountCode.workspace_id == workspace_id,
            DiscountCode.deal_id.is_(None),
            DiscountCode.campaign_id.is_not(None),
            DiscountCode.creator_id.is_not(None),
        )
        .values(deal_id=deal)
    )
