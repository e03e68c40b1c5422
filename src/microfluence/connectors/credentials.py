"""A workspace's credentials for the platforms' APIs: a YouTube Data API key; an Instagram
Graph API user access token with the id of the user's own business account.

The secret is stored only sealed (kernel.vault) and shown only masked (:func:`mask`); it is
opened only to call the platform (:func:`open_secret`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.connectors.tables import CONNECTOR_PLATFORMS, ConnectorCredential
from microfluence.kernel import vault
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow

MAX_SECRET = 4096
MAX_BUDGET = 100_000_000
_SECRET = re.compile(r"^[A-Za-z0-9_\-.~+/=|]+$")
_BUSINESS_ID = re.compile(r"^[0-9]{1,40}$")


@dataclass(frozen=True)
class CredentialInfo:
    """A credential as every face shows it: never the secret, only its masked hint."""

    platform: str
    hint: str
    business_account_id: str | None
    daily_budget: int | None
    updated_at: object


def mask(secret: str) -> str:
    """The first four and last four characters, the rest hidden (a short secret: none shown)."""
    if len(secret) < 16:  # noqa: PLR2004 - too short to show any of it safely
        return "…" * 3
    return f"{secret[:4]}…{secret[-4:]}"


def check_platform(platform: str) -> str:
    name = (platform or "").strip().lower()
    if name not in CONNECTOR_PLATFORMS:
        raise InputError(
            f"unknown connector {platform!r}: use one of {', '.join(CONNECTOR_PLATFORMS)}",
            field="platform",
        )
    return name


def check_secret(secret: str, field: str) -> str:
    """An API key or token as pasted: surrounding blanks go; anything but one token of the
    characters keys and tokens use is refused (without echoing it)."""
    value = (secret or "").strip()
    if not value:
        raise InputError("the secret is empty", field=field)
    if len(value) > MAX_SECRET:
        raise InputError(f"the secret is longer than {MAX_SECRET} characters", field=field)
    if not _SECRET.match(value):
        raise InputError(
            "the secret holds characters no API key or token has (spaces, quotes, line breaks "
            "inside it?)",
            field=field,
        )
    return value


def _check_budget(budget: int | None) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= MAX_BUDGET:
        raise InputError(
            f"the daily budget must be a whole number from 1 to {MAX_BUDGET}", field="daily_budget"
        )
    return budget


def _describe(row: ConnectorCredential) -> CredentialInfo:
    return CredentialInfo(
        platform=row.platform,
        hint=row.hint,
        business_account_id=row.business_account_id,
        daily_budget=row.daily_budget,
        updated_at=row.updated_at,
    )


def find_credential(
    session: Session, workspace_id: int, platform: str
) -> ConnectorCredential | None:
    return session.scalar(
        select(ConnectorCredential).where(
            ConnectorCredential.workspace_id == workspace_id,
            ConnectorCredential.platform == check_platform(platform),
        )
    )


def get_credential(session: Session, workspace_id: int, platform: str) -> ConnectorCredential:
    found = find_credential(session, workspace_id, platform)
    if found is None:
        raise NotFoundError(
            f"no {platform} credentials in this workspace: set them first "
            f"(microfluence connect {platform} …)"
        )
    return found


def set_credential(
    session: Session,
    workspace_id: int,
    platform: str,
    secret: str,
    *,
    business_account_id: str | None = None,
    daily_budget: int | None = None,
) -> CredentialInfo:
    """Store (or replace) the workspace's credentials for ``platform``, the secret sealed."""
    platform = check_platform(platform)
    value = check_secret(secret, "api_key" if platform == "youtube" else "access_token")
    account = (business_account_id or "").strip() or None
    if platform == "instagram":
        if account is None or not _BUSINESS_ID.match(account):
            raise InputError(
                "the Instagram business account id is a number (the id of your own business "
                "or creator account, docs/connectors.md)",
                field="business_account_id",
            )
    elif account is not None:
        raise InputError("only Instagram takes a business account id", field="business_account_id")
    budget = _check_budget(daily_budget)
    row = find_credential(session, workspace_id, platform)
    if row is None:
        row = ConnectorCredential(workspace_id=workspace_id, platform=platform)
        session.add(row)
    row.sealed_secret = vault.seal(value)
    row.hint = mask(value)
    row.business_account_id = account
    row.daily_budget = budget
    row.updated_at = utcnow()
    session.flush()
    return _describe(row)


def set_budget(
    session: Session, workspace_id: int, platform: str, daily_budget: int | None
) -> CredentialInfo:
    """Change the daily quota budget (None: the platform's own limit only)."""
    row = get_credential(session, workspace_id, platform)
    row.daily_budget = _check_budget(daily_budget)
    row.updated_at = utcnow()
    session.flush()
    return _describe(row)


def list_credentials(session: Session, workspace_id: int) -> list[CredentialInfo]:
    rows = session.scalars(
        select(ConnectorCredential)
        .where(ConnectorCredential.workspace_id == workspace_id)
        .order_by(ConnectorCredential.platform)
    )
    return [_describe(row) for row in rows]


def remove_credential(session: Session, workspace_id: int, platform: str) -> None:
    row = get_credential(session, workspace_id, platform)
    session.delete(row)
    session.flush()


def open_secret(row: ConnectorCredential) -> str:
    """The secret in clear, to call the platform with: never log, store or return it."""
    return vault.unseal(row.sealed_secret)
