"""The unsubscribe link every message carries: ``/u/{token}``, no sign-in needed.

The token names a workspace and a creator, signed with HMAC-SHA256 under a server secret (the
site secret ``unsubscribe``, kept in the store like the CSRF and click-hash secrets): it cannot
be forged or moved to another creator or workspace. Using it marks the creator do-not-contact
in that workspace (relationships.contact) and stops their active sequences; the page says
"you are unsubscribed" whatever the token, so it reveals nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microfluence.access.site_secrets import site_secret
from microfluence.campaigns.tables import Deal
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.outreach.tables import Enrollment
from microfluence.relationships.contact import set_do_not_contact
from microfluence.tracking.links import public_base

SECRET_NAME = "unsubscribe"
PATH = "/u/"
REASON = "unsubscribed by link"


@dataclass(frozen=True)
class Links:
    """What messages link to: the app's public address (unsubscribe and portal links are made
    under it) and the signing secret."""

    base_url: str
    secret: str

    def unsubscribe_url(self, workspace_id: int, creator_id: int) -> str:
        return self.base_url.rstrip("/") + PATH + make_token(self.secret, workspace_id, creator_id)


def links_for(store: Store, base_url: str | None = None) -> Links:
    """Links for messages sent from this store: ``base_url``, else MICROFLUENCE_PUBLIC_URL,
    else the CLI's default address (tracking.links.public_base: the short links' setting)."""
    return Links(base_url=public_base(base_url), secret=site_secret(store, SECRET_NAME))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"unsubscribe:" + payload, hashlib.sha256).digest()[:20]


def make_token(secret: str, workspace_id: int, creator_id: int) -> str:
    payload = struct.pack(">QQ", workspace_id, creator_id)
    return _b64(payload) + "." + _b64(_sign(secret, payload))


def read_token(secret: str, token: str) -> tuple[int, int] | None:
    """(workspace id, creator id) of a genuine token; None for anything else."""
    if not isinstance(token, str) or len(token) > 100 or token.count(".") != 1:
        return None
    head, _, sig = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (ValueError, TypeError):
        return None
    if len(payload) != 16 or not hmac.compare_digest(given, _sign(secret, payload)):
        return None
    workspace_id, creator_id = struct.unpack(">QQ", payload)
    return workspace_id, creator_id


def unsubscribe(session: Session, secret: str, token: str, at: dt.datetime | None = None) -> bool:
    """Honour an unsubscribe link: True when it was genuine (the creator is now do-not-contact
    and their sequences stopped), False otherwise. The faces answer the same either way."""
    found = read_token(secret, token)
    if found is None:
        return False
    workspace_id, creator_id = found
    exists = session.scalar(
        select(Creator.id).where(Creator.workspace_id == workspace_id, Creator.id == creator_id)
    )
    if exists is None:  # erased since, or never was
        return False
    when = at or utcnow()
    set_do_not_contact(session, workspace_id, creator_id, reason=REASON, at=when)
    stop_enrollments_of_creator(session, workspace_id, creator_id, "opted_out", REASON)
    return True


def stop_enrollments_of_creator(
    session: Session, workspace_id: int, creator_id: int, status: str, reason: str
) -> int:
    """End the creator's active enrollments (every deal of theirs in this workspace)."""
    deals = select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.creator_id == creator_id)
    return session.execute(
        update(Enrollment)
        .where(
            Enrollment.workspace_id == workspace_id,
            Enrollment.status == "active",
            Enrollment.deal_id.in_(deals),
        )
        .values(status=status, stopped_reason=reason[:200], due_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
