"""HTTP calls to the platforms, and their errors in our words.

Tokens travel only in the ``Authorization`` header or a form body, never in a URL: URLs end up
in logs (httpx logs each request's URL), headers and bodies do not. Errors are read in each
platform's documented shape:

* OAuth token endpoints (RFC 6749 §5.2; Google, TikTok, Meta's as well):
  ``{"error": "invalid_grant", "error_description": "…"}``;
* the Graph API: ``{"error": {"message", "type": "OAuthException", "code": 190,
  "error_subcode": 463, "fbtrace_id"}}`` — code 190 is an invalid access token, subcode 463 an
  expired one, 458/460/467 one the user revoked or invalidated;
* Google APIs: ``{"error": {"code": 401, "message", "status": "UNAUTHENTICATED"}}``;
* TikTok's API: ``{"data": …, "error": {"code": "ok" | "access_token_invalid" | …, "message",
  "log_id"}}``.
"""

from __future__ import annotations

from typing import Any

import httpx

from microfluence.connectors.oauth.platforms import OAuthSettings, routed
from microfluence.kernel.errors import ConflictError, StoreError

MESSAGE_MAX = 300
EXPIRED_SUBCODE = 463  # Graph: "Error validating access token: Session has expired"
TIKTOK_TOKEN_ERRORS = {"access_token_invalid", "access_token_expired"}


class PlatformError(StoreError):
    """The platform could not be reached, or refused a call for another reason than the
    grant (HTTP 503 from the API: try again later)."""

    code = "platform_unavailable"


class GrantError(ConflictError):
    """The platform refused the creator's grant: the token is expired or revoked (``status``),
    or the code or refresh token is no longer valid (invalid_grant)."""

    code = "authorisation_invalid"

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


def _text(value: Any) -> str:
    return str(value)[:MESSAGE_MAX]


def _oauth_error(platform: str, body: dict[str, Any]) -> PlatformError | GrantError:
    error, description = body.get("error"), body.get("error_description") or ""
    if error == "invalid_grant":
        return GrantError(
            f"{platform} refused the grant (invalid_grant: {_text(description)}): the creator "
            "must connect again",
            "revoked",
        )
    return PlatformError(f"{platform} refused the request ({_text(error)}: {_text(description)})")


def _api_error(platform: str, status: int, error: dict[str, Any]) -> PlatformError | GrantError:
    code, message = error.get("code"), _text(error.get("message", ""))
    if code == 190:  # Graph API: the access token is not valid
        expired = error.get("error_subcode") == EXPIRED_SUBCODE
        return GrantError(
            f"{platform}: the access token is {'expired' if expired else 'revoked'} "
            f"(Graph error 190: {message}): the creator must connect again",
            "expired" if expired else "revoked",
        )
    if code in TIKTOK_TOKEN_ERRORS or (status == 401 and error.get("status") == "UNAUTHENTICATED"):
        return GrantError(f"{platform}: the access token is no longer valid ({message})", "expired")
    return PlatformError(f"{platform} answered HTTP {status}: {_text(code)} {message}".strip())


def error_of(platform: str, status: int, body: Any) -> PlatformError | GrantError | None:
    """The error an answer carries, or None for a good one."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):
            return _oauth_error(platform, body)
        if isinstance(error, dict) and error.get("code") not in (None, "ok"):
            return _api_error(platform, status, error)
    if status >= 400:  # noqa: PLR2004 - HTTP errors
        return PlatformError(f"{platform} answered HTTP {status}")
    return None


def call(  # noqa: PLR0913 - a request's parts
    platform: str,
    method: str,
    url: str,
    *,
    token: str | None = None,
    params: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One call; its JSON body, or a PlatformError (a GrantError for a refused grant)."""
    settings = OAuthSettings()
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(timeout=settings.oauth_timeout) as client:
            answer = client.request(
                method, routed(url, settings), params=params, data=form, json=json, headers=headers
            )
    except httpx.HTTPError as exc:
        raise PlatformError(f"{platform} could not be reached: {type(exc).__name__}") from None
    try:
        body = answer.json() if answer.content else {}
    except ValueError:
        body = None
    problem = error_of(platform, answer.status_code, body)
    if problem is not None:
        raise problem
    if not isinstance(body, dict):
        raise PlatformError(f"{platform} answered HTTP {answer.status_code} without JSON")
    return body
