"""API keys: one workspace and one role each; the key is shown once and kept as a digest.

A key reads ``mfk_<8 visible characters>_<43 random characters>``. The visible part is stored as
the key's prefix (it finds the row and names the key in lists); the whole key is stored only as
its SHA-256 digest.

A key's role is fixed when it is made and may not exceed its maker's. A key made by a member
(on the settings page, or over the API with a key of theirs) acts for that member: it may do the
lesser of its own role and the maker's *current* role in the workspace, and stops working when
the maker leaves the workspace, is disabled or deleted (``effective_role``). Keys the machine's
operator makes with the CLI (``by_operator``) keep their role. Revoking a key also revokes the
keys made with it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session, aliased

from microfluence.access.errors import AuthenticationError, PermissionDeniedError
from microfluence.access.principal import Principal
from microfluence.access.roles import MANAGE, Role, parse_role
from microfluence.access.tables import ApiKey, Membership, User
from microfluence.access.tokens import digest, new_token, same
from microfluence.access.touch import write_if_free
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace, utcnow

KEY_PREFIX = "mfk_"
_ALPHABET = string.ascii_lowercase + string.digits
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the whole key, to show once


def lesser(a: Role, b: Role) -> Role:
    return a if a.rank <= b.rank else b


def effective_role(key: ApiKey, maker_active: bool | None, maker_role: str | None) -> Role | None:
    """What ``key`` may do now: None when it does not work (revoked, or its maker is gone,
    disabled or no longer a member), else the lesser of its role and its maker's."""
    if key.revoked_at is not None:
        return None
    if key.by_operator:
        return Role(key.role)
    if key.created_by is None or not maker_active or maker_role is None:
        return None
    return lesser(Role(key.role), Role(maker_role))


def create_api_key(
    session: Session,
    *,
    workspace: Workspace,
    name: str | None = None,
    role: Role | str = Role.member,
    by: Principal | None = None,
) -> NewApiKey:
    """Make a key of ``workspace`` with ``role``. ``by`` is who makes it: a signed-in owner, or
    an owner's API key; None is the machine's operator (the CLI). The role may not exceed the
    maker's."""
    role = parse_role(str(role))
    label = (name or "").strip() or f"key created {utcnow():%Y-%m-%d %H:%M} UTC"
    if len(label) > 200:
        raise InputError("an API key's name has at most 200 characters", field="name")
    created_by, by_operator, parent_id = None, by is None, None
    if by is not None:
        by.require(MANAGE)
        if by.workspace_id != workspace.id:
            raise PermissionDeniedError("a key is made for the maker's own workspace only")
        if role.rank > by.role.rank:
            raise PermissionDeniedError(
                f"a key may not do more than its maker: you may give it at most the "
                f"{by.role.value} role"
            )
        if by.api_key_id is not None:  # made over the API: it inherits its maker key's maker
            parent = session.get(ApiKey, by.api_key_id)
            assert parent is not None
            created_by, by_operator, parent_id = parent.created_by, parent.by_operator, parent.id
        else:
            created_by = by.user_id
    visible = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    secret = f"{visible}_{new_token(32)}"
    key = ApiKey(
        workspace_id=workspace.id,
        name=label,
        prefix=visible,
        key_hash=digest(secret),
        role=role.value,
        created_by=created_by,
        created_by_key_id=parent_id,
        by_operator=by_operator,
    )
    session.add(key)
    session.flush()
    return NewApiKey(key=key, secret=secret)


def list_api_keys(session: Session, workspace_id: int) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.created_at)
        )
    )


@dataclass(frozen=True)
class ApiKeyView:
    """A key as the lists show it: who made it and what it may do now."""

    key: ApiKey
    made_by: str | None  # the maker's e-mail address
    made_with: str | None  # the prefix of the key that made it over the API
    effective_role: Role | None  # None: it does not work

    @property
    def maker(self) -> str:
        """Who made it, in words."""
        if self.key.by_operator:
            who = "operator (CLI)"
        elif self.made_by is not None:
            who = self.made_by
        else:
            who = "a deleted user"
        return f"{who}, with key {self.made_with}" if self.made_with else who


def _with_maker(query: Select[Any]) -> Select[Any]:
    """``query`` joined with each key's maker and the maker's membership of the key's workspace:
    what :func:`effective_role` reads, the same way for the lists and for every request."""
    return query.outerjoin(User, User.id == ApiKey.created_by).outerjoin(
        Membership,
        and_(
            Membership.user_id == ApiKey.created_by,
            Membership.workspace_id == ApiKey.workspace_id,
        ),
    )


