"""The authorization-code flow: a connect link the brand sends (or the portal's button), the
request to the platform with a fresh ``state``, and the callback.

``state`` is 256 random bits; the store keeps its SHA-256 only. It is bound to the browser that
started the flow — a nonce in an HttpOnly cookie, whose SHA-256 is stored with the state — so a
callback carrying someone else's state is refused; it lives ``STATE_MINUTES`` and is spent by the
first callback that presents it (a replay is refused). The redirect URI is fixed per platform
(``{public URL}/connect/callback/{platform}``) and the same in the request and the exchange, as
the platforms require. PKCE (S256, RFC 7636) where the platform's web flow takes it (Google).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from microfluence.catalog.schemas import UtcDateTime
from microfluence.connectors.oauth.apps import credentials
from microfluence.connectors.oauth.platforms import platform, routed
from microfluence.connectors.oauth.tables import OAuthInvite, OAuthState
from microfluence.kernel import vault
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Creator, utcnow

TOKEN_BYTES = 32
STATE_MINUTES = 15
INVITE_DAYS_MAX = 90
CALLBACK = "/connect/callback/{platform}"
GONE = "this link does not exist or is no longer active"


class InviteNotFound(NotFoundError):
    """An unknown, expired or revoked connect link: one answer for all three."""


class StateError(InputError):
    """A callback whose state is unknown, spent, expired, for another platform or started in
    another browser."""


class ConsentDenied(InputError):
    """The creator did not allow access (``error=access_denied`` on the callback)."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def redirect_uri(base: str, platform_name: str) -> str:
    return base.rstrip("/") + CALLBACK.format(platform=platform_name)


# --- connect links --------------------------------------------------------------------------


class InvitePublic(BaseModel):
    id: int
    creator_id: int
    platform: str
    created_by: str | None
    created_at: UtcDateTime
    expires_at: UtcDateTime


class InviteMade(InvitePublic):
    url: str = Field(description="The link to send the creator: shown this once, never again.")


def _creator(session: Session, workspace_id: int, creator_id: int) -> Creator:
    creator = session.scalar(
        select(Creator).where(Creator.workspace_id == workspace_id, Creator.id == creator_id)
    )
    if creator is None:
        raise NotFoundError(f"no creator with id {creator_id}")
    return creator


