"""A person's own pages: their account (changing the password), and accepting an invitation
(``/invitations/{token}``, the link an owner passes on). Plus the owner's download of
everything held about one creator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from microfluence.access import account, invitations, sessions
from microfluence.access.errors import AuthenticationError, RateLimitedError
from microfluence.access.tables import User
from microfluence.export.privacy import creator_record
from microfluence.kernel.errors import InputError
from microfluence.relationships.audit import actor_of
from microfluence.web import auth
from microfluence.web.deps import CsrfChecked, DbSession, MaybeSignedIn, PageOwner, StoreDep
from microfluence.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=1, max_length=100)]
PasswordField = Annotated[str, Form(max_length=1024)]


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _refused(exc: AuthenticationError | RateLimitedError) -> tuple[int, dict[str, str], str]:
    """Status, headers and message for a refused password on a page (re-shown, not a 401)."""
    if isinstance(exc, RateLimitedError):
        return 429, {"Retry-After": str(exc.retry_after)}, str(exc)
    return 403, {}, "That password is not right."


# --- the account page -----------------------------------------------------------------------


@router.get("/account")
def account_page(
    request: Request, db: DbSession, signed_in: MaybeSignedIn, changed: int = 0
) -> HTMLResponse:
    if signed_in is None:
        raise AuthenticationError("please sign in")
    return render(request, db, "account.html", title="Your account", changed=bool(changed))


@router.post("/account/password", dependencies=[CsrfChecked], response_model=None)
def change_password(
    request: Request,
    store: StoreDep,
    db: DbSession,
    signed_in: MaybeSignedIn,
    current_password: PasswordField,
    new_password: PasswordField,
    new_password_confirm: PasswordField,
) -> Response:
    """Change the signed-in user's password; their other sessions end, this one stays."""
    if signed_in is None:
        raise AuthenticationError("please sign in")
    if new_password != new_password_confirm:
        raise InputError("the two new passwords differ", field="new_password_confirm")
    try:
        account.change_password(
            store,
            email=signed_in.email,
            current_password=current_password,
            new_password=new_password,
            ip=_client(request),
            keep_session_id=signed_in.session_id,
        )
    except (AuthenticationError, RateLimitedError) as exc:
        status, headers, message = _refused(exc)
        return render(
            request,
            db,
            "account.html",
            status_code=status,
            headers=headers,
            title="Your account",
            message=message if status == 429 else "The current password is not right.",
        )
    return RedirectResponse("/account?changed=1", status_code=303)


# --- accepting an invitation ----------------------------------------------------------------


def _invitation_page(
    request: Request, db: DbSession, token: str, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    view = invitations.describe_invitation(db, token)
    headers = extra.pop("headers", None)
    return render(
        request,
        db,
        "invitation.html",
        status_code=status_code,
        headers=headers,
        title="Invitation",
        invitation=view,
        token=token,
        **extra,
    )


@router.get("/invitations/{token}")
def invitation_page(request: Request, db: DbSession, token: Token) -> HTMLResponse:
    """What the invitation offers and how to accept it. The page asks the same way whether or
    not the invited address has an account."""
    response = _invitation_page(request, db, token)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


@router.post("/invitations/{token}/accept", dependencies=[CsrfChecked], response_model=None)
def accept_invitation(
    request: Request,
    store: StoreDep,
    db: DbSession,
    signed_in: MaybeSignedIn,
    token: Token,
    password: PasswordField = "",
    password_confirm: PasswordField = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Signed in as the invited address: accept. Otherwise: the password of the address's
    account, or of its new account; then the person is signed in, in the new workspace."""
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    if signed_in is not None and not password:
        accepted = invitations.accept_as_user(db, token, signed_in.user_id)
        sessions.switch_workspace(db, cookie or "", accepted.workspace)
        return RedirectResponse("/creators", status_code=303)
    if password != password_confirm:
        raise InputError("the two passwords differ", field="password_confirm")
    try:
        accepted = invitations.accept_with_password(
            store, token, password=password, display_name=display_name, ip=_client(request)
        )
    except (AuthenticationError, RateLimitedError) as exc:
        status, headers, message = _refused(exc)
        return _invitation_page(
            request, db, token, status_code=status, headers=headers, message=message
        )
    with store.transaction() as session:
        if cookie:
            sessions.sign_out(session, cookie)  # whoever was signed in in this browser
        user = session.get(User, accepted.user_id)
        assert user is not None
        new_cookie, _ = sessions.start_session(
            session,
            user,
            workspace_id=accepted.workspace_id,
            ip=_client(request),
            user_agent=request.headers.get("user-agent"),
        )
    response = RedirectResponse("/creators", status_code=303)
    auth.set_session_cookie(request, response, new_cookie)
    return response


# --- everything about one creator -----------------------------------------------------------


@router.get("/creators/{creator_id}/record.json")
def creator_record_file(
    db: DbSession, caller: PageOwner, creator_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> JSONResponse:
    """The same document as GET /api/v1/creators/{id}/record, as a download."""
    record = creator_record(db, caller.workspace_id, creator_id, actor_of(db, caller, "page"))
    name = f"{caller.workspace_name}-creator-{creator_id}.json"
    return JSONResponse(record, headers={"Content-Disposition": f'attachment; filename="{name}"'})