def describe_api_keys(session: Session, workspace_id: int) -> list[ApiKeyView]:
    """The workspace's keys, oldest first, with their makers and effective roles."""
    parent = aliased(ApiKey)
    rows = session.execute(
        _with_maker(select(ApiKey, User.email, User.is_active, Membership.role, parent.prefix))
        .outerjoin(parent, parent.id == ApiKey.created_by_key_id)
        .where(ApiKey.workspace_id == workspace_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return [
        ApiKeyView(
            key=key,
            made_by=email,
            made_with=made_with,
            effective_role=effective_role(key, active, member_role),
        )
        for key, email, active, member_role, made_with in rows
    ]


def revoke_api_key(session: Session, *, workspace_id: int, key: str | int) -> ApiKey:
    """Revoke a key of this workspace, named by its id or its visible prefix, and the keys
    made with it (and with those, …)."""
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    text = str(key).strip()
    if text.isdigit():
        query = query.where(ApiKey.id == int(text))
    else:
        # The visible prefix, or the whole key (its first characters are the prefix).
        query = query.where(ApiKey.prefix == text[: len(KEY_PREFIX) + 8])
    found = session.scalar(query)
    if found is None:
        raise NotFoundError(f"no API key {text!r} in this workspace")
    now = utcnow()
    if found.revoked_at is None:
        found.revoked_at = now
    frontier = [found.id]
    seen = set(frontier)
    while frontier:  # ends: each key is visited once
        children = [
            i
            for i in session.scalars(
                select(ApiKey.id).where(
                    ApiKey.workspace_id == workspace_id, ApiKey.created_by_key_id.in_(frontier)
                )
            )
            if i not in seen
        ]
        seen.update(children)
        if children:
            session.execute(
                update(ApiKey)
                .where(ApiKey.id.in_(children), ApiKey.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        frontier = children
    session.flush()
    return found


def revoke_keys_made_by(session: Session, user_id: int, *, workspace_id: int | None = None) -> int:
    """Revoke every live key a user made (directly or with a key of theirs), in every workspace
    or only in ``workspace_id``; how many."""
    where = [ApiKey.created_by == user_id, ApiKey.revoked_at.is_(None)]
    if workspace_id is not None:
        where.append(ApiKey.workspace_id == workspace_id)
    result = session.execute(update(ApiKey).where(*where).values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def check_api_key(session: Session, secret: str) -> tuple[Principal, bool]:
    """The principal an API key stands for, and whether its last use should be noted (see
    ``note_use``); AuthenticationError for any key that is not live. Reads only."""
    secret = (secret or "").strip()
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] + "_" != KEY_PREFIX or len(parts[1]) != 8:
        raise AuthenticationError("not a microfluence API key")
    row = session.execute(
        _with_maker(
            select(ApiKey, Workspace.name, User.is_active, Membership.role).join(
                Workspace, Workspace.id == ApiKey.workspace_id
            )
        ).where(ApiKey.prefix == f"{parts[0]}_{parts[1]}")
    ).first()
    if row is None or not same(row[0].key_hash, digest(secret)):
        raise AuthenticationError("unknown API key")
    key, workspace_name, maker_active, maker_role = row
    if key.revoked_at is not None:
        raise AuthenticationError("this API key has been revoked")
    role = effective_role(key, maker_active, maker_role)
    if role is None:
        raise AuthenticationError(
            "this API key no longer works: the member who made it has left the workspace, "
            "or their account was disabled or deleted"
        )
    stale = key.last_used_at is None or utcnow() - key.last_used_at > LAST_USED_RESOLUTION
    principal = Principal(
        workspace_id=key.workspace_id,
        workspace_name=workspace_name,
        role=role,
        api_key_id=key.id,
    )
    return principal, stale


def note_use(store: Store, key_id: int) -> None:
    """Record that a key was used now, unless the store is busy (then a later request does)."""
    write_if_free(store, update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))


def authenticate_api_key(session: Session, secret: str) -> Principal:
    """``check_api_key``, noting the use in ``session``'s own transaction."""
    principal, stale = check_api_key(session, secret)
    if stale:
        session.execute(
            update(ApiKey).where(ApiKey.id == principal.api_key_id).values(last_used_at=utcnow())
        )
    return principal
