"""The rules of a campaign's and a deal's values, one function per kind of value, each raising
``InputError`` naming the field: the pydantic schemas of the API, the commands and the pages all
go through these, so a value is accepted or refused alike everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from microfluence.campaigns.tables import CAMPAIGN_STATUSES, DELIVERABLE_FORMATS, GOALS
from microfluence.kernel.errors import InputError

# The KPIs a campaign may set a target for (docs/campaigns.md; computed by the measurement
# capability from the campaign's clicks, orders and posts).
KPI_NAMES = (
    "clicks",
    "unique_clicks",
    "orders",
    "conversion_rate",
    "revenue",
    "net_revenue",
    "revenue_per_click",
    "average_order_value",
    "roi",
    "roas",
    "cpa",
    "cpc",
    "cpe",
    "cpm",
    "engagements",
    "impressions",
    "reach",
    "posts",
    "emv",
)
# draft → active ↔ paused → ended: where a campaign may go from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("active",),
    "active": ("paused", "ended"),
    "paused": ("active", "ended"),
    "ended": (),
}
assert set(TRANSITIONS) == set(CAMPAIGN_STATUSES)

MONEY_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
TARGET_MAX = 1e15
PIECES_MAX = 100  # pieces of one format in one deal
TAG_MAX = 100
TAGS_MAX = 50
NAME_MAX = 200
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TAG = re.compile(r"^[\w.\-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_name(text: Any, *, field: str = "name") -> str:
    name = text.strip() if isinstance(text, str) else ""
    if not name:
        raise InputError("a campaign needs a name", field=field)
    if len(name) > NAME_MAX or _CONTROL.search(name):
        raise InputError(
            f"at most {NAME_MAX} characters, without control characters", field=field, value=text
        )
    return name


def parse_notes(text: Any, *, field: str = "notes") -> str | None:
    """Free text; blank is none. No NUL character: PostgreSQL cannot store it in text."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError("expected text", field=field)
    if "\x00" in text:
        raise InputError("contains a NUL character", field=field)
    return text.strip() or None


LINES_MAX = 30  # dos, don'ts
LINE_MAX = 300
DISCLOSURE_MAX = 200


