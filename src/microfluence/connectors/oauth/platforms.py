"""The three platforms' OAuth 2.0 endpoints, scopes and API hosts, as documented:

* Instagram professional accounts through **Facebook Login** (developers.facebook.com/docs/
  facebook-login/guides/advanced/manual-flow; Instagram Graph API insights,
  developers.facebook.com/docs/instagram-platform/api-reference/instagram-user/insights). Meta's
  PKCE is for its OIDC flow only ("still in testing"), so the code is exchanged with the app
  secret, server side; the short-lived user token is exchanged for a long-lived one (60 days,
  ``grant_type=fb_exchange_token``); Meta gives no refresh token.
* YouTube Analytics through **Google OAuth 2.0** for web-server apps (developers.google.com/
  identity/protocols/oauth2/web-server), with PKCE (S256), ``access_type=offline`` and
  ``prompt=consent`` so a refresh token is given; tokens revoked at oauth2.googleapis.com/revoke.
* TikTok through **Login Kit for Web** (developers.tiktok.com/doc/login-kit-web, /doc/
  oauth-user-access-token-management): ``client_key``, comma-separated scopes; the web flow uses
  the client secret (TikTok's PKCE is for its desktop and mobile kits); access tokens last 24
  hours and are refreshed with the refresh token (365 days).

``MICROFLUENCE_OAUTH_API_BASE`` sends every call (and the consent page) through one base URL
instead of the platforms' hosts: ``{base}/{host}{path}`` — for a proxy, or a local stand-in
server in tests. Empty (the default): the platforms themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from microfluence.connectors.oauth.tables import OAUTH_PLATFORMS
from microfluence.kernel.errors import InputError

GRAPH = "https://graph.facebook.com/v21.0"


class OAuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    oauth_api_base: str = Field(
        default="",
        description="Send every platform call through this base URL ({base}/{host}{path}): a "
        "proxy or a local stand-in. Empty: the platforms' own hosts.",
    )
    oauth_timeout: float = Field(default=20.0, gt=0, le=120, description="Seconds per call.")


@dataclass(frozen=True)
class Platform:
    name: str
    label: str  # what the creator sees: "Instagram (Facebook Login)"
    authorize_url: str
    token_url: str
    revoke_url: str | None
    scopes: tuple[str, ...]
    scope_separator: str
    client_param: str  # client_id, or TikTok's client_key
    pkce: bool
    extra: tuple[tuple[str, str], ...] = ()


PLATFORMS: dict[str, Platform] = {
    "instagram": Platform(
        name="instagram",
        label="Instagram (Facebook Login)",
        authorize_url="https://www.facebook.com/v21.0/dialog/oauth",
        token_url=f"{GRAPH}/oauth/access_token",
        revoke_url=f"{GRAPH}/me/permissions",
        scopes=(
            "instagram_basic",
            "instagram_manage_insights",
            "pages_show_list",
            "pages_read_engagement",
        ),
        scope_separator=",",
        client_param="client_id",
        pkce=False,
    ),
    "youtube": Platform(
        name="youtube",
        label="YouTube (Google)",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        revoke_url="https://oauth2.googleapis.com/revoke",
        scopes=(
            "https://www.googleapis.com/auth/youtube.readonly",
            "https://www.googleapis.com/auth/yt-analytics.readonly",
        ),
        scope_separator=" ",
        client_param="client_id",
        pkce=True,
        extra=(("access_type", "offline"), ("prompt", "consent")),
    ),
    "tiktok": Platform(
        name="tiktok",
        label="TikTok",
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url="https://open.tiktokapis.com/v2/oauth/token/",
        revoke_url="https://open.tiktokapis.com/v2/oauth/revoke/",
        scopes=("user.info.basic", "user.info.profile", "user.info.stats", "video.list"),
        scope_separator=",",
        client_param="client_key",
        pkce=False,
    ),
}
assert tuple(PLATFORMS) == OAUTH_PLATFORMS


def platform(name: str | None, field: str = "platform") -> Platform:
    key = (name or "").strip().lower()
    if key not in PLATFORMS:
        raise InputError(f"use one of {', '.join(PLATFORMS)}", field=field, value=name)
    return PLATFORMS[key]


def routed(url: str, settings: OAuthSettings | None = None) -> str:
    """``url``, or the same through MICROFLUENCE_OAUTH_API_BASE when it is set."""
    base = (settings or OAuthSettings()).oauth_api_base.rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    return f"{base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
