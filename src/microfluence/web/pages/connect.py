"""Connecting a creator's account (docs/connectors.md, "Creator-authorised insights").

Public pages, no sign-in: ``/connect/{token}`` (the connect link a brand sends), the portal's
"Connect your account" and "Disconnect" buttons (``/portal/{token}/connect/{platform}``,
``/portal/{token}/disconnect/{id}``), and the callback the platforms send the creator back to,
``/connect/callback/{platform}``, which accepts nothing but a valid, unspent state started in the
same browser (an HttpOnly cookie holds the nonce the state is bound to).

For the workspace's users: ``/authorisations`` — the authorisations, connect links, reading now,
revoking, and (owners) the apps' client ids and secrets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microfluence.catalog.schemas import ID_MAX
from microfluence.connectors.oauth import apps, flow, grants, insights
from microfluence.connectors.oauth import portal as oauth_portal
from microfluence.connectors.oauth.calls import GrantError, PlatformError
from microfluence.connectors.oauth.platforms import PLATFORMS
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import Creator
from microfluence.relationships import portal
from microfluence.relationships.audit import actor_of
from microfluence.web.api.workspace import base_url
from microfluence.web.auth import _secure
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner, PageReader, PageWriter
from microfluence.web.pages import portal as portal_pages
from microfluence.web.pages.consent import consent_csp
from microfluence.web.pages.rendering import env, render

router = APIRouter(tags=["pages"], include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
NONCE_COOKIE, BACK_COOKIE = "mf_oauth", "mf_oauth_back"
COOKIE_PATH = "/connect/callback"
HEADERS = portal_pages.HEADERS


def _page(status: int, heading: str, message: str, **extra: object) -> HTMLResponse:
    body = env.get_template("connect.html").render(heading=heading, message=message, **extra)
    headers = {**HEADERS, "Content-Security-Policy": consent_csp()}
    return HTMLResponse(body, status_code=status, headers=headers)


def _to_platform(request: Request, begun: flow.Begun, back: str | None) -> Response:
    """303 to the platform's consent page, the state bound to this browser by a cookie."""
    response = RedirectResponse(begun.authorize_url, status_code=303, headers=HEADERS)
    secure, age = _secure(request), flow.STATE_MINUTES * 60
    response.set_cookie(
        NONCE_COOKIE, begun.browser_nonce, max_age=age, path=COOKIE_PATH,
        secure=secure, httponly=True, samesite="lax",
    )  # fmt: skip
    if back:
        response.set_cookie(
            BACK_COOKIE, back, max_age=age, path=COOKIE_PATH, secure=secure,
            httponly=True, samesite="lax",
        )  # fmt: skip
    else:
        response.delete_cookie(BACK_COOKIE, path=COOKIE_PATH)
    return response


# --- the connect link -----------------------------------------------------------------------


@router.get("/connect/{token}")
async def connect_page(request: Request, token: str) -> Response:
    def run() -> Response:
        with request.app.state.store.transaction() as db:
            try:
                invite = flow.open_invite(db, token)
            except flow.InviteNotFound:
                return portal_pages._gone()
            name = db.get(Creator, invite.creator_id)
            label = PLATFORMS[invite.platform].label
            return _page(
                200,
                f"Connect your {label} account",
                "The brand asks to read your account's insights — reach, impressions, audience "
                "countries, ages and genders — to see them as they really are. You choose on "
                f"{label}'s own page; you can disconnect at any time.",
                creator=name.name if name else None,
                action=f"/connect/{token}",
                button=f"Connect with {label}",
            )

    return await run_in_threadpool(run)


@router.post("/connect/{token}")
async def connect_start(request: Request, token: str) -> Response:
    def run() -> Response:
        with request.app.state.store.transaction() as db:
            try:
                invite = flow.open_invite(db, token)
            except flow.InviteNotFound:
                return portal_pages._gone()
            begun = flow.begin(
                db, invite.workspace_id, invite.creator_id, invite.platform, base=base_url(request)
            )
        return _to_platform(request, begun, None)

    try:
        return await run_in_threadpool(run)
    except (NotFoundError, InputError) as exc:
        return _page(409, "This link cannot be used now", str(exc))


# --- the portal's buttons -------------------------------------------------------------------


@router.post("/portal/{token}/connect/{platform}")
async def portal_connect(request: Request, token: str, platform: str) -> Response:
    form = await request.form(max_fields=10)
    submitted = form.get("form_token")

    def run() -> Response:
        store = request.app.state.store
        try:
            with store.transaction() as db:
                access = portal.open_portal(db, token)
                portal.check_form_token(
                    request.app.state.csrf_secret,
                    access,
                    submitted if isinstance(submitted, str) else None,
                )
                creator = oauth_portal.portal_creator(db, access)
                begun = flow.begin(
                    db, access.workspace_id, creator, platform, base=base_url(request)
                )
        except portal.PortalNotFound:
            return portal_pages._gone()
        except (InputError, NotFoundError) as exc:
            status = 403 if isinstance(exc, portal.PortalFormExpired) else 422
            message = exc.message if isinstance(exc, InputError) else str(exc)
            return portal_pages._show(request, token, status, error=message)
        return _to_platform(request, begun, portal.portal_path(token))

    return await run_in_threadpool(run)


