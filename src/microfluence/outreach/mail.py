"""Building a message and handing it to an SMTP server (smtplib, the standard library).

Every message carries ``List-Unsubscribe`` (a mailto: address and the https one-click link)
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so mail clients offer
their own unsubscribe button, and the link itself in its body."""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from types import TracebackType

from microfluence.outreach.settings import SmtpConfig

TIMEOUT = 30.0


def build_message(  # noqa: PLR0913  the parts of one e-mail
    config: SmtpConfig,
    *,
    to: str,
    subject: str,
    body: str,
    unsubscribe_url: str,
    at: dt.datetime,
) -> EmailMessage:
    """One plain-text message, with its Message-ID and unsubscribe headers."""
    message = EmailMessage()
    message["From"] = formataddr((config.from_name or "", config.from_address))
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(at.replace(tzinfo=dt.UTC))
    domain = config.from_address.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    mailbox = config.reply_to or config.from_address
    message["List-Unsubscribe"] = f"<mailto:{mailbox}?subject=unsubscribe>, <{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    return message


def check_recipient(address: str) -> str:
    """The address as a header accepts it; ValueError otherwise."""
    local, _, domain = address.rpartition("@")
    Address(username=local, domain=domain)
    return address


class SmtpConnection:
    """One connection to the workspace's SMTP server, opened at the first message of a batch
    and closed at the end."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=TIMEOUT)
            if c.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if c.username:
            client.login(c.username, c.password or "")
        return client

    def connect(self) -> None:
        """Open the connection (and sign in); OSError or SMTPException when the server cannot
        be reached or refuses the sign-in."""
        if self.client is None:
            self.client = self._open()

    def send(self, message: EmailMessage) -> None:
        self.connect()
        assert self.client is not None
        self.client.send_message(message)

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()
            self.client = None


# Opens what sends a batch: the SMTP connection, or a test's own.
Transport = Callable[[SmtpConfig], SmtpConnection]
