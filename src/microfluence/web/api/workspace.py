"""/api/v1/workspace: who the key is, and (for owners) the workspace's members, invitations and
API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from microfluence.access import api_keys, invitations, members
from microfluence.access.roles import Role
from microfluence.access.tables import ApiKey, Membership, User
from microfluence.access.users import list_members
from microfluence.catalog.schemas import Page, UtcDateTime
from microfluence.kernel.config import get_settings
from microfluence.kernel.store.tables import Workspace
from microfluence.web.api.common import ITEM_ERRORS, READ_ERRORS, WRITE_ERRORS
from microfluence.web.deps import ApiOwner, ApiReader, DbSession

router = APIRouter(prefix="/workspace", tags=["workspace"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class WhoAmI(BaseModel):
    workspace: str
    role: Role = Field(description="What the key may do now (see `role` of the key list).")
    api_key_id: int | None


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The visible start of the key, to tell keys apart.")
    role: Role = Field(description="The most the key may do, fixed when it was made.")
    effective_role: Role | None = Field(
        description="What it may do now: the lesser of `role` and its maker's current role; "
        "null when it does not work (revoked, or its maker left, was disabled or deleted)."
    )
    created_by: str | None = Field(description="The e-mail address of the member who made it.")
    by_operator: bool = Field(description="Made by the server's operator with the CLI.")
    made_with_key: str | None = Field(description="The prefix of the key that made it.")
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class ApiKeyCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    role: Role = Role.member


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The whole key. It is shown this once and never again.")


class MemberPublic(BaseModel):
    id: int
    email: str
    display_name: str | None
    role: Role
    active: bool = Field(description="False while the account is disabled.")
    member_since: UtcDateTime
    last_sign_in_at: UtcDateTime | None


class MemberUpdate(BaseModel):
    role: Role


class AccountClosedPublic(BaseModel):
    email: str
    sessions_ended: int
    keys_revoked: int
    invitations_revoked: int


class InvitationPublic(BaseModel):
    id: int
    email: str
    role: Role
    invited_by: str | None
    created_at: UtcDateTime
    expires_at: UtcDateTime
    status: str = Field(description="pending, accepted, revoked or expired.")


class InvitationCreate(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)]
    role: Role = Role.member


class InvitationCreated(BaseModel):
    status: str = Field(description="Always `invitation created`, whoever the address is.")
    id: int
    email: str
    role: Role
    expires_at: UtcDateTime
    link: str = Field(
        description="The link to send to the invited person. It is shown this once and never "
        "again; whoever holds it can accept the invitation."
    )


def _key(view: api_keys.ApiKeyView) -> ApiKeyPublic:
    key: ApiKey = view.key
    return ApiKeyPublic(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        effective_role=view.effective_role,
        created_by=view.made_by,
        by_operator=key.by_operator,
        made_with_key=view.made_with,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _key_by_id(db: DbSession, workspace_id: int, key_id: int) -> ApiKeyPublic:
    return next(_key(v) for v in api_keys.describe_api_keys(db, workspace_id) if v.key.id == key_id)


@router.get("", responses=READ_ERRORS)
def who_am_i(caller: ApiReader) -> WhoAmI:
    """The workspace and role of the API key that calls."""
    return WhoAmI(workspace=caller.workspace_name, role=caller.role, api_key_id=caller.api_key_id)


# --- API keys -------------------------------------------------------------------------------


@router.get("/api-keys", responses=READ_ERRORS)
def list_api_keys(db: DbSession, caller: ApiOwner) -> Page[ApiKeyPublic]:
    """The workspace's API keys (never the keys themselves), who made each and what it may do
    now. Owners only."""
    views = api_keys.describe_api_keys(db, caller.workspace_id)
    return Page(data=[_key(v) for v in views], count=len(views))


@router.post("/api-keys", status_code=201, responses=WRITE_ERRORS)
def create_api_key(db: DbSession, caller: ApiOwner, body: ApiKeyCreate) -> ApiKeyCreated:
    """Make a key, with a role no higher than the calling key's; the answer is the only time
    the whole key is shown. It acts for the member who made the calling key. Owners only."""
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    made = api_keys.create_api_key(
        db, workspace=workspace, name=body.name, role=body.role, by=caller
    )
    public = _key_by_id(db, caller.workspace_id, made.key.id)
    return ApiKeyCreated(**public.model_dump(), key=made.secret)


@router.delete("/api-keys/{key_id}", responses=ITEM_ERRORS)
def revoke_api_key(db: DbSession, caller: ApiOwner, key_id: Id) -> ApiKeyPublic:
    """Revoke a key and the keys made with it: they stop working at once. Owners only."""
    api_keys.revoke_api_key(db, workspace_id=caller.workspace_id, key=key_id)
    return _key_by_id(db, caller.workspace_id, key_id)


# --- members --------------------------------------------------------------------------------


def _public_member(user: User, membership: Membership) -> MemberPublic:
    return MemberPublic(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(membership.role),
        active=user.is_active,
        member_since=membership.created_at,
        last_sign_in_at=user.last_sign_in_at,
    )


def _member(db: DbSession, workspace_id: int, user_id: int) -> MemberPublic:
    return _public_member(*members.get_member(db, workspace_id, user_id))


@router.get("/members", responses=READ_ERRORS)
def list_workspace_members(db: DbSession, caller: ApiOwner) -> Page[MemberPublic]:
    """The workspace's members with their roles. Owners only."""
    data = [_public_member(u, m) for u, m in list_members(db, caller.workspace_id)]
    return Page(data=data, count=len(data))


