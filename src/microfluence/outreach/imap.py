"""Replies read from an IMAP mailbox (imaplib, the standard library), when a workspace has one.

Each read takes the messages that arrived since the last read (by UID, remembered with the
mailbox's UIDVALIDITY; a new UIDVALIDITY starts over), reads only their ``In-Reply-To`` and
``References`` headers (``BODY.PEEK``: nothing is marked read), and matches them to the
Message-IDs of the workspace's sent messages. Each deal answered gets a reply recorded
(outreach.replies: a ``reply`` event, contacted → replied, its sequences stopped)."""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import select

from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Workspace
from microfluence.outreach.replies import mark_replied
from microfluence.outreach.settings import ImapConfig, imap_config, imap_seen, set_imap_seen
from microfluence.outreach.tables import OutboxMessage

TIMEOUT = 30.0
MAX_PER_READ = 500
MESSAGE_ID = re.compile(r"<[^<>\s]{1,300}>")
HEADERS = "(UID BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO REFERENCES)])"
ACTOR = "imap"

Connect = Callable[[ImapConfig], imaplib.IMAP4]


def connect(config: ImapConfig) -> imaplib.IMAP4:
    """A signed-in connection to the mailbox's server."""
    if config.security == "tls":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
        )
    else:
        client = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT)
        if config.security == "starttls":
            client.starttls(ssl_context=ssl.create_default_context())
    client.login(config.username, config.password or "")
    return client


def _check(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {data!r}"[:300])
    return data


def _validity(client: imaplib.IMAP4) -> int:
    _status, data = client.response("UIDVALIDITY")
    try:
        return int(data[0]) if data and data[0] is not None else 0
    except (TypeError, ValueError):
        return 0


def _new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    data = _check(client.uid("SEARCH", f"UID {after + 1}:*"), "UID SEARCH")
    words = b" ".join(d for d in data if isinstance(d, bytes)).split()
    # "n:*" always names the newest message, even one read before: keep the new ones only.
    return sorted(u for u in (int(w) for w in words if w.isdigit()) if u > after)[:MAX_PER_READ]


def _referenced(client: imaplib.IMAP4, uids: list[int]) -> dict[int, set[str]]:
    """The Message-IDs each new message answers (In-Reply-To and References), by UID."""
    if not uids:
        return {}
    data = _check(client.uid("FETCH", ",".join(map(str, uids)), HEADERS), "UID FETCH")
    found: dict[int, set[str]] = {}
    parser = BytesHeaderParser()
    for part in data:
        if not isinstance(part, tuple) or len(part) < 2:
            continue
        uid = re.search(rb"UID (\d+)", part[0])
        if uid is None:
            continue
        headers = parser.parsebytes(part[1])
        text = " ".join(str(headers.get(h) or "") for h in ("In-Reply-To", "References"))
        found[int(uid.group(1))] = set(MESSAGE_ID.findall(text))
    return found


def read_replies(
    store: Store, workspace_id: int, *, open_mailbox: Connect = connect
) -> dict[str, Any]:
    """Read the mailbox's new messages and record the replies they are; what was found. A
    workspace without a mailbox reads nothing."""
    with store.session() as session:
        workspace = session.get_one(Workspace, workspace_id)
        config = imap_config(workspace)
        known_validity, last = imap_seen(workspace)
    if config is None:
        return {"configured": False, "read": 0, "replies": 0}
    client = open_mailbox(config)
    try:
        _check(client.select(f'"{config.mailbox}"', readonly=True), "SELECT")
        validity = _validity(client)
        after = last if validity == known_validity else 0
        uids = _new_uids(client, after)
        referenced = _referenced(client, uids)
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    wanted = set().union(*referenced.values()) if referenced else set()
    with store.transaction() as session:
        deal_ids = sorted(
            {
                deal_id
                for deal_id in session.scalars(
                    select(OutboxMessage.deal_id).where(
                        OutboxMessage.workspace_id == workspace_id,
                        OutboxMessage.message_id.in_(wanted),
                        OutboxMessage.deal_id.is_not(None),
                    )
                )
                if deal_id is not None
            }
        )
        if deal_ids:
            mark_replied(session, workspace_id, deal_ids, actor=ACTOR, note="read from the mailbox")
        workspace = session.get_one(Workspace, workspace_id)
        set_imap_seen(session, workspace, validity, max(uids, default=after))
    return {"configured": True, "read": len(uids), "replies": len(deal_ids)}
