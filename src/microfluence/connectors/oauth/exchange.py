"""The code exchanged for tokens, and who the tokens belong to, per platform (documented
shapes: Meta ``{"access_token", "token_type", "expires_in"}`` then the long-lived exchange and
``/me/accounts``' ``instagram_business_account``; Google ``{"access_token", "expires_in",
"refresh_token", "scope", "token_type"}`` then ``channels?mine=true``; TikTok ``{"access_token",
"expires_in", "open_id", "refresh_token", "refresh_expires_in", "scope", "token_type"}`` then
``/v2/user/info/``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from microfluence.connectors.oauth.apps import AppCredentials
from microfluence.connectors.oauth.calls import PlatformError, call
from microfluence.connectors.oauth.flow import Consumed
from microfluence.connectors.oauth.platforms import GRAPH, PLATFORMS
from microfluence.kernel.store.tables import utcnow

YOUTUBE_CHANNELS = "https://www.googleapis.com/youtube/v3/channels"
TIKTOK_USER = "https://open.tiktokapis.com/v2/user/info/"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None
    scopes: str | None

    def __repr__(self) -> str:  # never a token in a traceback or a log line
        return f"Tokens(expires_at={self.expires_at}, scopes={self.scopes!r})"


@dataclass(frozen=True)
class Identity:
    external_id: str
    handle: str | None


def _in(seconds: Any) -> dt.datetime | None:
    try:
        return utcnow() + dt.timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        return None


def tokens_of(body: dict[str, Any], platform: str) -> Tokens:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise PlatformError(f"{platform}'s token endpoint answered without an access token")
    refresh = body.get("refresh_token")
    return Tokens(
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=_in(body.get("expires_in")),
        refresh_expires_at=_in(body.get("refresh_expires_in")),
        scopes=str(body["scope"])[:1000] if body.get("scope") else None,
    )


def _instagram(consumed: Consumed, app: AppCredentials, code: str) -> tuple[Tokens, Identity]:
    spec = PLATFORMS["instagram"]
    short = call(
        "instagram",
        "POST",
        spec.token_url,
        form={
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": consumed.redirect_uri,
            "code": code,
        },
    )
    long = call(
        "instagram",
        "POST",
        spec.token_url,
        form={
            "grant_type": "fb_exchange_token",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "fb_exchange_token": tokens_of(short, "instagram").access_token,
        },
    )
    tokens = tokens_of(long, "instagram")
    pages = call(
        "instagram",
        "GET",
        f"{GRAPH}/me/accounts",
        token=tokens.access_token,
        params={"fields": "name,instagram_business_account{id,username}"},
    )
    for page in pages.get("data") or []:
        account = (page or {}).get("instagram_business_account") or {}
        if account.get("id"):
            return tokens, Identity(str(account["id"]), account.get("username"))
    raise PlatformError(
        "instagram: no Instagram professional (business or creator) account is linked to the "
        "Facebook Pages shared; link one to a Page, then connect again"
    )


def _youtube(consumed: Consumed, app: AppCredentials, code: str) -> tuple[Tokens, Identity]:
    form = {
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": consumed.redirect_uri,
        "grant_type": "authorization_code",
    }
    if consumed.verifier:
        form["code_verifier"] = consumed.verifier
    tokens = tokens_of(
        call("youtube", "POST", PLATFORMS["youtube"].token_url, form=form), "youtube"
    )
    channels = call(
        "youtube",
        "GET",
        YOUTUBE_CHANNELS,
        token=tokens.access_token,
        params={"part": "id,snippet", "mine": "true"},
    )
    items = channels.get("items") or []
    if not items or not items[0].get("id"):
        raise PlatformError("youtube: this Google account has no YouTube channel")
    handle = ((items[0].get("snippet") or {}).get("customUrl") or "") or None
    return tokens, Identity(str(items[0]["id"]), handle)


def _tiktok(consumed: Consumed, app: AppCredentials, code: str) -> tuple[Tokens, Identity]:
    body = call(
        "tiktok",
        "POST",
        PLATFORMS["tiktok"].token_url,
        form={
            "client_key": app.client_id,
            "client_secret": app.client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": consumed.redirect_uri,
        },
    )
    tokens = tokens_of(body, "tiktok")
    user = call(
        "tiktok",
        "GET",
        TIKTOK_USER,
        token=tokens.access_token,
        params={"fields": "open_id,username,display_name"},
    )
    info = (user.get("data") or {}).get("user") or {}
    open_id = info.get("open_id") or body.get("open_id")
    if not open_id:
        raise PlatformError("tiktok: the user info has no open_id")
    return tokens, Identity(str(open_id), info.get("username"))


EXCHANGES = {"instagram": _instagram, "youtube": _youtube, "tiktok": _tiktok}


def exchange(consumed: Consumed, app: AppCredentials, code: str) -> tuple[Tokens, Identity]:
    """The code, exchanged for tokens at the platform; whose account they open."""
    if not code or len(code) > 2000:  # noqa: PLR2004
        raise PlatformError(f"{consumed.platform}: the answer has no authorization code")
    return EXCHANGES[consumed.platform](consumed, app, code)


def refresh_body(platform: str, app: AppCredentials, refresh_token: str) -> dict[str, str]:
    """The form of a refresh-token grant (Google's and TikTok's; Meta has none)."""
    client = PLATFORMS[platform].client_param
    return {
        client: app.client_id,
        "client_secret": app.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
