"""Shortlists: named lists of creators with a note each, that a campaign takes creators from
(docs/discovery.md, "Shortlists"). A creator is added by the account a search found
(``account_ids``), by ``PLATFORM:HANDLE``, or by creator id; the account is kept so a campaign's
deal is about the account the search found. Adding resolves every reference first, so a bad one
adds nothing."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.catalog.accounts import find_account_by_reference
from microfluence.catalog.schemas import UtcDateTime  # answers say UTC (RFC 3339)
from microfluence.discovery.tables import Shortlist, ShortlistEntry
from microfluence.kernel.cells import neutralise_formulas
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.relationships.prospects import add_prospects
from microfluence.relationships.schemas import ProspectsResult

MAX_NAME = 200
MAX_NOTE = 5000
MAX_BATCH = 1000


@dataclass
class Entry:
    creator_id: int
    creator_name: str | None
    account_id: int | None
    platform: str | None
    handle: str | None
    note: str | None
    added_by: str | None
    added_at: UtcDateTime


@dataclass
class ShortlistInfo:
    id: int
    name: str
    description: str | None
    entries: int
    created_by: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


@dataclass
class ShortlistDetail(ShortlistInfo):
    items: list[Entry] = field(default_factory=list)


@dataclass
class AddResult:
    added: list[int]  # creator ids
    already: list[int]


def _name(name: str | None) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InputError(f"a shortlist's name has 1 to {MAX_NAME} characters", field="name")
    return name


def _note(note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    if len(note) > MAX_NOTE:
        raise InputError(f"a note has at most {MAX_NOTE} characters", field="note")
    return note.strip()


def find_shortlist(session: Session, workspace_id: int, shortlist_id: int) -> Shortlist:
    found = session.scalar(
        select(Shortlist).where(
            Shortlist.id == shortlist_id, Shortlist.workspace_id == workspace_id
        )
    )
    if found is None:
        raise NotFoundError(f"no shortlist with id {shortlist_id}")
    return found


def _clash(session: Session, workspace_id: int, name: str, but: int | None = None) -> None:
    query = select(Shortlist.id).where(
        Shortlist.workspace_id == workspace_id, Shortlist.name == name
    )
    if but is not None:
        query = query.where(Shortlist.id != but)
    if session.scalar(query) is not None:
        raise ConflictError(f"a shortlist named {name!r} already exists")


def create_shortlist(
    session: Session,
    workspace_id: int,
    name: str,
    *,
    description: str | None = None,
    actor: str | None = None,
) -> ShortlistInfo:
    name = _name(name)
    _clash(session, workspace_id, name)
    now = utcnow()
    shortlist = Shortlist(
        workspace_id=workspace_id,
        name=name,
        description=_note(description),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(shortlist)
    session.flush()
    return _info(shortlist, 0)


def update_shortlist(
    session: Session,
    workspace_id: int,
    shortlist_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
) -> ShortlistInfo:
    shortlist = find_shortlist(session, workspace_id, shortlist_id)
    if name is not None:
        shortlist.name = _name(name)
        _clash(session, workspace_id, shortlist.name, but=shortlist.id)
    if description is not None:
        shortlist.description = _note(description)
    shortlist.updated_at = utcnow()
    session.flush()
    return _info(shortlist, _counts(session, workspace_id).get(shortlist.id, 0))


def delete_shortlist(session: Session, workspace_id: int, shortlist_id: int) -> None:
    find_shortlist(session, workspace_id, shortlist_id)
    session.execute(
        delete(Shortlist).where(
            Shortlist.id == shortlist_id, Shortlist.workspace_id == workspace_id
        )
    )


def _counts(session: Session, workspace_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(ShortlistEntry.shortlist_id, func.count())
            .where(ShortlistEntry.workspace_id == workspace_id)
            .group_by(ShortlistEntry.shortlist_id)
        ).all()
    )


def _info(s: Shortlist, entries: int) -> ShortlistInfo:
    return ShortlistInfo(
        id=s.id,
        name=s.name,
        description=s.description,
        entries=entries,
        created_by=s.created_by,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


def list_shortlists(session: Session, workspace_id: int) -> list[ShortlistInfo]:
    counts = _counts(session, workspace_id)
    rows = session.scalars(
        select(Shortlist).where(Shortlist.workspace_id == workspace_id).order_by(Shortlist.name)
    )
    return [_info(s, counts.get(s.id, 0)) for s in rows]


def get_shortlist(session: Session, workspace_id: int, shortlist_id: int) -> ShortlistDetail:
    shortlist = find_shortlist(session, workspace_id, shortlist_id)
    rows = session.execute(
        select(
            ShortlistEntry.creator_id,
            Creator.name,
            ShortlistEntry.account_id,
            Account.platform,
            Account.handle,
            ShortlistEntry.note,
            ShortlistEntry.added_by,
            ShortlistEntry.added_at,
        )
        .join(Creator, Creator.id == ShortlistEntry.creator_id)
        .outerjoin(Account, Account.id == ShortlistEntry.account_id)
        .where(
            ShortlistEntry.workspace_id == workspace_id,
            ShortlistEntry.shortlist_id == shortlist.id,
        )
        .order_by(ShortlistEntry.added_at, ShortlistEntry.id)
    ).all()
    items = [Entry(*row) for row in rows]
    return ShortlistDetail(**vars(_info(shortlist, len(items))), items=items)


def _resolve(
    session: Session,
    workspace_id: int,
    account_ids: Sequence[int],
    references: Sequence[str],
    creator_ids: Sequence[int],
) -> dict[int, int | None]:
    """creator id → the account that brought them in (None: any), in the order given."""
    total = len(account_ids) + len(references) + len(creator_ids)
    if total == 0:
        raise InputError("name at least one creator or account to add", field="account_ids")
    if total > MAX_BATCH:
        raise InputError(f"add at most {MAX_BATCH} at once", field="account_ids")
    wanted: dict[int, int | None] = {}
    found = dict(
        session.execute(
            select(Account.id, Account.creator_id).where(
                Account.workspace_id == workspace_id, Account.id.in_(set(account_ids))
            )
        ).all()
    )
    for account_id in account_ids:
        if account_id not in found:
            raise NotFoundError(f"no account with id {account_id}")
        wanted.setdefault(found[account_id], account_id)
    for reference in references:
        account = find_account_by_reference(session, workspace_id, reference)
        wanted.setdefault(account.creator_id, account.id)
    known = set(
        session.scalars(
            select(Creator.id).where(
                Creator.workspace_id == workspace_id, Creator.id.in_(set(creator_ids))
            )
        )
    )
    for creator_id in creator_ids:
        if creator_id not in known:
            raise NotFoundError(f"no creator with id {creator_id}")
        wanted.setdefault(creator_id, None)
    return wanted


def add_entries(  # noqa: PLR0913  the three ways to name a creator, the note and who adds
    session: Session,
    workspace_id: int,
    shortlist_id: int,
    *,
    account_ids: Sequence[int] = (),
    references: Sequence[str] = (),
    creator_ids: Sequence[int] = (),
    note: str | None = None,
    actor: str | None = None,
) -> AddResult:
    """Add creators (all or none); those already on the list keep their entry and note."""
    shortlist = find_shortlist(session, workspace_id, shortlist_id)
    wanted = _resolve(session, workspace_id, account_ids, references, creator_ids)
    note = _note(note)
    present = set(
        session.scalars(
            select(ShortlistEntry.creator_id).where(
                ShortlistEntry.shortlist_id == shortlist.id,
                ShortlistEntry.creator_id.in_(set(wanted)),
            )
        )
    )
    new = [c for c in wanted if c not in present]
    now = utcnow()
    if new:
        try:
            with session.begin_nested():
                session.execute(
                    insert(ShortlistEntry),
                    [
                        {
                            "workspace_id": workspace_id,
                            "shortlist_id": shortlist.id,
                            "creator_id": c,
                            "account_id": wanted[c],
                            "note": note,
                            "added_by": actor,
                            "added_at": now,
                        }
                        for c in new
                    ],
                )
        except IntegrityError as exc:
            raise ConflictError(
                "another add to this shortlist ran at the same time: try again"
            ) from exc
        shortlist.updated_at = now
    return AddResult(added=new, already=[c for c in wanted if c in present])


def set_note(
    session: Session, workspace_id: int, shortlist_id: int, creator_id: int, note: str | None
) -> None:
    entry = _entry(session, workspace_id, shortlist_id, creator_id)
    entry.note = _note(note)
    session.flush()


def _entry(
    session: Session, workspace_id: int, shortlist_id: int, creator_id: int
) -> ShortlistEntry:
    shortlist = find_shortlist(session, workspace_id, shortlist_id)
    entry = session.scalar(
        select(ShortlistEntry).where(
            ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.creator_id == creator_id
        )
    )
    if entry is None:
        raise NotFoundError(f"creator {creator_id} is not on shortlist {shortlist.name!r}")
    return entry


def remove_entries(
    session: Session, workspace_id: int, shortlist_id: int, creator_ids: Sequence[int]
) -> int:
    """Take creators off the list (all named must be on it); returns how many."""
    if not creator_ids:
        raise InputError("name at least one creator to remove", field="creator_ids")
    for creator_id in dict.fromkeys(creator_ids):
        _entry(session, workspace_id, shortlist_id, creator_id)
    result = session.execute(
        delete(ShortlistEntry).where(
            ShortlistEntry.workspace_id == workspace_id,
            ShortlistEntry.shortlist_id == shortlist_id,
            ShortlistEntry.creator_id.in_(set(creator_ids)),
        )
    )
    return int(result.rowcount or 0)


EXPORT_COLUMNS = (
    "creator_id",
    "creator_name",
    "platform",
    "handle",
    "note",
    "added_by",
    "added_at",
)


def export_csv(session: Session, workspace_id: int, shortlist_id: int, *, raw: bool = False) -> str:
    """The shortlist as CSV: a row per creator; cells a spreadsheet would run as formulas are
    neutralised (kernel.cells, as the exports do) unless ``raw``."""
    detail = get_shortlist(session, workspace_id, shortlist_id)
    frame = pl.DataFrame(
        [{k: getattr(e, k) for k in EXPORT_COLUMNS} for e in detail.items],
        schema={
            "creator_id": pl.Int64,
            "creator_name": pl.String,
            "platform": pl.String,
            "handle": pl.String,
            "note": pl.String,
            "added_by": pl.String,
            "added_at": pl.Datetime,
        },
        orient="row",
    )
    if not raw:
        frame = neutralise_formulas(frame)
    out = io.StringIO()
    frame.write_csv(out)
    return out.getvalue()


def to_campaign(
    session: Session,
    workspace_id: int,
    shortlist_id: int,
    campaign_id: int,
    *,
    actor: str | None,
    actor_kind: str = "user",
) -> ProspectsResult:
    """Add every creator of the shortlist to the campaign as a prospect (relationships.prospects):
    the deal is about the account that brought the creator in, when there is one."""
    detail = get_shortlist(session, workspace_id, shortlist_id)
    if not detail.items:
        raise InputError(f"shortlist {detail.name!r} is empty", field="shortlist")
    references = [f"{e.platform}:{e.handle}" for e in detail.items if e.account_id is not None]
    creator_ids = [e.creator_id for e in detail.items if e.account_id is None]
    return add_prospects(
        session,
        workspace_id,
        campaign_id,
        creator_ids=creator_ids,
        creators=references,
        actor=actor,
        actor_kind=actor_kind,
        source=f"shortlist {detail.name}",
    )
