"""Deleting what has run out: sign-in counts, sessions and invitations, each in one statement.

The app runs ``prune`` when it starts; the sign-in throttle also prunes its own rows while
attempts come in (``throttle.reserve``), so an attack that cycles through addresses cannot grow
the table without bound.
"""

from __future__ import annotations

from microfluence.access import invitations, sessions, throttle
from microfluence.kernel.store import Store


def prune(store: Store) -> dict[str, int]:
    """Delete expired sign-in counts, expired or idle sessions, and invitations that ended long
    ago; how many of each."""
    with store.transaction() as session:
        return {
            "sign_in_throttles": throttle.forget_expired(session),
            "web_sessions": sessions.forget_expired(session),
            "invitations": invitations.forget_ended(session),
        }
