"""Where outreach mail goes out: an SMTP server per workspace (owners set it; a workspace
setting, ``workspaces.settings["outreach"]``), or the server-wide default read from the
environment (``MICROFLUENCE_SMTP_…``), and the workspace's daily sending limit.

The password is stored for sending and never returned: callers see ``password_set``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Workspace

SETTINGS_KEY = "outreach"
SECURITIES = ("none", "starttls", "tls")
DEFAULT_DAILY_LIMIT = 200
MAX_DAILY_LIMIT = 100_000
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")


class OutreachSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_", extra="ignore")

    smtp_host: str | None = Field(
        default=None,
        description="The server-wide SMTP server for workspaces that set none; unset: none.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Its port.")
    smtp_security: str = Field(default="starttls", description="none, starttls or tls.")
    smtp_username: str | None = Field(default=None, description="Its user name, if any.")
    smtp_password: str | None = Field(default=None, description="Its password, if any.")
    smtp_from: str | None = Field(
        default=None, description="The From address of the server-wide default."
    )
    outreach_daily_limit: int = Field(
        default=DEFAULT_DAILY_LIMIT,
        ge=1,
        le=MAX_DAILY_LIMIT,
        description="Messages a workspace sends per UTC day unless it sets its own limit.",
    )


@lru_cache(maxsize=1)
def get_outreach_settings() -> OutreachSettings:
    return OutreachSettings()


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    from_address: str
    from_name: str | None
    reply_to: str | None
    source: str  # "workspace" or "server"


def check_email(value: Any, field: str) -> str:
    text = str(value or "").strip()
    if len(text) > 320 or not EMAIL.match(text):
        raise InputError(f"not an e-mail address: {text[:80]!r}", field=field)
    return text


def _optional_text(raw: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = raw.get(key)
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if len(text) > limit or any(c in text for c in "\r\n\0"):
        raise InputError(f"at most {limit} characters on one line", field=key)
    return text


def _port(raw: Mapping[str, Any]) -> int:
    try:
        port = int(str(raw.get("port", 587)).strip())
    except ValueError:
        raise InputError("a port is a whole number", field="port") from None
    if not 1 <= port <= 65535:
        raise InputError("a port is from 1 to 65535", field="port")
    return port


def parse_smtp(raw: Mapping[str, Any], keep_password: str | None = None) -> dict[str, Any]:
    """A workspace's SMTP settings from a form or a request body, checked. ``password``
    absent or empty keeps ``keep_password`` (the stored one): forms never show it."""
    host = str(raw.get("host") or "").strip()
    if not HOST.match(host):
        raise InputError("a host name or address", field="host")
    security = str(raw.get("security") or "starttls").strip().lower()
    if security not in SECURITIES:
        raise InputError(f"one of {', '.join(SECURITIES)}", field="security")
    reply_to = raw.get("reply_to")
    password = raw.get("password")
    return {
        "host": host,
        "port": _port(raw),
        "security": security,
        "username": _optional_text(raw, "username", 320),
        "password": (str(password) if password else keep_password) or None,
        "from_address": check_email(raw.get("from_address"), "from_address"),
        "from_name": _optional_text(raw, "from_name", 200),
        "reply_to": check_email(reply_to, "reply_to") if reply_to else None,
    }


def _section(workspace: Workspace) -> dict[str, Any]:
    return dict((workspace.settings or {}).get(SETTINGS_KEY) or {})


def _save(session: Session, workspace: Workspace, section: dict[str, Any]) -> None:
    settings = dict(workspace.settings or {})
    settings[SETTINGS_KEY] = section
    workspace.settings = settings
    flag_modified(workspace, "settings")
    session.flush()


def set_smtp(session: Session, workspace: Workspace, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Store the workspace's own SMTP server; what callers may see of it."""
    section = _section(workspace)
    kept = (section.get("smtp") or {}).get("password")
    section["smtp"] = parse_smtp(raw, keep_password=kept)
    _save(session, workspace, section)
    return smtp_public(workspace)


def clear_smtp(session: Session, workspace: Workspace) -> dict[str, Any]:
    """Forget the workspace's own SMTP server (the server-wide default applies again)."""
    section = _section(workspace)
    section.pop("smtp", None)
    _save(session, workspace, section)
    return smtp_public(workspace)


