"""Helpers for the outreach tests: a real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what
it receives, and a workspace with creators, posts, a campaign and deals to write to."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from microfluence.campaigns.tables import Campaign, Deal
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.outreach.settings import set_smtp


class Inbox:
    """aiosmtpd's handler: every message the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()  # recipients answered 550
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


@contextmanager
def running_smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on a free port of 127.0.0.1, stopped at the end of the block."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


@dataclass
class Outreach:
    workspace_id: int
    campaign_id: int
    deals: dict[str, int]  # creator's first name -> deal id
    creators: dict[str, int]
    accounts: dict[str, int] = field(default_factory=dict)


def make_outreach(
    store: Store,
    name: str = "brand",
    *,
    smtp: SmtpServer | None = None,
    prefix: str = "",
) -> Outreach:
    """Ana (has an e-mail address, a recent post), Bo (has one), Cy (none), each with a deal
    in the campaign "Launch"; the workspace's SMTP server is ``smtp`` when given."""
    with store.transaction() as session:
        ws = ensure_workspace(session, name)
        ws.display_name = f"{prefix}Acme"
        specs = [
            ("Ana", f"{prefix}ana@example.com", "beauty"),
            ("Bo", f"{prefix}bo@example.com", "food"),
            ("Cy", None, "travel"),
        ]
        creators = {}
        accounts = {}
        for first, address, category in specs:
            creator = Creator(
                workspace_id=ws.id, name=f"{first} {prefix}Lee", email=address, category=category
            )
            session.add(creator)
            session.flush()
            creators[first] = creator.id
            account = Account(
                workspace_id=ws.id,
                creator_id=creator.id,
                platform="instagram",
                handle=f"{prefix}{first.lower()}",
                category=category,
                followers=5000,
            )
            session.add(account)
            session.flush()
            accounts[first] = account.id
            for n in range(2):
                session.add(
                    Post(
                        workspace_id=ws.id,
                        account_id=account.id,
                        platform_post_id=f"{prefix}{first}-{n}",
                        url=f"https://instagram.com/p/{prefix}{first}{n}",
                        posted_at=dt.datetime(2026, 5, 1 + n),
                        caption=f"post {n} of {first}",
                    )
                )
        campaign = Campaign(workspace_id=ws.id, name="Launch", currency="EUR")
        session.add(campaign)
        session.flush()
        deals = {}
        for first, creator_id in creators.items():
            deal = Deal(
                workspace_id=ws.id,
                campaign_id=campaign.id,
                creator_id=creator_id,
                account_id=accounts[first],
                flat_fee=Decimal("250"),
                product_value=Decimal("0"),
                commission_rate=Decimal("0.1"),
            )
            session.add(deal)
            session.flush()
            deals[first] = deal.id
        if smtp is not None:
            set_smtp(
                session,
                ws,
                {
                    "host": smtp.host,
                    "port": smtp.port,
                    "security": "none",
                    "from_address": f"team@{prefix or 'acme'}.example.com".replace("_", ""),
                    "from_name": "Sam at Acme",
                    "reply_to": "replies@acme.example.com",
                },
            )
        return Outreach(ws.id, campaign.id, deals, creators, accounts)
