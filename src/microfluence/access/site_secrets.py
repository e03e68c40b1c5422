"""Random site secrets, made on first use and kept in the store."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from microfluence.access.tables import SiteSecret
from microfluence.kernel.store import Store


def site_secret(store: Store, name: str) -> str:
    """The secret called ``name``; every process that opens the store gets the same one."""
    with store.transaction() as session:
        value = session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    if value is not None:
        return value
    try:
        with store.transaction() as session:
            session.add(SiteSecret(name=name, value=secrets.token_urlsafe(48)))
    except IntegrityError:  # another process made it first: use theirs
        pass
    with store.transaction() as session:
        return session.scalar(select(SiteSecret.value).where(SiteSecret.name == name)) or ""
