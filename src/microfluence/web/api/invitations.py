"""/api/v1/invitations/{token} and /api/v1/account/password: the routes a person uses for their
own account. They carry no API key (API keys belong to workspaces, not people): the invitation's
token, or the current password, is the proof — and a password is checked, rate-limited, as at
sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from microfluence.access import account, invitations
from microfluence.access.roles import Role
from microfluence.catalog.schemas import UtcDateTime
from microfluence.web.api.common import responses
from microfluence.web.deps import DbSession, StoreDep

router = APIRouter(tags=["invitations and passwords"])
Token = Annotated[str, Path(min_length=1, max_length=100, description="The invitation's token.")]
Password = Annotated[str, StringConstraints(max_length=1024)]


class InvitationOffer(BaseModel):
    workspace: str
    workspace_display_name: str
    email: str = Field(description="The invited address: accepting makes it a member.")
    role: Role
    invited_by: str | None
    expires_at: UtcDateTime
    status: str = Field(description="pending, accepted, revoked or expired.")


class InvitationAccept(BaseModel):
    password: Password = Field(
        description="The password of the invited address's account; when it has none, the "
        "password of its new account (8 to 1024 characters)."
    )
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None


class InvitationAccepted(BaseModel):
    email: str
    workspace: str
    role: Role = Field(description="The role now held (an existing higher role is kept).")


class PasswordChange(BaseModel):
    email: Annotated[str, StringConstraints(max_length=320)]
    current_password: Password
    new_password: Password


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/invitations/{token}", responses=responses(404, 422))
def get_invitation(db: DbSession, token: Token) -> InvitationOffer:
    """What an invitation offers, for its holder (no API key needed)."""
    view = invitations.describe_invitation(db, token)
    return InvitationOffer(
        workspace=view.workspace,
        workspace_display_name=view.workspace_display_name,
        email=view.email,
        role=view.role,
        invited_by=view.invited_by,
        expires_at=view.expires_at,
        status=view.status,
    )


@router.post("/invitations/{token}/accept", responses=responses(400, 401, 404, 409, 422, 429))
def accept_invitation(
    request: Request, store: StoreDep, token: Token, body: InvitationAccept
) -> InvitationAccepted:
    """Accept an invitation with the password of the invited address's account (401 when
    wrong; rate-limited as sign-in), or, when the address has no account, make it with this
    password. The pages' `/invitations/{token}` does the same and signs the person in."""
    accepted = invitations.accept_with_password(
        store,
        token,
        password=body.password,
        display_name=body.display_name,
        ip=_client(request),
    )
    return InvitationAccepted(
        email=accepted.email, workspace=accepted.workspace, role=accepted.role
    )


@router.post("/account/password", status_code=204, responses=responses(400, 401, 422, 429))
def change_password(request: Request, store: StoreDep, body: PasswordChange) -> Response:
    """Change one's password, proving the current one (rate-limited as sign-in); every
    session of the account ends."""
    account.change_password(
        store,
        email=body.email,
        current_password=body.current_password,
        new_password=body.new_password,
        ip=_client(request),
    )
    return Response(status_code=204)
