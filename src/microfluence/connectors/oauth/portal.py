"""The creator portal's side: which platforms the creator can connect (those with an app set),
the creator's authorisations, and disconnecting one (revoked at the platform). The deal — and so
the creator — always comes from the portal link, never from the request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal
from microfluence.connectors.oauth import grants
from microfluence.connectors.oauth.platforms import PLATFORMS
from microfluence.connectors.oauth.tables import OAuthApp
from microfluence.kernel.errors import NotFoundError
from microfluence.relationships.portal import PortalAccess


@dataclass
class PortalConnections:
    platforms: list[tuple[str, str]]  # (name, label) of the platforms with an app
    authorisations: list[grants.AuthorisationPublic]


def portal_creator(session: Session, access: PortalAccess) -> int:
    creator = session.scalar(
        select(Deal.creator_id).where(
            Deal.id == access.deal_id, Deal.workspace_id == access.workspace_id
        )
    )
    if creator is None:
        raise NotFoundError("no such deal")
    return creator


def portal_connections(session: Session, access: PortalAccess) -> PortalConnections:
    names = session.scalars(
        select(OAuthApp.platform).where(OAuthApp.workspace_id == access.workspace_id)
    ).all()
    return PortalConnections(
        platforms=[(n, PLATFORMS[n].label) for n in PLATFORMS if n in set(names)],
        authorisations=grants.list_authorisations(
            session, access.workspace_id, creator_id=portal_creator(session, access)
        ),
    )


def disconnect(session: Session, access: PortalAccess, auth_id: int) -> grants.AuthorisationPublic:
    """The creator withdraws an authorisation of their own: revoked at the platform."""
    auth = grants.get_authorisation(session, access.workspace_id, auth_id)
    if auth.creator_id != portal_creator(session, access):
        raise NotFoundError(f"no authorisation with id {auth_id}")
    return grants.revoke(session, access.workspace_id, auth_id, by="creator")
