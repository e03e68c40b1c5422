"""How a request proves who it is.

* The REST API: ``Authorization: Bearer KEY``; the key names the workspace and the role.
* The pages: the ``mf_session`` cookie (a random token; the store keeps its digest), HttpOnly,
  SameSite=Lax, Secure over HTTPS. The signed-in user's current workspace is kept in the session.
* Forms (every POST of the pages): a CSRF token in the field ``csrf_token`` (or the header
  ``X-CSRF-Token``). Signed in, it must equal the token bound to the session; before sign-in (the
  sign-in form itself), it must equal the signed ``mf_csrf`` cookie (double submit).
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microfluence.access.api_keys import check_api_key, note_use
from microfluence.access.errors import AuthenticationError, PermissionDeniedError
from microfluence.access.principal import Principal
from microfluence.access.sessions import SESSION_LIFETIME, SignedIn, note_seen, resolve_session
from microfluence.access.tokens import new_token, same
from microfluence.kernel.store import Store

SESSION_COOKIE = "mf_session"
CSRF_COOKIE = "mf_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE_AGE = 60 * 60 * 24


def api_principal(
    store: Store, db: Session, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "this needs an API key: send the header 'Authorization: Bearer KEY'"
        )
    principal, stale = check_api_key(db, credentials.credentials)
    if stale:
        note_use(store, principal.api_key_id)  # type: ignore[arg-type]
    return principal


# --- cookies --------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    configured = request.app.state.settings.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax"
    )


def current_session(request: Request, db: Session) -> SignedIn | None:
    """The signed-in session of this request, or None; looked up once per request."""
    if not hasattr(request.state, "signed_in"):
        signed_in = resolve_session(db, request.cookies.get(SESSION_COOKIE), touch=False)
        if signed_in is not None and signed_in.needs_touch:
            note_seen(request.app.state.store, signed_in.session_id)
        request.state.signed_in = signed_in
    return request.state.signed_in


def page_principal(request: Request, db: Session) -> Principal:
    signed_in = current_session(request, db)
    if signed_in is None:
        raise AuthenticationError("please sign in")
    if signed_in.principal is None:
        raise PermissionDeniedError("you are not a member of any workspace yet")
    return signed_in.principal


# --- CSRF -----------------------------------------------------------------------------------


def _signer(request: Request) -> Signer:
    return Signer(request.app.state.csrf_secret, salt="microfluence.csrf")


def csrf_token(request: Request, db: Session) -> str:
    """The token to put in a form's hidden ``csrf_token`` field (or the X-CSRF-Token header)."""
    signed_in = current_session(request, db)
    if signed_in is not None:
        return signed_in.csrf_token
    return request.state.csrf_cookie


def verify_csrf(request: Request, db: Session, submitted: str | None) -> None:
    """Refuse (403) a form whose CSRF token does not match this browser's."""
    if not submitted:
        raise PermissionDeniedError("the form has expired: reload the page and try again")
    signed_in = current_session(request, db)
    if signed_in is not None:
        if same(submitted, signed_in.csrf_token):
            return
    else:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        try:
            _signer(request).unsign(cookie)
        except BadSignature:
            cookie = ""
        if cookie and same(submitted, cookie):
            return
    raise PermissionDeniedError("the form has expired: reload the page and try again")


class CsrfCookieMiddleware:
    """Gives every browser that gets an HTML page a signed ``mf_csrf`` cookie, for the forms it
    sees before signing in; ``request.state.csrf_cookie`` holds its value for this request."""

    def __init__(self, app: ASGIApp, signer_secret: str) -> None:
        self.app = app
        self.signer = Signer(signer_secret, salt="microfluence.csrf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        current = request.cookies.get(CSRF_COOKIE)
        valid = False
        if current:
            try:
                self.signer.unsign(current)
                valid = True
            except BadSignature:
                valid = False
        token = current if valid and current else self.signer.sign(new_token(24)).decode()
        scope.setdefault("state", {})["csrf_cookie"] = token
        if valid:
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"
        settings = scope["app"].state.settings if "app" in scope else None
        if settings is not None and settings.cookie_secure is not None:
            secure = settings.cookie_secure
        cookie = Response()
        cookie.set_cookie(
            CSRF_COOKIE,
            token,
            max_age=CSRF_COOKIE_AGE,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        header = cookie.headers["set-cookie"].encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            # Only pages carry forms: JSON, files and assets get no cookie.
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    message["headers"] = [*headers, (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "api_principal",
    "clear_session_cookie",
    "csrf_token",
    "current_session",
    "page_principal",
    "set_session_cookie",
    "verify_csrf",
]
