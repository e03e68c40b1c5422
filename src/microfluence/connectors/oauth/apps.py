"""A workspace's app credentials per platform: the client id (Meta's App ID, Google's OAuth
client id, TikTok's client key) and the client secret, sealed with kernel.vault. Owners set
them; nobody reads the secret back (:class:`AppPublic` has no field for it)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime
from microfluence.connectors.oauth.platforms import PLATFORMS, platform
from microfluence.connectors.oauth.tables import OAuthApp
from microfluence.kernel import vault
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow

ID_MAX, SECRET_MIN, SECRET_MAX = 200, 8, 500


class AppPublic(BaseModel):
    platform: str
    label: str
    client_id: str
    has_secret: bool
    updated_by: str | None
    updated_at: UtcDateTime


@dataclass(frozen=True)
class AppCredentials:
    """For the calls to the platform only: never shown, never logged."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # no secret in a traceback or a log line
        return f"AppCredentials(client_id={self.client_id!r}, client_secret='***')"


def _public(app: OAuthApp) -> AppPublic:
    return AppPublic(
        platform=app.platform,
        label=PLATFORMS[app.platform].label,
        client_id=app.client_id,
        has_secret=bool(app.client_secret_sealed),
        updated_by=app.updated_by,
        updated_at=app.updated_at,
    )


def _clean(value: str | None, field: str, low: int, high: int) -> str:
    text = (value or "").strip()
    if not low <= len(text) <= high or not text.isprintable() or any(c.isspace() for c in text):
        raise InputError(f"{low} to {high} printable characters, no spaces", field=field)
    return text


def set_app(  # noqa: PLR0913 - the platform, its two values, who
    session: Session,
    workspace_id: int,
    platform_name: str,
    *,
    client_id: str,
    client_secret: str,
    by: str | None = None,
) -> AppPublic:
    """Set (or replace) the workspace's app for a platform; the secret is sealed at once."""
    name = platform(platform_name).name
    cid = _clean(client_id, "client_id", 1, ID_MAX)
    sealed = vault.seal(_clean(client_secret, "client_secret", SECRET_MIN, SECRET_MAX))
    app = session.scalar(
        select(OAuthApp).where(OAuthApp.workspace_id == workspace_id, OAuthApp.platform == name)
    )
    if app is None:
        app = OAuthApp(workspace_id=workspace_id, platform=name)
        session.add(app)
    app.client_id, app.client_secret_sealed = cid, sealed
    app.updated_by, app.updated_at = by, utcnow()
    session.flush()
    return _public(app)


def list_apps(session: Session, workspace_id: int) -> list[AppPublic]:
    rows = session.scalars(
        select(OAuthApp).where(OAuthApp.workspace_id == workspace_id).order_by(OAuthApp.platform)
    )
    return [_public(a) for a in rows]


def delete_app(session: Session, workspace_id: int, platform_name: str) -> None:
    name = platform(platform_name).name
    gone = session.execute(
        delete(OAuthApp).where(OAuthApp.workspace_id == workspace_id, OAuthApp.platform == name)
    ).rowcount
    if not gone:
        raise NotFoundError(f"no {name} app in this workspace")


def credentials(session: Session, workspace_id: int, platform_name: str) -> AppCredentials:
    """The app's id and secret, unsealed, for a call to the platform."""
    app = session.scalar(
        select(OAuthApp).where(
            OAuthApp.workspace_id == workspace_id, OAuthApp.platform == platform_name
        )
    )
    if app is None:
        raise NotFoundError(
            f"this workspace has no {platform_name} app: an owner sets its client id and secret "
            f"first (microfluence authorisations app {platform_name} …)"
        )
    return AppCredentials(app.client_id, vault.unseal(app.client_secret_sealed))