@router.patch("/members/{user_id}", responses=WRITE_ERRORS)
def change_member_role(
    db: DbSession, caller: ApiOwner, user_id: Id, body: MemberUpdate
) -> MemberPublic:
    """Change a member's role (a workspace keeps an active owner). Owners only."""
    members.change_role(
        db, workspace_id=caller.workspace_id, user_id=user_id, role=body.role, actor=caller
    )
    return _member(db, caller.workspace_id, user_id)


@router.delete("/members/{user_id}", status_code=204, responses=WRITE_ERRORS)
def remove_workspace_member(db: DbSession, caller: ApiOwner, user_id: Id) -> Response:
    """Take a member out of the workspace; the keys they made here are revoked. Owners only."""
    members.remove_member(db, workspace_id=caller.workspace_id, user_id=user_id, actor=caller)
    return Response(status_code=204)


def _closed(closed: members.AccountClosed) -> AccountClosedPublic:
    return AccountClosedPublic(
        email=closed.email,
        sessions_ended=closed.sessions_ended,
        keys_revoked=closed.keys_revoked,
        invitations_revoked=closed.invitations_revoked,
    )


@router.post("/members/{user_id}/disable", responses=WRITE_ERRORS)
def disable_member(db: DbSession, caller: ApiOwner, user_id: Id) -> AccountClosedPublic:
    """Disable a member's account: sign-in refused, sessions ended, the API keys and invitations
    they made revoked. Only when the calling key's workspace is the only one they belong to."""
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    return _closed(members.disable_user(db, actor=caller, user=user))


@router.post("/members/{user_id}/enable", responses=WRITE_ERRORS)
def enable_member(db: DbSession, caller: ApiOwner, user_id: Id) -> MemberPublic:
    """Enable a disabled member's account again (their revoked keys stay revoked)."""
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    members.enable_user(db, actor=caller, user=user)
    return _member(db, caller.workspace_id, user_id)


@router.delete("/members/{user_id}/account", responses=WRITE_ERRORS)
def delete_member_account(db: DbSession, caller: ApiOwner, user_id: Id) -> AccountClosedPublic:
    """Delete a member's account for good (the rule of disabling applies)."""
    user, _ = members.get_member(db, caller.workspace_id, user_id)
    return _closed(members.delete_user(db, actor=caller, user=user))


# --- invitations ----------------------------------------------------------------------------


def _invitation(view: invitations.InvitationView) -> InvitationPublic:
    return InvitationPublic(
        id=view.id,
        email=view.email,
        role=view.role,
        invited_by=view.invited_by,
        created_at=view.created_at,
        expires_at=view.expires_at,
        status=view.status,
    )


def base_url(request: Request) -> str:
    """Where people reach the app: MICROFLUENCE_PUBLIC_URL, else the address asked."""
    return get_settings().public_url or str(request.base_url)


@router.get("/invitations", responses=READ_ERRORS)
def list_workspace_invitations(
    db: DbSession,
    caller: ApiOwner,
    include_ended: Annotated[
        bool,
        Query(alias="all", description="Also those accepted, revoked or expired (30 days)."),
    ] = False,
) -> Page[InvitationPublic]:
    """Pending invitations, newest first. Owners only."""
    views = invitations.list_invitations(db, caller.workspace_id, pending_only=not include_ended)
    return Page(data=[_invitation(v) for v in views], count=len(views))


@router.post("/invitations", status_code=202, responses=WRITE_ERRORS)
def invite_member(
    request: Request, db: DbSession, caller: ApiOwner, body: InvitationCreate
) -> InvitationCreated:
    """Invite an e-mail address with a role (at most the caller's). 202 with the link to send,
    whether or not the address has an account; they become a member when they accept it.
    Owners only."""
    workspace = db.get(Workspace, caller.workspace_id)
    assert workspace is not None
    made = invitations.invite(
        db, actor=caller, workspace=workspace, email=body.email, role=body.role
    )
    return InvitationCreated(
        status="invitation created",
        id=made.invitation.id,
        email=made.invitation.email,
        role=Role(made.invitation.role),
        expires_at=made.invitation.expires_at,
        link=made.link(base_url(request)),
    )


@router.delete("/invitations/{invitation_id}", responses=ITEM_ERRORS)
def revoke_workspace_invitation(
    db: DbSession, caller: ApiOwner, invitation_id: Id
) -> InvitationPublic:
    """Revoke a pending invitation: its link stops working at once. Owners only."""
    invitations.revoke_invitation(db, workspace_id=caller.workspace_id, invitation_id=invitation_id)
    views = invitations.list_invitations(db, caller.workspace_id, pending_only=False)
    return next(_invitation(v) for v in views if v.id == invitation_id)
