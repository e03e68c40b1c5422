"""Workspace settings, for owners: members and their roles, API keys (a new key is shown once,
on the page that answers its creation, and never again)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from microfluence.access import api_keys, users
from microfluence.access.passwords import MIN_LENGTH
from microfluence.access.principal import Principal
from microfluence.access.roles import Role, parse_role
from microfluence.access.tables import User
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Workspace
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/settings", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
MIN_PASSWORD = MIN_LENGTH


def _workspace(db: Session, caller: Principal) -> Workspace:
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    return workspace


def _member(db: Session, caller: Principal, user_id: int) -> User:
    """A member of the caller's workspace; 404 for anyone else (ids reveal nothing)."""
    user = db.get(User, user_id)
    found = user and users.find_membership(db, user_id=user_id, workspace_id=caller.workspace_id)
    if user is None or not found:
        raise NotFoundError(f"no member with id {user_id} in this workspace")
    return user


def _page(request: Request, db: Session, caller: Principal, **extra: object) -> HTMLResponse:
    return render(
        request,
        db,
        "settings.html",
        title="Settings",
        members=users.list_members(db, caller.workspace_id),
        keys=api_keys.list_api_keys(db, caller.workspace_id),
        roles=[r.value for r in Role],
        **extra,
    )


@router.get("")
def settings_page(request: Request, db: DbSession, caller: PageOwner) -> HTMLResponse:
    return _page(request, db, caller)


@router.post("/members", dependencies=[CsrfChecked])
def add_member(
    db: DbSession,
    caller: PageOwner,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> RedirectResponse:
    """Add an existing user, or create the user with the password given (they change it)."""
    user = users.find_user(db, email)
    if user is None:
        if len(password) < MIN_PASSWORD:
            raise InputError(
                f"{email} has no account yet: give a first password of at least "
                f"{MIN_PASSWORD} characters",
                field="password",
            )
        user = users.create_user(db, email=email, password=password)
    users.set_membership(db, user=user, workspace=_workspace(db, caller), role=parse_role(role))
    return RedirectResponse("/settings#members", status_code=303)


@router.post("/members/{user_id}/role", dependencies=[CsrfChecked])
def change_role(
    db: DbSession, caller: PageOwner, user_id: Id, role: Annotated[str, Form(max_length=20)]
) -> RedirectResponse:
    user = _member(db, caller, user_id)
    users.set_membership(db, user=user, workspace=_workspace(db, caller), role=parse_role(role))
    return RedirectResponse("/settings#members", status_code=303)


@router.post("/members/{user_id}/remove", dependencies=[CsrfChecked])
def remove_member(db: DbSession, caller: PageOwner, user_id: Id) -> RedirectResponse:
    user = _member(db, caller, user_id)
    users.remove_membership(db, user=user, workspace=_workspace(db, caller))
    return RedirectResponse("/settings#members", status_code=303)


@router.post("/api-keys", dependencies=[CsrfChecked])
def create_key(
    request: Request,
    db: DbSession,
    caller: PageOwner,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "member",
) -> HTMLResponse:
    made = api_keys.create_api_key(
        db,
        workspace=_workspace(db, caller),
        name=name,
        role=parse_role(role),
        created_by=caller.user_id,
    )
    db.flush()
    # Answered directly (not redirected): the key must not travel in a URL or be stored.
    return _page(request, db, caller, new_key=made)


@router.post("/api-keys/{key_id}/revoke", dependencies=[CsrfChecked])
def revoke_key(db: DbSession, caller: PageOwner, key_id: Id) -> RedirectResponse:
    api_keys.revoke_api_key(db, workspace_id=caller.workspace_id, key=key_id)
    return RedirectResponse("/settings#api-keys", status_code=303)
