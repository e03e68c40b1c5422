"""A user's own account: changing the password (proving the current one), and the operator's
reset.

A change is a rate-limited password check like a sign-in (``sessions.verify_credentials``): a
stolen session cannot be turned into a stolen account by guessing, and a wrong current password
counts toward the same lockout. It ends the user's other sessions (a thief signed in elsewhere
is signed out) and keeps the one it was made from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from microfluence.access import throttle
from microfluence.access.errors import AuthenticationError
from microfluence.access.passwords import check_password_strength
from microfluence.access.sessions import sign_out_everywhere, verify_credentials
from microfluence.access.tables import User
from microfluence.access.users import set_password
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store


@dataclass(frozen=True)
class PasswordChanged:
    user_id: int
    sessions_ended: int


def change_password(
    store: Store,
    *,
    email: str,
    current_password: str,
    new_password: str,
    ip: str | None = None,
    keep_session_id: int | None = None,
) -> PasswordChanged:
    """Set a new password for the user who knows the current one; end their other sessions."""
    check_password_strength(new_password)  # a bad new password costs no attempt
    if new_password == current_password:
        raise InputError("the new password is the same as the current one", field="new_password")
    user_id = verify_credentials(store, email=email, password=current_password, ip=ip)
    with store.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise AuthenticationError("wrong e-mail address or password")
        throttle.record_success(session, user.email, ip)
        set_password(session, user, new_password)
        ended = sign_out_everywhere(session, user.id, except_session_id=keep_session_id)
    return PasswordChanged(user_id=user_id, sessions_ended=ended)


def reset_password(session: Session, user: User, new_password: str) -> int:
    """The operator's reset (no current password): set it and end every session; how many."""
    set_password(session, user, new_password)
    return sign_out_everywhere(session, user.id)