@router.post("/portal/{token}/disconnect/{authorisation_id}")
async def portal_disconnect(request: Request, token: str, authorisation_id: Id) -> Response:
    def action(db: Session, access: portal.PortalAccess, fields: dict[str, str]) -> None:
        try:
            oauth_portal.disconnect(db, access, authorisation_id)
        except NotFoundError as exc:
            raise InputError(str(exc), field="authorisation") from exc

    return await portal_pages._act(request, token, action, "disconnected", "connect")


# --- the callback ---------------------------------------------------------------------------


def _finish(request: Request, platform: str) -> Response:
    params, store = request.query_params, request.app.state.store
    try:
        with store.transaction() as db:  # spent, and committed, before anything else
            consumed = flow.consume_state(
                db, platform, params.get("state"), request.cookies.get(NONCE_COOKIE)
            )
    except flow.StateError as exc:
        return _page(400, "This connection request cannot be used", exc.message)
    try:
        flow.check_consent(params.get("error"), params.get("error_description"))
        with store.transaction() as db:
            done = grants.complete(db, consumed, params.get("code"))
    except InputError as exc:
        return _page(400, "Nothing was connected", exc.message)
    except (GrantError, ConflictError) as exc:
        return _page(409, "Nothing was connected", str(exc))
    except (PlatformError, NotFoundError) as exc:
        return _page(502, "Nothing was connected", str(exc))
    back = request.cookies.get(BACK_COOKIE) or ""
    if back.startswith("/portal/") and "?" not in back and len(back) < 200:  # noqa: PLR2004
        response: Response = RedirectResponse(
            f"{back}?done=connected#connect", status_code=303, headers=HEADERS
        )
    else:
        label = PLATFORMS[done.platform].label
        response = _page(
            200,
            "Connected",
            f"Your {label} account{' @' + done.handle if done.handle else ''} is connected. "
            "You can close this page; to disconnect, use your portal link or ask the brand.",
        )
    response.delete_cookie(NONCE_COOKIE, path=COOKIE_PATH)
    response.delete_cookie(BACK_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/connect/callback/{platform}")
async def callback(request: Request, platform: str) -> Response:
    if platform not in PLATFORMS:
        return portal_pages._gone()
    return await run_in_threadpool(_finish, request, platform)


# --- the workspace's page -------------------------------------------------------------------


def _authorisations_page(
    request: Request, db: Session, workspace_id: int, **extra: object
) -> HTMLResponse:
    return render(
        request,
        db,
        "authorisations.html",
        title="Creator authorisations",
        apps=apps.list_apps(db, workspace_id),
        platforms=[(p.name, p.label) for p in PLATFORMS.values()],
        rows=grants.list_authorisations(db, workspace_id),
        callback=lambda name: flow.redirect_uri(base_url(request), name),
        **extra,
    )


@router.get("/authorisations")
def authorisations_page(request: Request, db: DbSession, caller: PageReader) -> HTMLResponse:
    return _authorisations_page(request, db, caller.workspace_id)


@router.post("/authorisations/apps", dependencies=[CsrfChecked])
def save_app(
    db: DbSession,
    caller: PageOwner,
    platform: Annotated[str, Form(max_length=20)],
    client_id: Annotated[str, Form(max_length=200)],
    client_secret: Annotated[str, Form(max_length=500)],
) -> RedirectResponse:
    by = actor_of(db, caller, "page").label
    apps.set_app(
        db, caller.workspace_id, platform, client_id=client_id, client_secret=client_secret, by=by
    )
    return RedirectResponse("/authorisations#apps", status_code=303)


@router.post("/authorisations/links", dependencies=[CsrfChecked])
def make_link(
    request: Request,
    db: DbSession,
    caller: PageWriter,
    creator_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    platform: Annotated[str, Form(max_length=20)],
    days: Annotated[int, Form(ge=1, le=flow.INVITE_DAYS_MAX)] = 7,
) -> HTMLResponse:
    made = flow.create_invite(
        db,
        caller.workspace_id,
        creator_id,
        platform,
        by=actor_of(db, caller, "page").label,
        days=days,
        base=base_url(request),
    )
    return _authorisations_page(request, db, caller.workspace_id, made=made)


@router.post("/authorisations/{authorisation_id}/fetch", dependencies=[CsrfChecked])
def fetch_now(
    request: Request, db: DbSession, caller: PageWriter, authorisation_id: Id
) -> HTMLResponse:
    result = insights.fetch_insights(db, caller.workspace_id, authorisation_id)
    return _authorisations_page(request, db, caller.workspace_id, fetched=result)


@router.post("/authorisations/{authorisation_id}/revoke", dependencies=[CsrfChecked])
def revoke(db: DbSession, caller: PageWriter, authorisation_id: Id) -> RedirectResponse:
    by = actor_of(db, caller, "page").label or "page"
    grants.revoke(db, caller.workspace_id, authorisation_id, by=by)
    return RedirectResponse("/authorisations", status_code=303)