def smtp_config(workspace: Workspace) -> SmtpConfig | None:
    """The SMTP server the workspace sends through: its own, else the server's, else None."""
    own = _section(workspace).get("smtp")
    if own:
        return SmtpConfig(**own, source="workspace")
    server = get_outreach_settings()
    if not server.smtp_host or not server.smtp_from:
        return None
    return SmtpConfig(
        host=server.smtp_host,
        port=server.smtp_port,
        security=server.smtp_security if server.smtp_security in SECURITIES else "starttls",
        username=server.smtp_username,
        password=server.smtp_password,
        from_address=server.smtp_from,
        from_name=None,
        reply_to=None,
        source="server",
    )


def smtp_public(workspace: Workspace) -> dict[str, Any]:
    """The SMTP settings as the API and the pages show them: never the password."""
    config = smtp_config(workspace)
    limit = daily_limit(workspace)
    imap = imap_config(workspace)
    mailbox = (
        {k: v for k, v in imap.__dict__.items() if k != "password"} if imap is not None else None
    )
    if config is None:
        return {"configured": False, "source": None, "daily_limit": limit, "imap": mailbox}
    shown = {k: v for k, v in config.__dict__.items() if k != "password"}
    if config.source == "server":
        shown["username"] = None
    return {
        **shown,
        "configured": True,
        "password_set": bool(config.password),
        "daily_limit": limit,
        "imap": mailbox,
    }


IMAP_SECURITIES = ("tls", "starttls", "none")


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    username: str
    password: str | None
    mailbox: str


def parse_imap(raw: Mapping[str, Any], keep_password: str | None = None) -> dict[str, Any]:
    """A workspace's IMAP mailbox (where replies arrive), checked; an empty password keeps
    the stored one."""
    host = str(raw.get("host") or "").strip()
    if not HOST.match(host):
        raise InputError("a host name or address", field="host")
    security = str(raw.get("security") or "tls").strip().lower()
    if security not in IMAP_SECURITIES:
        raise InputError(f"one of {', '.join(IMAP_SECURITIES)}", field="security")
    username = _optional_text(raw, "username", 320)
    if not username:
        raise InputError("the mailbox's user name", field="username")
    mailbox = _optional_text(raw, "mailbox", 200) or "INBOX"
    if any(c in mailbox for c in '"\\'):
        raise InputError("a mailbox name without quotes or backslashes", field="mailbox")
    password = raw.get("password")
    port = raw.get("port") or (993 if security == "tls" else 143)
    return {
        "host": host,
        "port": _port({"port": port}),
        "security": security,
        "username": username,
        "password": (str(password) if password else keep_password) or None,
        "mailbox": mailbox,
    }


def set_imap(session: Session, workspace: Workspace, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Store the mailbox replies are read from (outreach.imap); forget where reading was."""
    section = _section(workspace)
    kept = (section.get("imap") or {}).get("password")
    section["imap"] = parse_imap(raw, keep_password=kept)
    section.pop("imap_seen", None)
    _save(session, workspace, section)
    return smtp_public(workspace)


def clear_imap(session: Session, workspace: Workspace) -> dict[str, Any]:
    section = _section(workspace)
    section.pop("imap", None)
    section.pop("imap_seen", None)
    _save(session, workspace, section)
    return smtp_public(workspace)


def imap_config(workspace: Workspace) -> ImapConfig | None:
    own = _section(workspace).get("imap")
    return ImapConfig(**own) if own else None


def imap_seen(workspace: Workspace) -> tuple[int | None, int]:
    """(UIDVALIDITY, the last UID read) of the mailbox: where the next read starts."""
    seen = _section(workspace).get("imap_seen") or {}
    return seen.get("validity"), int(seen.get("uid") or 0)


def set_imap_seen(session: Session, workspace: Workspace, validity: int, uid: int) -> None:
    section = _section(workspace)
    section["imap_seen"] = {"validity": validity, "uid": uid}
    _save(session, workspace, section)


def daily_limit(workspace: Workspace) -> int:
    """Messages the workspace may send per UTC day."""
    own = _section(workspace).get("daily_limit")
    return int(own) if own else get_outreach_settings().outreach_daily_limit


def set_daily_limit(session: Session, workspace: Workspace, limit: Any) -> int:
    try:
        value = int(str(limit).strip())
    except ValueError:
        raise InputError("a whole number of messages per day", field="daily_limit") from None
    if not 1 <= value <= MAX_DAILY_LIMIT:
        raise InputError(f"from 1 to {MAX_DAILY_LIMIT} messages a day", field="daily_limit")
    section = _section(workspace)
    section["daily_limit"] = value
    _save(session, workspace, section)
    return value