def create_invite(  # noqa: PLR0913 - who, which platform, how long, where
    session: Session,
    workspace_id: int,
    creator_id: int,
    platform_name: str,
    *,
    by: str | None,
    days: int = 7,
    base: str = "",
) -> InviteMade:
    """A link the creator opens to connect their account on ``platform``; valid ``days``."""
    name = platform(platform_name).name
    _creator(session, workspace_id, creator_id)
    credentials(session, workspace_id, name)  # no app, no link: it could only fail later
    if not isinstance(days, int) or not 1 <= days <= INVITE_DAYS_MAX:
        raise InputError(f"from 1 to {INVITE_DAYS_MAX} days", field="days", value=days)
    token, now = secrets.token_urlsafe(TOKEN_BYTES), utcnow()
    invite = OAuthInvite(
        workspace_id=workspace_id,
        creator_id=creator_id,
        platform=name,
        token_hash=digest(token),
        created_by=by,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    public = InvitePublic.model_validate(invite, from_attributes=True)
    return InviteMade(**public.model_dump(), url=f"{base.rstrip('/')}/connect/{token}")


def open_invite(session: Session, token: str) -> OAuthInvite:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:  # noqa: PLR2004
        raise InviteNotFound(GONE)
    invite = session.scalar(select(OAuthInvite).where(OAuthInvite.token_hash == digest(token)))
    if invite is None or invite.revoked_at is not None or invite.expires_at <= utcnow():
        raise InviteNotFound(GONE)
    return invite


# --- the request to the platform -----------------------------------------------------------


@dataclass(frozen=True)
class Begun:
    authorize_url: str
    browser_nonce: str  # for the HttpOnly cookie that binds the state to this browser


def _challenge(verifier: str) -> str:
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def begin(  # noqa: PLR0913 - whose account, where to come back
    session: Session,
    workspace_id: int,
    creator_id: int,
    platform_name: str,
    *,
    base: str,
    return_to: str | None = None,
) -> Begun:
    """A new state for ``creator_id`` on ``platform``; the URL of the platform's consent page."""
    spec = platform(platform_name)
    _creator(session, workspace_id, creator_id)
    app = credentials(session, workspace_id, spec.name)
    state, nonce = secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES)
    verifier = secrets.token_urlsafe(64) if spec.pkce else None
    uri, now = redirect_uri(base, spec.name), utcnow()
    session.execute(  # the workspace's requests of yesterday and before are of no use any more
        delete(OAuthState).where(
            OAuthState.workspace_id == workspace_id,
            OAuthState.expires_at < now - dt.timedelta(days=1),
        )
    )
    session.add(
        OAuthState(
            workspace_id=workspace_id,
            creator_id=creator_id,
            platform=spec.name,
            state_hash=digest(state),
            browser_hash=digest(nonce),
            verifier_sealed=vault.seal(verifier) if verifier else None,
            redirect_uri=uri,
            return_to=return_to,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=STATE_MINUTES),
        )
    )
    session.flush()
    query = {
        spec.client_param: app.client_id,
        "redirect_uri": uri,
        "response_type": "code",
        "scope": spec.scope_separator.join(spec.scopes),
        "state": state,
        **dict(spec.extra),
    }
    if verifier:
        query |= {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    return Begun(routed(spec.authorize_url) + "?" + urlencode(query), nonce)


# --- the callback ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumed:
    """A state spent by its callback: what the exchange needs."""

    workspace_id: int
    creator_id: int
    platform: str
    redirect_uri: str
    verifier: str | None
    return_to: str | None

    def __repr__(self) -> str:
        return f"Consumed(workspace_id={self.workspace_id}, platform={self.platform!r})"


def consume_state(
    session: Session, platform_name: str, state: str | None, browser_nonce: str | None
) -> Consumed:
    """Spend the callback's state: once, in time, for this platform, in the browser that began
    the flow. Any failure is a StateError and the request goes no further."""
    again = "start again from the link or the portal"
    if not state or len(state) > 200:  # noqa: PLR2004
        raise StateError(f"the answer has no valid state: {again}", field="state")
    row = session.scalar(select(OAuthState).where(OAuthState.state_hash == digest(state)))
    if row is None or row.used_at is not None:
        raise StateError(f"this request is unknown or was already used: {again}", field="state")
    if row.platform != platform_name:
        raise StateError(f"this request was for {row.platform}: {again}", field="state")
    if not browser_nonce or not hmac.compare_digest(row.browser_hash, digest(browser_nonce)):
        raise StateError(
            f"this request was started in another browser: {again} in this one", field="state"
        )
    now = utcnow()
    if row.expires_at <= now:
        raise StateError(f"this request has expired: {again}", field="state")
    sealed_verifier = row.verifier_sealed
    spent = session.execute(
        update(OAuthState)
        .where(OAuthState.id == row.id, OAuthState.used_at.is_(None))
        .values(used_at=now, verifier_sealed=None)  # the verifier is needed this once
    ).rowcount
    if spent != 1:  # another callback with the same state won the race
        raise StateError(f"this request was already used: {again}", field="state")
    return Consumed(
        workspace_id=row.workspace_id,
        creator_id=row.creator_id,
        platform=row.platform,
        redirect_uri=row.redirect_uri,
        verifier=vault.unseal(sealed_verifier) if sealed_verifier else None,
        return_to=row.return_to,
    )


def check_consent(error: str | None, description: str | None) -> None:
    """The platform's answer when the creator refused (or something else went wrong there)."""
    if error == "access_denied":
        raise ConsentDenied(
            "you did not allow access, so nothing was connected: you can try again at any time",
            field="error",
        )
    if error:
        raise InputError(
            f"the platform did not connect the account ({error[:60]}"
            + (f": {description[:200]}" if description else "")
            + ")",
            field="error",
        )