def parse_lines(value: Any, *, field: str) -> list[str]:
    """The brief's dos or don'ts: a list of short lines (or one text, a line each), blank lines
    dropped, at most LINES_MAX of at most LINE_MAX characters, no control characters."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError("expected a list of lines", field=field)
    lines = [v.strip() for v in value if v.strip()]
    if len(lines) > LINES_MAX:
        raise InputError(f"at most {LINES_MAX} lines", field=field)
    for line in lines:
        if len(line) > LINE_MAX or _CONTROL.search(line):
            raise InputError(
                f"each line at most {LINE_MAX} characters, without control characters",
                field=field,
                value=line[:60],
            )
    return lines


def parse_disclosure(text: Any, *, field: str = "disclosure") -> str | None:
    """The ad disclosure a creator must use (``#ad``, the platform's paid-partnership label)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError("expected text", field=field)
    if len(text.strip()) > DISCLOSURE_MAX or _CONTROL.search(text):
        raise InputError(
            f"at most {DISCLOSURE_MAX} characters, without control characters", field=field
        )
    return text.strip() or None


def parse_goal(text: Any, *, field: str = "goal") -> str:
    goal = text.strip().lower() if isinstance(text, str) else ""
    if goal not in GOALS:
        raise InputError(f"unknown goal {text!r}; expected one of {', '.join(GOALS)}", field=field)
    return goal


def parse_status(text: Any, *, field: str = "status") -> str:
    status = text.strip().lower() if isinstance(text, str) else ""
    if status not in CAMPAIGN_STATUSES:
        raise InputError(
            f"unknown status {text!r}; expected one of {', '.join(CAMPAIGN_STATUSES)}", field=field
        )
    return status


def check_transition(current: str, new: str) -> None:
    """A campaign goes draft → active ↔ paused → ended; staying where it is is allowed."""
    if new != current and new not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nowhere (it has ended)"
        raise InputError(
            f"a {current} campaign cannot become {new}; it may become: {allowed}", field="status"
        )


def parse_currency(text: Any, *, field: str = "currency") -> str:
    """An ISO 4217 code: three letters, stored upper-cased ("eur" → "EUR")."""
    code = text.strip() if isinstance(text, str) else ""
    if not _CURRENCY.match(code):
        raise InputError(
            f"expected a 3-letter ISO 4217 currency code (e.g. EUR), got {str(text)[:20]!r}",
            field=field,
        )
    return code.upper()


def parse_date(value: Any, *, field: str) -> dt.date | None:
    """A date (``2026-07-01``), None for blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"not a date (YYYY-MM-DD): {str(value)[:40]!r}", field=field, value=value
        ) from None


def check_dates(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise InputError(
            f"the campaign ends ({ends_on}) before it starts ({starts_on})", field="ends_on"
        )


def parse_money(value: Any, *, field: str) -> Decimal:
    """An amount ≥ 0 with at most two decimal places ("12.5" → Decimal("12.50"))."""
    if isinstance(value, bool):
        raise InputError("not an amount", field=field, value=value)
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("_", ""))
    except (InvalidOperation, ValueError):
        raise InputError(f"not an amount: {str(value)[:40]!r}", field=field, value=value) from None
    if not amount.is_finite():
        raise InputError("not a finite amount", field=field, value=value)
    if amount < 0:
        raise InputError("an amount cannot be negative", field=field, value=value)
    if amount > MONEY_MAX:
        raise InputError(f"at most {MONEY_MAX}", field=field, value=value)
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError("at most two decimal places", field=field, value=value)
    return amount.quantize(Decimal("0.01"))


def parse_rate(value: Any, *, field: str = "commission_rate") -> Decimal:
    """A fraction 0–1, given as 0.10 or as "10%" (a percentage), at most 4 decimal places."""
    if isinstance(value, bool):
        raise InputError("not a rate", field=field, value=value)
    text = str(value).strip().replace(" ", "")
    percent = text.endswith("%")
    try:
        rate = Decimal(text.rstrip("%"))
    except (InvalidOperation, ValueError):
        raise InputError(
            f"not a rate (0.10 or 10%): {str(value)[:40]!r}", field=field, value=value
        ) from None
    if not rate.is_finite():
        raise InputError("not a finite rate", field=field, value=value)
    if percent:
        rate = rate / 100
    if rate < 0 or rate > 1:
        raise InputError("a rate is a fraction from 0 to 1 (or 0% to 100%)", field=field)
    if rate != rate.quantize(Decimal("0.0001")):
        raise InputError("at most 4 decimal places as a fraction (0.1234)", field=field)
    return rate.quantize(Decimal("0.0001"))


def parse_targets(value: Any, *, field: str = "targets") -> dict[str, float]:
    """KPI name → a positive number, names from :data:`KPI_NAMES`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError("expected KPI=number pairs (e.g. clicks=10000)", field=field)
    targets: dict[str, float] = {}
    for raw_name, raw in value.items():
        name = str(raw_name).strip().lower()
        where = f"{field}.{str(raw_name)[:40]}"
        if name not in KPI_NAMES:
            raise InputError(
                f"unknown KPI {str(raw_name)[:40]!r}; expected one of {', '.join(KPI_NAMES)}",
                field=where,
            )
        try:
            number = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number <= 0 or number > TARGET_MAX:
            raise InputError(f"a target is a positive number, got {str(raw)[:40]!r}", field=where)
        targets[name] = int(number) if number.is_integer() else number
    return targets


def parse_tags(values: Any, *, field: str, sign: str) -> list[str]:
    """Hashtags (``sign`` "#") or mentions ("@") as stored: lower case, without the leading
    sign, de-duplicated in the order given. A text is split on spaces and commas."""
    if values is None:
        return []
    if isinstance(values, str):
        values = re.split(r"[\s,]+", values)
    if not isinstance(values, Iterable):
        raise InputError("expected a list", field=field)
    tags: list[str] = []
    for raw in values:
        text = raw.strip() if isinstance(raw, str) else None
        if text is None:
            raise InputError(f"not text: {raw!r}", field=field)
        tag = text.lstrip(sign).lower()
        if not text:
            continue
        if not tag or len(tag) > TAG_MAX or not _TAG.match(tag):
            raise InputError(
                f"not a valid {'hashtag' if sign == '#' else 'mention'}: {text[:60]!r} "
                "(letters, digits, '_', '.', '-')",
                field=field,
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InputError(f"at most {TAGS_MAX}", field=field)
    return tags


def parse_package(value: Any, *, field: str = "package") -> dict[str, int]:
    """Deliverables by format: ``{"feed_post": 2, "reel": 1}``, or the text
    ``"feed_post=2 reel=1"``. Formats from DELIVERABLE_FORMATS; counts 0–100 (0: none)."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = _pairs(value.replace(",", " ").split(), field=field)
    if not isinstance(value, Mapping):
        raise InputError("expected FORMAT=COUNT pairs (e.g. feed_post=2 reel=1)", field=field)
    package: dict[str, int] = {}
    for raw_format, raw_count in value.items():
        name = str(raw_format).strip().lower()
        if name not in DELIVERABLE_FORMATS:
            raise InputError(
                f"unknown format {str(raw_format)[:40]!r}; expected one of "
                f"{', '.join(DELIVERABLE_FORMATS)}",
                field=field,
            )
        try:
            count = int(str(raw_count).strip()) if not isinstance(raw_count, bool) else -1
        except ValueError:
            count = -1
        if not 0 <= count <= PIECES_MAX:
            raise InputError(
                f"{name}: a count from 0 to {PIECES_MAX}, got {str(raw_count)[:20]!r}", field=field
            )
        package[name] = package.get(name, 0) + count
        if package[name] > PIECES_MAX:
            raise InputError(f"{name}: at most {PIECES_MAX} pieces", field=field)
    return {k: v for k, v in package.items() if v}


def parse_due(value: Any, *, field: str = "due") -> dict[str, dt.date | None]:
    """Due dates: one date for every format (key ``"*"``), or format → date. Accepts a date, a
    mapping, or texts ``2026-07-01`` / ``reel=2026-07-10`` (several, space-separated)."""
    if value is None or value == "":
        return {}
    if isinstance(value, dt.date | dt.datetime):
        return {"*": parse_date(value, field=field)}
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if isinstance(value, list | tuple):
        items: dict[str, Any] = {}
        for text in value:
            name, sep, day = str(text).partition("=")
            items.update({name: day} if sep else {"*": name})
        value = items
    if not isinstance(value, Mapping):
        raise InputError("expected a date or FORMAT=DATE pairs", field=field)
    due: dict[str, dt.date | None] = {}
    for raw_format, day in value.items():
        name = str(raw_format).strip().lower()
        if name not in (*DELIVERABLE_FORMATS, "*"):
            raise InputError(
                f"unknown format {str(raw_format)[:40]!r} for a due date; expected one of "
                f"{', '.join(DELIVERABLE_FORMATS)}",
                field=field,
            )
        due[name] = parse_date(day, field=field)
    return due


def due_for(due: Mapping[str, dt.date | None], fmt: str) -> dt.date | None:
    return due.get(fmt, due.get("*"))


def _pairs(texts: list[str], *, field: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for text in texts:
        name, sep, count = text.partition("=")
        if not sep:
            raise InputError(f"expected FORMAT=COUNT, got {text[:40]!r}", field=field)
        pairs[name] = str(int(pairs.get(name, 0)) + _count(count, field=field))
    return pairs


def _count(text: str, *, field: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"not a count: {text[:20]!r}", field=field) from None


def parse_key_values(texts: Iterable[str], *, field: str) -> dict[str, str]:
    """``["clicks=10000", "roi=1.5"]`` → ``{"clicks": "10000", "roi": "1.5"}`` (the commands'
    repeatable KEY=VALUE options)."""
    pairs: dict[str, str] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise InputError(f"expected NAME=VALUE, got {text[:40]!r}", field=field)
        pairs[name.strip()] = value.strip()
    return pairs
