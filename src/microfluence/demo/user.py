"""The demo's sign-in: an owner of the demo workspace with a freshly generated password.

For the demo only (`microfluence demo-user`, in ``demo/cli.py``). The password is random, made
anew each time the command runs (the old one stops working), and printed once; nothing secret is
a constant in the code or the repository.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from microfluence.access.account import reset_password
from microfluence.access.members import add_member, enable_user
from microfluence.access.roles import Role
from microfluence.kernel.store import Store
from microfluence.kernel.workspaces import get_workspace

DEMO_EMAIL = "demo@microfluence.example"  # .example is reserved for documentation (RFC 2606)


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    password: str
    workspace: str


def ensure_demo_user(store: Store, workspace: str, email: str = DEMO_EMAIL) -> DemoSignIn:
    """Make ``email`` an owner of ``workspace`` (which must exist) with a new random password."""
    password = secrets.token_urlsafe(12)
    with store.transaction() as session:
        ws = get_workspace(session, workspace)
        added = add_member(
            session,
            workspace=ws,
            email=email,
            role=Role.owner,
            password=password,
            display_name="Demo",
        )
        if not added.created_user:
            reset_password(session, added.user, password)  # the old password's sessions end
        if not added.user.is_active:  # a disabled demo owner is enabled again
            enable_user(session, actor=None, user=added.user)
    return DemoSignIn(email=email, password=password, workspace=workspace)
