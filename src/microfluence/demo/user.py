"""The demo's sign-in: an owner of the demo workspace with a freshly generated password.

For the demo only. The password is random, made anew each time the command runs (the old one
stops working), and printed once; nothing secret is a constant in the code or the repository.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

import typer

from microfluence.access.account import reset_password
from microfluence.access.members import add_member, enable_user
from microfluence.access.roles import Role
from microfluence.kernel.console import DatabaseUrlOpt, console, friendly_errors, store_for
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


@friendly_errors
def demo_user(
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="The demo workspace.")
    ] = "demo",
    email: Annotated[str, typer.Option(help="E-mail address to sign in with.")] = DEMO_EMAIL,
    host: Annotated[str, typer.Option(help="Where the app will be served.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Its port.", min=1, max=65535)] = 8000,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Give the demo workspace an owner with a new random password, and print how to sign in
    (demo only: run it again for a new password; the previous one stops working)."""
    store = store_for(database_url)
    try:
        made = ensure_demo_user(store, workspace, email)
    finally:
        store.dispose()
    console.print(f"\n[bold]Sign in at[/] http://{host}:{port}/sign-in")
    console.print(f"  e-mail:    {made.email}")
    console.print(f"  password:  {made.password}   [dim](demo only; new on every run)[/]\n")
