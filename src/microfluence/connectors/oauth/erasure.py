"""Erasing a creator's personal data (relationships.privacy) revokes their authorisations at
the platforms and forgets the tokens, and deletes their connect links and pending requests: a
step of :data:`relationships.privacy.ERASERS`, registered when this package is loaded. Where it
is not (a face that never loads the connectors), the grant is revoked at the next read instead
(grants.access_token checks the creator's erasure first). The first-party numbers already read
stay, like every other KPI of the creator."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microfluence.connectors.oauth.grants import ERASED, revoke_grant
from microfluence.connectors.oauth.tables import CreatorAuthorisation, OAuthInvite, OAuthState
from microfluence.relationships.privacy import ERASERS, Erasure


def erase_authorisations(session: Session, erasure: Erasure) -> None:
    ws, creator = erasure.workspace_id, erasure.creator_id
    active = session.scalars(
        select(CreatorAuthorisation).where(
            CreatorAuthorisation.workspace_id == ws,
            CreatorAuthorisation.creator_id == creator,
            CreatorAuthorisation.status != "revoked",
        )
    ).all()
    for auth in active:  # a creator has a grant or two: one call to each platform
        revoke_grant(session, auth, ERASED)
    erasure.counts["authorisations_revoked"] = len(active)
    for table in (OAuthInvite, OAuthState):
        session.execute(delete(table).where(table.workspace_id == ws, table.creator_id == creator))


if erase_authorisations not in ERASERS:
    ERASERS.append(erase_authorisations)
