"""API keys: one workspace and one role each; the key is shown once and kept as a digest.

A key reads ``mfk_<8 visible characters>_<43 random characters>``. The visible part is stored as
the key's prefix (it finds the row and names the key in lists); the whole key is stored only as
its SHA-256 digest.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microfluence.access.errors import AuthenticationError
from microfluence.access.principal import Principal
from microfluence.access.roles import Role, parse_role
from microfluence.access.tables import ApiKey
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


def create_api_key(
    session: Session,
    *,
    workspace: Workspace,
    name: str | None = None,
    role: Role | str = Role.member,
    created_by: int | None = None,
) -> NewApiKey:
    role = parse_role(str(role))
    label = (name or "").strip() or f"key created {utcnow():%Y-%m-%d %H:%M} UTC"
    if len(label) > 200:
        raise InputError("an API key's name has at most 200 characters", field="name")
    visible = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    secret = f"{visible}_{new_token(32)}"
    key = ApiKey(
        workspace_id=workspace.id,
        name=label,
        prefix=visible,
        key_hash=digest(secret),
        role=role.value,
        created_by=created_by,
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


def revoke_api_key(session: Session, *, workspace_id: int, key: str | int) -> ApiKey:
    """Revoke a key of this workspace, named by its id or its visible prefix."""
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
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        session.flush()
    return found


def check_api_key(session: Session, secret: str) -> tuple[Principal, bool]:
    """The principal an API key stands for, and whether its last use should be noted (see
    ``note_use``); AuthenticationError for any key that is not live. Reads only."""
    secret = (secret or "").strip()
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] + "_" != KEY_PREFIX or len(parts[1]) != 8:
        raise AuthenticationError("not a microfluence API key")
    row = session.execute(
        select(ApiKey, Workspace.name)
        .join(Workspace, Workspace.id == ApiKey.workspace_id)
        .where(ApiKey.prefix == f"{parts[0]}_{parts[1]}")
    ).first()
    if row is None or not same(row[0].key_hash, digest(secret)):
        raise AuthenticationError("unknown API key")
    key, workspace_name = row
    if key.revoked_at is not None:
        raise AuthenticationError("this API key has been revoked")
    stale = key.last_used_at is None or utcnow() - key.last_used_at > LAST_USED_RESOLUTION
    principal = Principal(
        workspace_id=key.workspace_id,
        workspace_name=workspace_name,
        role=Role(key.role),
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
