"""Shapes of tasks: what may be sent to create or change one, what is answered, and the rules of
their values (a due date, a title, an assignee), each raising ``InputError`` naming the field so
the command, the API and the pages refuse a value alike."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from microfluence.access.users import normalise_email
from microfluence.catalog.schemas import ID_MAX, UtcDateTime
from microfluence.kernel.errors import InputError
from microfluence.relationships.tables import TASK_KINDS

TITLE_MAX = 300
DUE_MAX_DAYS = 3660  # a due date at most ten years from today: further is a typo
_RELATIVE = re.compile(r"^\+?(\d{1,4})\s*(d|day|days|w|week|weeks)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

TaskKind = Literal["follow_up", "shipment", "review", "deliverable", "other"]
assert set(TaskKind.__args__) == set(TASK_KINDS)  # type: ignore[attr-defined]
TaskStatus = Literal["open", "done", "all"]
Id = Annotated[int, Field(ge=1, le=ID_MAX)]


def parse_due_on(value: Any, *, today: dt.date, field: str = "due_on") -> dt.date | None:
    """A due date: ``2026-07-01``, ``today``, ``tomorrow``, ``+3d`` / ``3 days`` / ``2w`` (from
    ``today``); blank is none. Day-first or month-first forms (``01/07/2026``) are refused as
    ambiguous, naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip().lower()
        relative = _RELATIVE.match(text)
        if text in ("today", "tomorrow"):
            day = today + dt.timedelta(days=int(text == "tomorrow"))
        elif relative:
            weeks = relative.group(2).startswith("w")
            day = today + dt.timedelta(days=int(relative.group(1)) * (7 if weeks else 1))
        else:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(
                    f"not a date: {str(value)[:40]!r}; write YYYY-MM-DD, today, tomorrow or +3d",
                    field=field,
                    value=value,
                ) from None
    if abs((day - today).days) > DUE_MAX_DAYS:
        raise InputError(f"{day} is more than ten years from today", field=field, value=value)
    return day


def parse_title(value: Any, *, field: str = "title") -> str:
    title = value.strip() if isinstance(value, str) else ""
    if not title:
        raise InputError("a task needs a title", field=field)
    if len(title) > TITLE_MAX or _CONTROL.search(title):
        raise InputError(
            f"at most {TITLE_MAX} characters, without control characters", field=field, value=value
        )
    return title


def parse_assignee(value: Any, *, field: str = "assignee") -> str | None:
    """An e-mail address (lower case), or None for blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return normalise_email(str(value))
    except InputError as exc:
        raise InputError(exc.message, field=field, value=value) from None


def parse_kind(value: Any, *, field: str = "kind") -> str:
    kind = str(value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in TASK_KINDS:
        raise InputError(
            f"unknown kind {str(value)[:40]!r}; one of {', '.join(TASK_KINDS)}", field=field
        )
    return kind


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


DueText = Annotated[
    dt.date | str | None,
    Field(
        description="YYYY-MM-DD, today, tomorrow or +Nd (days from today); null for no date.",
        examples=["2026-07-01", "+3d"],
    ),
]


class TaskCreate(Strict):
    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
    kind: TaskKind = "other"
    due_on: DueText = None
    deal_id: Id | None = Field(default=None, description="The deal it is about (its creator too).")
    creator_id: Id | None = Field(default=None, description="The creator it is about.")
    assignee: Annotated[str | None, Field(max_length=320, description="An e-mail address.")] = None


class TaskUpdate(Strict):
    """Only the fields sent are changed; ``null`` clears ``due_on``, ``assignee``, ``deal_id``
    and ``creator_id``."""

    title: Annotated[str | None, Field(min_length=1, max_length=TITLE_MAX)] = None
    kind: TaskKind | None = None
    due_on: DueText = None
    deal_id: Id | None = None
    creator_id: Id | None = None
    assignee: Annotated[str | None, Field(max_length=320)] = None


class TaskPublic(BaseModel):
    id: int
    kind: str
    title: str
    due_on: dt.date | None
    status: Literal["open", "done"]
    done_at: UtcDateTime | None
    done_by: str | None
    assignee: str | None
    deal_id: int | None
    creator_id: int | None
    creator_name: str | None
    campaign_id: int | None
    campaign_name: str | None
    created_by: str | None
    created_at: UtcDateTime
