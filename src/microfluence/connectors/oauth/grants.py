"""Creators' authorisations: stored when the flow completes (tokens sealed with kernel.vault),
listed without their tokens, refreshed before they expire, marked expired or revoked when the
platform says so, and revoked at the platform on request.

Refresh happens before each read (:func:`access_token`): a token that expires within
``REFRESH_AHEAD`` is refreshed with the refresh token (Google, TikTok). Meta gives none: its
long-lived token (60 days) is used until it expires, then the authorisation is marked expired
and the creator is asked to connect again.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime
from microfluence.connectors.oauth.apps import AppCredentials, credentials
from microfluence.connectors.oauth.calls import GrantError, PlatformError, call
from microfluence.connectors.oauth.exchange import (
    Identity,
    Tokens,
    exchange,
    refresh_body,
    tokens_of,
)
from microfluence.connectors.oauth.flow import Consumed
from microfluence.connectors.oauth.platforms import PLATFORMS, platform
from microfluence.connectors.oauth.tables import CreatorAuthorisation
from microfluence.kernel import vault
from microfluence.kernel.errors import ConflictError, NotFoundError
from microfluence.kernel.store.tables import Account, Creator, utcnow
from microfluence.relationships.tables import CreatorRelation

REFRESH_AHEAD = dt.timedelta(minutes=10)
DETAIL_MAX = 500
ERASED = "revoked: the creator's personal data was erased"


class AuthorisationPublic(BaseModel):
    id: int
    creator_id: int
    creator_name: str | None
    account_id: int | None
    platform: str
    handle: str | None
    scopes: str | None
    status: str
    status_detail: str | None
    connected_at: UtcDateTime
    expires_at: UtcDateTime | None
    refreshed_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    fetched_at: UtcDateTime | None


def public(auth: CreatorAuthorisation, creator_name: str | None = None) -> AuthorisationPublic:
    return AuthorisationPublic(
        id=auth.id,
        creator_id=auth.creator_id,
        creator_name=creator_name,
        account_id=auth.account_id,
        platform=auth.platform,
        handle=auth.handle,
        scopes=auth.scopes,
        status=auth.status,
        status_detail=auth.status_detail,
        connected_at=auth.connected_at,
        expires_at=auth.expires_at,
        refreshed_at=auth.refreshed_at,
        revoked_at=auth.revoked_at,
        fetched_at=auth.fetched_at,
    )


def _handle(text: str | None) -> str | None:
    value = (text or "").strip().lstrip("@").lower()
    return value[:200] or None


def _account(session: Session, ws: int, creator_id: int, platform_name: str, who: Identity) -> int:
    """The catalog account the grant belongs to: by the platform's id, the handle, or the
    creator's one account there; made for the creator when there is none."""
    handle = _handle(who.handle)
    scope = (Account.workspace_id == ws, Account.platform == platform_name)
    found = session.scalar(select(Account.id).where(*scope, Account.external_id == who.external_id))
    if found is None and handle:
        found = session.scalar(select(Account.id).where(*scope, Account.handle == handle))
    if found is None:
        mine = list(
            session.scalars(select(Account.id).where(*scope, Account.creator_id == creator_id))
        )
        found = mine[0] if len(mine) == 1 else None
    if found is not None:
        return found
    account = Account(
        workspace_id=ws,
        creator_id=creator_id,
        platform=platform_name,
        handle=handle or f"{platform_name}-{who.external_id}"[:200],
        external_id=who.external_id,
        source=f"oauth:{platform_name}",
        imported_at=utcnow(),
    )
    session.add(account)
    session.flush()
    return account.id


def _seal_tokens(auth: CreatorAuthorisation, tokens: Tokens) -> None:
    auth.access_token_sealed = vault.seal(tokens.access_token)
    if tokens.refresh_token:
        auth.refresh_token_sealed = vault.seal(tokens.refresh_token)
        auth.refresh_expires_at = tokens.refresh_expires_at
    auth.expires_at = tokens.expires_at
    auth.scopes = tokens.scopes or auth.scopes


