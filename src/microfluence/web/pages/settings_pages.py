"""Workspace settings, for owners: members and their roles and accounts, invitations (a new
link is shown once, on the page that answers its creation), API keys (likewise), and the
follower samples held (third parties' data: export or delete per account)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from microfluence.access import api_keys, invitations, members
from microfluence.access.principal import Principal
from microfluence.access.roles import Role
from microfluence.access.users import list_members
from microfluence.catalog import followers as samples
from microfluence.kernel.store.tables import Workspace
from microfluence.web.api.exports import ExportFormat
from microfluence.web.api.privacy import follower_file
from microfluence.web.api.workspace import base_url
from microfluence.web.deps import CsrfChecked, DbSession, PageOwner, StoreDep
from microfluence.web.pages.emv_settings import emv_rows
from microfluence.web.pages.reminder_thresholds import threshold_rows
from microfluence.web.pages.rendering import render

router = APIRouter(prefix="/settings", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RoleField = Annotated[Role, Form()]


def _workspace(db: Session, caller: Principal) -> Workspace:
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    return workspace


def _page(request: Request, db: Session, caller: Principal, **extra: object) -> HTMLResponse:
    return render(
        request,
        db,
        "settings.html",
        title="Settings",
        members=list_members(db, caller.workspace_id),
        invitations=invitations.list_invitations(db, caller.workspace_id),
        keys=api_keys.describe_api_keys(db, caller.workspace_id),
        samples=samples.list_samples(db, caller.workspace_id),
        roles=[r.value for r in Role if r.rank <= caller.role.rank],
        emv_rates=emv_rows(db, caller.workspace_id),
        reminder_thresholds=threshold_rows(db, caller.workspace_id),
        **extra,
    )


def _back(section: str) -> RedirectResponse:
    return RedirectResponse(f"/settings#{section}", status_code=303)


@router.get("")
def settings_page(request: Request, db: DbSession, caller: PageOwner) -> HTMLResponse:
    return _page(request, db, caller)


# --- members and invitations ----------------------------------------------------------------


@router.post("/invitations", dependencies=[CsrfChecked])
def invite(
    request: Request,
    db: DbSession,
    caller: PageOwner,
    email: Annotated[str, Form(max_length=320)],
    role: RoleField = Role.member,
) -> HTMLResponse:
    """Invite an address; the same answer whether or not it has an account. The link is
    answered directly (not redirected): it must not travel in a URL or be stored."""
    made = invitations.invite(
        db, actor=caller, workspace=_workspace(db, caller), email=email, role=role
    )
    return _page(request, db, caller, new_invitation=made, link=made.link(base_url(request)))


@router.post("/invitations/{invitation_id}/revoke", dependencies=[CsrfChecked])
def revoke_invitation(db: DbSession, caller: PageOwner, invitation_id: Id) -> RedirectResponse:
    invitations.revoke_invitation(db, workspace_id=caller.workspace_id, invitation_id=invitation_id)
    return _back("invitations")


@router.post("/members/{user_id}/role", dependencies=[CsrfChecked])
def change_role(db: DbSession, caller: PageOwner, user_id: Id, role: RoleField) -> RedirectResponse:
    members.change_role(
        db, workspace_id=caller.workspace_id, user_id=user_id, role=role, actor=caller
    )
    return _back("members")


@router.post("/members/{user_id}/remove", dependencies=[CsrfChecked])
def remove_member(db: DbSession, caller: PageOwner, user_id: Id) -> RedirectResponse:
    members.remove_member(db, workspace_id=caller.workspace_id, user_id=user_id, actor=caller)
    return _back("members")


@router.post("/members/{user_id}/disable", dependencies=[CsrfChecked])
def disable_member(db: DbSession, caller: PageOwner, user_id: Id) -> RedirectResponse:
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    members.disable_user(db, actor=caller, user=user)
    return _back("members")


@router.post("/members/{user_id}/enable", dependencies=[CsrfChecked])
def enable_member(db: DbSession, caller: PageOwner, user_id: Id) -> RedirectResponse:
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    members.enable_user(db, actor=caller, user=user)
    return _back("members")


@router.post("/members/{user_id}/delete", dependencies=[CsrfChecked])
def delete_member_account(db: DbSession, caller: PageOwner, user_id: Id) -> RedirectResponse:
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    members.delete_user(db, actor=caller, user=user)
    return _back("members")


# --- API keys -------------------------------------------------------------------------------


@router.post("/api-keys", dependencies=[CsrfChecked])
def create_key(
    request: Request,
    db: DbSession,
    caller: PageOwner,
    name: Annotated[str, Form(max_length=200)] = "",
    role: RoleField = Role.member,
) -> HTMLResponse:
    made = api_keys.create_api_key(
        db, workspace=_workspace(db, caller), name=name, role=role, by=caller
    )
    db.flush()
    # Answered directly (not redirected): the key must not travel in a URL or be stored.
    return _page(request, db, caller, new_key=made)


@router.post("/api-keys/{key_id}/revoke", dependencies=[CsrfChecked])
def revoke_key(db: DbSession, caller: PageOwner, key_id: Id) -> RedirectResponse:
    api_keys.revoke_api_key(db, workspace_id=caller.workspace_id, key=key_id)
    return _back("api-keys")


# --- follower samples (third parties' data) -------------------------------------------------


@router.get("/follower-samples/{account_id}/export")
def export_sample(
    store: StoreDep,
    caller: PageOwner,
    account_id: Id,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.csv,
) -> FileResponse:
    """The same file as GET /api/v1/accounts/{id}/followers."""
    return follower_file(store, caller, account_id, fmt)


@router.post("/follower-samples/{account_id}/delete", dependencies=[CsrfChecked])
def delete_sample(db: DbSession, caller: PageOwner, account_id: Id) -> RedirectResponse:
    samples.delete_sample(db, caller.workspace_id, account_id)
    return _back("follower-samples")
