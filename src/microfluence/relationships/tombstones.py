"""What is left of an erased creator's identity: keyed hashes (HMAC-SHA256) of their e-mail
addresses and ``platform:handle`` pairs, in ``creator_tombstones``. A creator imported later
with one of them is recognised, and kept do-not-contact, without the store keeping the address
or handle itself.

The key is a random site secret (``site_secrets``, name ``tombstones``) made on first use, mixed
with the workspace id: a digest cannot be matched against a list of addresses without the key,
and the same address has different digests in two workspaces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

import polars as pl
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.access.tables import SiteSecret
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.relationships.tables import CreatorRelation, CreatorTombstone

SECRET_NAME = "tombstones"
RETURNING_REASON = "erased on request earlier; imported again"


def _key(session: Session) -> bytes:
    value = session.scalar(select(SiteSecret.value).where(SiteSecret.name == SECRET_NAME))
    if value is None:
        try:
            with session.begin_nested():
                session.add(SiteSecret(name=SECRET_NAME, value=secrets.token_urlsafe(48)))
        except IntegrityError:  # another process made it first: use theirs
            pass
        value = session.scalar(select(SiteSecret.value).where(SiteSecret.name == SECRET_NAME))
    assert value is not None
    return value.encode("utf-8")


def identity_keys(emails: Iterable[str | None], handles: Iterable[tuple[str, str]]) -> list[str]:
    """The normalised identities: ``email:ADDRESS`` (lower case) and ``handle:PLATFORM:HANDLE``."""
    keys = {f"email:{e.strip().lower()}" for e in emails if e and e.strip()}
    keys |= {f"handle:{p.lower()}:{h.strip().lower()}" for p, h in handles if h and h.strip()}
    return sorted(keys)


def digests(session: Session, workspace_id: int, keys: Iterable[str]) -> dict[str, str]:
    """identity key -> its keyed hash in this workspace."""
    key = _key(session) + f":{workspace_id}".encode()
    return {k: hmac.new(key, k.encode("utf-8"), hashlib.sha256).hexdigest() for k in keys}


def bury(
    session: Session, workspace_id: int, creator_id: int, keys: list[str], at: dt.datetime
) -> int:
    """Store the digests of an erased creator's identities (those already stored are kept)."""
    hashed = digests(session, workspace_id, keys)
    known = set(
        session.scalars(
            select(CreatorTombstone.digest).where(
                CreatorTombstone.workspace_id == workspace_id,
                CreatorTombstone.digest.in_(list(hashed.values())),
            )
        )
    )
    rows = [
        {
            "workspace_id": workspace_id,
            "creator_id": creator_id,
            "kind": k.split(":", 1)[0],
            "digest": d,
            "erased_at": at,
        }
        for k, d in hashed.items()
        if d not in known
    ]
    if rows:
        session.execute(insert(CreatorTombstone), rows)
    return len(rows)


def _candidates(session: Session, workspace_id: int, since: dt.datetime) -> pl.DataFrame:
    """(creator_id, identity key) of the creators made since ``since``, not erased and not yet
    do-not-contact: the only ones a tombstone can newly match."""
    flagged = select(CreatorRelation.creator_id).where(
        CreatorRelation.workspace_id == workspace_id,
        (CreatorRelation.do_not_contact.is_(True)) | (CreatorRelation.erased_at.is_not(None)),
    )
    creators = session.execute(
        select(Creator.id, Creator.email).where(
            Creator.workspace_id == workspace_id,
            Creator.created_at >= since,
            Creator.id.not_in(flagged),
        )
    ).all()
    accounts = session.execute(
        select(Account.creator_id, Account.platform, Account.handle, Account.email).where(
            Account.workspace_id == workspace_id,
            Account.created_at >= since,
            Account.creator_id.not_in(flagged),
        )
    ).all()
    pairs = [(c, k) for c, e in creators for k in identity_keys([e], [])]
    pairs += [
        (a.creator_id, k)
        for a in accounts
        for k in identity_keys([a.email], [(a.platform, a.handle)])
    ]
    return pl.DataFrame(pairs, schema={"creator_id": pl.Int64, "key": pl.String}, orient="row")


def flag_returning(session: Session, workspace_id: int) -> list[int]:
    """Mark do-not-contact every creator imported after an erasure whose e-mail address or
    handle matches an erased creator's; their ids. Only creators made since the first erasure
    are hashed, and once flagged they are not looked at again."""
    first = session.scalar(
        select(func.min(CreatorTombstone.erased_at)).where(
            CreatorTombstone.workspace_id == workspace_id
        )
    )
    if first is None:
        return []
    candidates = _candidates(session, workspace_id, first)
    if candidates.is_empty():
        return []
    hashed = digests(session, workspace_id, candidates["key"].unique().to_list())
    buried = set(
        session.scalars(
            select(CreatorTombstone.digest).where(
                CreatorTombstone.workspace_id == workspace_id,
                CreatorTombstone.digest.in_(list(hashed.values())),
            )
        )
    )
    matched_keys = [k for k, d in hashed.items() if d in buried]
    ids = sorted(set(candidates.filter(pl.col("key").is_in(matched_keys))["creator_id"].to_list()))
    if ids:
        _mark(session, workspace_id, ids)
    return ids


def _mark(session: Session, workspace_id: int, creator_ids: list[int]) -> None:
    now = utcnow()
    have = set(
        session.scalars(
            select(CreatorRelation.creator_id).where(
                CreatorRelation.workspace_id == workspace_id,
                CreatorRelation.creator_id.in_(creator_ids),
            )
        )
    )
    missing = [c for c in creator_ids if c not in have]
    if missing:
        session.execute(
            insert(CreatorRelation),
            [
                {
                    "workspace_id": workspace_id,
                    "creator_id": c,
                    "tags": [],
                    "perks": {},
                    "address": {},
                    "do_not_contact": False,
                    "partner": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for c in missing
            ],
        )
    session.execute(
        update(CreatorRelation)
        .where(
            CreatorRelation.workspace_id == workspace_id,
            CreatorRelation.creator_id.in_(creator_ids),
        )
        .values(
            do_not_contact=True,
            do_not_contact_at=now,
            do_not_contact_reason=RETURNING_REASON,
            updated_at=now,
        )
        # Records already loaded in this session see the flag too.
        .execution_options(synchronize_session="fetch")
    )