def save_grant(
    session: Session, consumed: Consumed, tokens: Tokens, who: Identity
) -> AuthorisationPublic:
    """Store (or renew) the creator's authorisation, its tokens sealed."""
    ws, name = consumed.workspace_id, consumed.platform
    auth = session.scalar(
        select(CreatorAuthorisation).where(
            CreatorAuthorisation.workspace_id == ws,
            CreatorAuthorisation.platform == name,
            CreatorAuthorisation.external_id == who.external_id,
        )
    )
    if auth is not None and auth.creator_id != consumed.creator_id and auth.status == "active":
        raise ConflictError(f"this {name} account is already connected for another creator")
    if auth is None:
        auth = CreatorAuthorisation(workspace_id=ws, platform=name, external_id=who.external_id)
        session.add(auth)
    auth.creator_id = consumed.creator_id
    auth.handle = _handle(who.handle)
    auth.account_id = _account(session, ws, consumed.creator_id, name, who)
    auth.refresh_token_sealed = None
    _seal_tokens(auth, tokens)
    auth.status, auth.status_detail = "active", None
    auth.connected_at, auth.revoked_at, auth.refreshed_at = utcnow(), None, None
    session.flush()
    return public(auth, _name(session, auth.creator_id))


def _name(session: Session, creator_id: int) -> str | None:
    return session.scalar(select(Creator.name).where(Creator.id == creator_id))


def get_authorisation(session: Session, workspace_id: int, auth_id: int) -> CreatorAuthorisation:
    auth = session.scalar(
        select(CreatorAuthorisation).where(
            CreatorAuthorisation.workspace_id == workspace_id, CreatorAuthorisation.id == auth_id
        )
    )
    if auth is None:
        raise NotFoundError(f"no authorisation with id {auth_id}")
    return auth


def describe(session: Session, workspace_id: int, auth_id: int) -> AuthorisationPublic:
    auth = get_authorisation(session, workspace_id, auth_id)
    return public(auth, _name(session, auth.creator_id))


def list_authorisations(
    session: Session,
    workspace_id: int,
    *,
    creator_id: int | None = None,
    platform_name: str | None = None,
) -> list[AuthorisationPublic]:
    query = (
        select(CreatorAuthorisation, Creator.name)
        .join(Creator, Creator.id == CreatorAuthorisation.creator_id)
        .where(CreatorAuthorisation.workspace_id == workspace_id)
        .order_by(CreatorAuthorisation.id)
    )
    if creator_id is not None:
        query = query.where(CreatorAuthorisation.creator_id == creator_id)
    if platform_name is not None:
        query = query.where(CreatorAuthorisation.platform == platform(platform_name).name)
    return [public(auth, name) for auth, name in session.execute(query)]


def count_active(session: Session, workspace_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                CreatorAuthorisation.workspace_id == workspace_id,
                CreatorAuthorisation.status == "active",
            )
        )
        or 0
    )


def mark(session: Session, auth: CreatorAuthorisation, status: str, detail: str) -> None:
    """The platform refused the grant: keep why, and drop the tokens that no longer work."""
    auth.status, auth.status_detail = status, detail[:DETAIL_MAX]
    if auth.tokens is not None:
        auth.tokens.access_token_sealed = None
    if status == "revoked":
        auth.tokens = None  # the row goes (delete-orphan): nothing of the grant is kept
        auth.revoked_at = auth.revoked_at or utcnow()
    session.flush()


def _refresh(session: Session, auth: CreatorAuthorisation, app: AppCredentials) -> str:
    refresh = vault.unseal(auth.refresh_token_sealed or "")
    body = call(
        auth.platform,
        "POST",
        PLATFORMS[auth.platform].token_url,
        form=refresh_body(auth.platform, app, refresh),
    )
    tokens = tokens_of(body, auth.platform)
    _seal_tokens(auth, tokens)
    auth.refreshed_at = utcnow()
    session.flush()
    return tokens.access_token


