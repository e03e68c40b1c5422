"""What the faces send and get back: request bodies and public views of outreach records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

DealId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="Unique in the workspace.")
    subject: str = Field(max_length=300, description="A template too: {{ first_name }}, …")
    body: str = Field(max_length=20_000, description="Plain text with {{ fields }}.")


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=20_000)


class TemplatePublic(BaseModel):
    id: int
    name: str
    kind: str
    subject: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime


class DraftPreview(BaseModel):
    """A template (saved or being edited) and a deal to show it for."""

    model_config = ConfigDict(extra="forbid")

    deal_id: int = Field(ge=1, le=2**31 - 1)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=20_000)


class Preview(BaseModel):
    deal_id: int
    creator_id: int
    to: str | None
    subject: str
    body: str
    skip_reason: str | None = Field(description="Why this creator would be skipped, if so.")
    outcome: Literal["sent", "queued", "skipped", "failed", "sending"] | None = Field(
        default=None,
        description="What became of the message (a dry run: what would): sent, queued (over "
        "the day's limit or no SMTP server: a later run sends it), skipped, failed.",
    )
    reason: str | None = Field(
        default=None, description="Why it was skipped, is still queued, or failed."
    )


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=100, description="Template name or id.")
    campaign_id: int = Field(ge=1, le=2**31 - 1)
    creators: list[Annotated[str, Field(max_length=300)]] = Field(
        default=[],
        max_length=1000,
        description="PLATFORM:HANDLE of the creators to write to; none: every deal.",
    )
    stage: str | None = Field(
        default=None,
        max_length=20,
        description="Only the deals at this stage (prospect, contacted, …); ignored when "
        "creators are named.",
    )
    dry_run: bool = Field(default=False, description="Render and report; store nothing.")


class Delivery(BaseModel):
    sent: int
    failed: int
    skipped: int
    deferred: int = Field(description="Still queued: the day's limit, or the server, held them.")
    error: str | None


class SendResult(BaseModel):
    dry_run: bool
    queued: int
    skipped: int
    messages: list[Preview]
    delivery: Delivery | None


class MessagePublic(BaseModel):
    id: int
    creator_id: int
    creator: str | None
    deal_id: int | None
    template: str | None
    to: str | None
    subject: str
    body: str
    status: Literal["queued", "sending", "sent", "failed", "skipped"]
    error: str | None
    message_id: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    sequence_enrollment_id: int | None


class MessagePage(BaseModel):
    data: list[MessagePublic]
    count: int


class RepliedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deal_ids: list[DealId] = Field(min_length=1, max_length=1000)
    note: str | None = Field(default=None, max_length=2000)


class RepliedResult(BaseModel):
    deal_ids: list[int]
    moved: list[int] = Field(description="The deals moved from contacted to replied.")
    stopped_enrollments: int


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(
        default=None, max_length=500, description="Write-only; empty keeps the stored one."
    )
    from_address: str = Field(max_length=320)
    from_name: str | None = Field(default=None, max_length=200)
    reply_to: str | None = Field(default=None, max_length=320)


class ImapSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535, description="Default 993 (tls), 143.")
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str = Field(max_length=320)
    password: str | None = Field(
        default=None, max_length=500, description="Write-only; empty keeps the stored one."
    )
    mailbox: str = Field(default="INBOX", max_length=200)


class ImapPublic(BaseModel):
    host: str
    port: int
    security: str
    username: str
    mailbox: str


class OutreachSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    smtp: SmtpSettings | None = Field(default=None, description="The workspace's own server.")
    clear_smtp: bool = Field(default=False, description="Forget it: the server-wide default.")
    daily_limit: int | None = Field(default=None, ge=1, le=100_000)
    imap: ImapSettings | None = Field(
        default=None, description="The mailbox replies are read from."
    )
    clear_imap: bool = Field(default=False, description="Stop reading replies from a mailbox.")


class OutreachSettingsPublic(BaseModel):
    configured: bool
    source: Literal["workspace", "server"] | None
    host: str | None = None
    port: int | None = None
    security: str | None = None
    username: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    password_set: bool = False
    daily_limit: int
    sent_today: int = 0
    imap: ImapPublic | None = None


class SequenceStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=100, description="Template name or id.")
    delay_days: int = Field(ge=0, le=365, description="Days after the previous message.")


class SequenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    steps: list[SequenceStepIn] = Field(min_length=1, max_length=20)


class SequenceStepPublic(BaseModel):
    position: int
    template: str
    delay_days: int


class SequencePublic(BaseModel):
    id: int
    name: str
    created_at: dt.datetime
    steps: list[SequenceStepPublic]
    enrollments: dict[str, int]


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deal_ids: list[DealId] = Field(min_length=1, max_length=1000)


class EnrollmentPublic(BaseModel):
    id: int
    deal_id: int
    status: str
    next_position: int
    due_at: dt.datetime | None
    stopped_reason: str | None
    enrolled_at: dt.datetime
    last_sent_at: dt.datetime | None


class RunResult(BaseModel):
    replies: dict[str, bool | int | str] = Field(
        description="Replies read from the IMAP mailbox, when one is set (or why not)."
    )
    sequences: dict[str, int]
    delivery: Delivery