def access_token(
    session: Session, auth: CreatorAuthorisation, *, force_refresh: bool = False
) -> str:
    """A working access token: refreshed first when it expires within REFRESH_AHEAD (or when
    ``force_refresh``); a GrantError — with the authorisation marked — when it cannot be. A
    creator whose personal data was erased has their grant revoked here, whichever face erased
    it (connectors.oauth.erasure does it at once where it is loaded)."""
    if auth.status == "active" and is_erased(session, auth.workspace_id, auth.creator_id):
        revoke_grant(session, auth, ERASED)
    if auth.status != "active":
        raise GrantError(
            f"the {auth.platform} authorisation is {auth.status}"
            + (f" ({auth.status_detail})" if auth.status_detail else "")
            + ": the creator must connect again",
            auth.status,
        )
    now = utcnow()
    due = force_refresh or (auth.expires_at is not None and auth.expires_at <= now + REFRESH_AHEAD)
    if not due and auth.access_token_sealed:
        return vault.unseal(auth.access_token_sealed)
    if not auth.refresh_token_sealed:
        expired = auth.expires_at is not None and auth.expires_at <= now
        if expired or not auth.access_token_sealed:
            message = (
                f"the {auth.platform} access token has expired: the creator must connect again"
            )
            mark(session, auth, "expired", message)
            raise GrantError(message, "expired")
        return vault.unseal(auth.access_token_sealed)
    if auth.refresh_expires_at is not None and auth.refresh_expires_at <= now:
        message = f"the {auth.platform} refresh token has expired: the creator must connect again"
        mark(session, auth, "expired", message)
        raise GrantError(message, "expired")
    try:
        return _refresh(session, auth, credentials(session, auth.workspace_id, auth.platform))
    except GrantError as exc:
        mark(session, auth, exc.status, str(exc))
        raise


def _revoke_at_platform(session: Session, auth: CreatorAuthorisation) -> str | None:
    """Ask the platform to revoke the grant; what went wrong, if anything."""
    spec = PLATFORMS[auth.platform]
    sealed = auth.refresh_token_sealed or auth.access_token_sealed
    if not sealed or spec.revoke_url is None:
        return None
    token = vault.unseal(sealed)
    try:
        if auth.platform == "instagram":
            call("instagram", "DELETE", spec.revoke_url, token=token)
        else:
            app = credentials(session, auth.workspace_id, auth.platform)
            form = {"token": token}
            if auth.platform == "tiktok":
                form |= {"client_key": app.client_id, "client_secret": app.client_secret}
            call(auth.platform, "POST", spec.revoke_url, form=form)
    except GrantError:
        return None  # already invalid there: nothing left to revoke
    except (PlatformError, NotFoundError) as exc:
        return f"{exc}: revoke the app's access in the platform's settings too"
    return None


def is_erased(session: Session, workspace_id: int, creator_id: int) -> bool:
    return (
        session.scalar(
            select(CreatorRelation.erased_at).where(
                CreatorRelation.workspace_id == workspace_id,
                CreatorRelation.creator_id == creator_id,
            )
        )
        is not None
    )


def revoke_grant(session: Session, auth: CreatorAuthorisation, detail: str) -> None:
    """Revoke at the platform (what went wrong there, added to ``detail``) and forget the
    tokens."""
    problem = _revoke_at_platform(session, auth)
    mark(session, auth, "revoked", detail + (f"; {problem}" if problem else ""))


def revoke(session: Session, workspace_id: int, auth_id: int, *, by: str) -> AuthorisationPublic:
    """Revoke the grant at the platform, then forget its tokens here. Whatever the platform
    answers, the tokens are gone from the store; if it could not be reached, the detail says
    so. ``by``: "creator" (disconnected from the portal) or who asked."""
    auth = get_authorisation(session, workspace_id, auth_id)
    problem = _revoke_at_platform(session, auth) if auth.status != "revoked" else None
    detail = f"revoked by {by}" + (f"; {problem}" if problem else "")
    if auth.status == "revoked":
        detail = auth.status_detail or detail
    mark(session, auth, "revoked", detail)
    return public(auth, _name(session, auth.creator_id))


def complete(session: Session, consumed: Consumed, code: str | None) -> AuthorisationPublic:
    """The callback's code exchanged at the platform and the authorisation stored."""
    app = credentials(session, consumed.workspace_id, consumed.platform)
    tokens, who = exchange(consumed, app, code or "")
    return save_grant(session, consumed, tokens, who)
