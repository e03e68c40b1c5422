"""Sequences: ordered follow-ups (a template, and the days to wait after the previous message)
that deals are enrolled in; :func:`queue_due` (run by the ``outreach`` job, or ``microfluence
outreach run``) puts each due step's message in the outbox.

An enrollment stops — and sends nothing more — when the creator replies (a ``reply`` event on
the deal since it was enrolled, or the deal moved past ``contacted``), opts out (do-not-contact,
the unsubscribe link), when a message fails, or when every step was sent. A step falls due its
delay after the previous message actually went out (a message held by the daily limit holds
the sequence with it)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence as Seq
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store.tables import utcnow
from microfluence.outreach.composing import compose
from microfluence.outreach.sending import store_drafts
from microfluence.outreach.tables import (
    Enrollment,
    MessageTemplate,
    Sequence,
    SequenceStep,
)
from microfluence.outreach.template_records import find_template
from microfluence.outreach.unsubscribe import Links
from microfluence.relationships.contact import do_not_contact_ids
from microfluence.relationships.tables import DealEvent

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$")
MAX_STEPS = 20
MAX_DELAY = 365
STILL_WAITING = ("prospect", "contacted")  # past these, the creator has answered


def parse_steps(raw: Seq[Any]) -> list[tuple[str, int]]:
    """Steps as (template name or id, delay in days): from ``[{"template": …, "delay_days":
    …}]`` or ``["TEMPLATE:DAYS", …]`` (the command's form)."""
    if not raw:
        raise InputError("a sequence needs at least one step", field="steps")
    if len(raw) > MAX_STEPS:
        raise InputError(f"a sequence has at most {MAX_STEPS} steps", field="steps")
    steps = []
    for n, item in enumerate(raw, start=1):
        where = f"steps[{n}]"
        if isinstance(item, str):
            template, sep, days = item.rpartition(":")
            if not sep:
                template, days = item, "0"
        elif isinstance(item, dict):
            template, days = str(item.get("template", "")), item.get("delay_days", 0)
        else:
            raise InputError("a step is TEMPLATE:DAYS", field=where)
        try:
            delay = int(str(days).strip())
        except ValueError:
            raise InputError("the delay is a whole number of days", field=where) from None
        if not 0 <= delay <= MAX_DELAY:
            raise InputError(f"the delay is 0 to {MAX_DELAY} days", field=where)
        if not template.strip():
            raise InputError("a step names a template", field=where)
        steps.append((template.strip(), delay))
    return steps


def create_sequence(session: Session, workspace_id: int, name: str, steps: Seq[Any]) -> Sequence:
    """A new sequence of the workspace's templates; a name taken is a conflict."""
    name = str(name or "").strip()
    if not NAME.match(name):
        raise InputError(
            "a sequence name is 1-100 letters, digits, spaces, '_', '.' or '-'", field="name"
        )
    parsed = parse_steps(steps)
    templates = [find_template(session, workspace_id, ref) for ref, _ in parsed]
    sequence = Sequence(workspace_id=workspace_id, name=name)
    try:
        with session.begin_nested():
            session.add(sequence)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a sequence named {name!r} already exists") from exc
    session.add_all(
        SequenceStep(
            workspace_id=workspace_id,
            sequence_id=sequence.id,
            position=n,
            template_id=template.id,
            delay_days=delay,
        )
        for n, (template, (_ref, delay)) in enumerate(zip(templates, parsed, strict=True), 1)
    )
    session.flush()
    return sequence


def get_sequence(session: Session, workspace_id: int, reference: str | int) -> Sequence:
    """A sequence by id (digits) or name."""
    text = str(reference).strip()
    where = Sequence.id == int(text) if text.isdigit() else Sequence.name == text
    sequence = session.scalar(select(Sequence).where(Sequence.workspace_id == workspace_id, where))
    if sequence is None:
        raise NotFoundError(f"no sequence {text[:100]!r} in this workspace")
    return sequence


def list_sequences(session: Session, workspace_id: int) -> list[Sequence]:
    return list(
        session.scalars(
            select(Sequence).where(Sequence.workspace_id == workspace_id).order_by(Sequence.name)
        )
    )


def describe(session: Session, sequence: Sequence) -> dict[str, Any]:
    """A sequence with its steps and how many enrollments are in each status."""
    steps = session.execute(
        select(SequenceStep.position, SequenceStep.delay_days, MessageTemplate.name)
        .join(MessageTemplate, MessageTemplate.id == SequenceStep.template_id)
        .where(SequenceStep.sequence_id == sequence.id)
        .order_by(SequenceStep.position)
    ).all()
    counts: dict[str, int] = {}
    for status in session.scalars(
        select(Enrollment.status).where(Enrollment.sequence_id == sequence.id)
    ):
        counts[status] = counts.get(status, 0) + 1
    return {
        "id": sequence.id,
        "name": sequence.name,
        "created_at": sequence.created_at,
        "steps": [{"position": p, "template": t, "delay_days": d} for p, d, t in steps],
        "enrollments": counts,
    }


def delete_sequence(session: Session, workspace_id: int, reference: str | int) -> None:
    sequence = get_sequence(session, workspace_id, reference)
    session.execute(delete(SequenceStep).where(SequenceStep.sequence_id == sequence.id))
    session.delete(sequence)
    session.flush()


def enroll(
    session: Session,
    workspace_id: int,
    sequence_ref: str | int,
    deal_ids: Seq[int],
    *,
    now: dt.datetime | None = None,
) -> list[int]:
    """Enroll deals of the workspace (all or none: an unknown deal refuses them all); the ids
    of the new enrollments (a deal already enrolled in this sequence is left as it is). The
    first step falls due its delay after ``now``."""
    sequence = get_sequence(session, workspace_id, sequence_ref)
    wanted = sorted(set(deal_ids))
    found = set(
        session.scalars(
            select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.id.in_(wanted))
        )
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFoundError(f"no deal with id {missing[0]} in this workspace")
    first = session.scalar(
        select(SequenceStep.delay_days).where(
            SequenceStep.sequence_id == sequence.id, SequenceStep.position == 1
        )
    )
    when = now or utcnow()
    already = set(
        session.scalars(
            select(Enrollment.deal_id).where(
                Enrollment.sequence_id == sequence.id, Enrollment.deal_id.in_(wanted)
            )
        )
    )
    made = [
        Enrollment(
            workspace_id=workspace_id,
            sequence_id=sequence.id,
            deal_id=deal_id,
            next_position=1,
            due_at=when + dt.timedelta(days=first or 0),
            status="active",
            enrolled_at=when,
        )
        for deal_id in wanted
        if deal_id not in already
    ]
    session.add_all(made)
    session.flush()
    return [e.id for e in made]


def list_enrollments(
    session: Session, workspace_id: int, sequence_ref: str | int
) -> list[Enrollment]:
    sequence = get_sequence(session, workspace_id, sequence_ref)
    return list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.workspace_id == workspace_id, Enrollment.sequence_id == sequence.id)
            .order_by(Enrollment.id)
        )
    )


def _stop(session: Session, ids: Seq[int], status: str, reason: str) -> None:
    if ids:
        session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(list(ids)), Enrollment.status == "active")
            .values(status=status, stopped_reason=reason[:200], due_at=None)
            .execution_options(synchronize_session=False)
        )


def _due(session: Session, workspace_id: int, now: dt.datetime) -> list[Any]:
    return list(
        session.execute(
            select(
                Enrollment.id,
                Enrollment.deal_id,
                Enrollment.sequence_id,
                Enrollment.next_position,
                Enrollment.enrolled_at,
                Deal.creator_id,
                Deal.stage,
            )
            .join(Deal, Deal.id == Enrollment.deal_id)
            .where(
                Enrollment.workspace_id == workspace_id,
                Enrollment.status == "active",
                Enrollment.due_at.is_not(None),
                Enrollment.due_at <= now,
            )
            .order_by(Enrollment.due_at, Enrollment.id)
            .with_for_update(of=Enrollment, skip_locked=True)
        ).all()
    )


def _replied(session: Session, workspace_id: int, due: list[Any]) -> set[int]:
    """The enrollments whose deal has a reply recorded since it was enrolled."""
    ids = session.execute(
        select(Enrollment.id)
        .join(
            DealEvent,
            and_(
                DealEvent.deal_id == Enrollment.deal_id,
                DealEvent.workspace_id == workspace_id,
                DealEvent.kind == "reply",
                DealEvent.at >= Enrollment.enrolled_at,
            ),
        )
        .where(Enrollment.id.in_([row.id for row in due]))
    ).scalars()
    return set(ids)


def queue_due(
    session: Session, workspace_id: int, links: Links, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Put the message of every due step in the outbox; stop the enrollments whose creator
    replied or opted out. Counts of what happened."""
    when = now or utcnow()
    due = _due(session, workspace_id, when)
    blocked = do_not_contact_ids(session, workspace_id)
    replied = _replied(session, workspace_id, due)
    opted = [row.id for row in due if row.creator_id in blocked]
    answered = [
        row.id
        for row in due
        if row.id not in opted and (row.id in replied or row.stage not in STILL_WAITING)
    ]
    _stop(session, opted, "opted_out", "the creator is do-not-contact")
    _stop(session, answered, "replied", "the creator replied")
    going = [row for row in due if row.id not in set(opted) | set(answered)]
    steps = {
        (s.sequence_id, s.position): s
        for s in session.scalars(
            select(SequenceStep).where(
                SequenceStep.sequence_id.in_({row.sequence_id for row in going})
            )
        )
    }
    queued = 0
    for (sequence_id, position), rows in _by_step(going).items():
        step = steps.get((sequence_id, position))
        if step is None:
            _stop(session, [r.id for r in rows], "finished", "every step was sent")
            continue
        template = session.get_one(MessageTemplate, step.template_id)
        drafts = compose(session, workspace_id, template, [r.deal_id for r in rows], links)
        enrolled = {r.deal_id: r.id for r in rows}
        store_drafts(session, workspace_id, template, drafts, actor=None, enrollment_ids=enrolled)
        session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(list(enrolled.values())))
            .values(next_position=position + 1, due_at=None)
            .execution_options(synchronize_session=False)
        )
        _stop_skipped(session, drafts, enrolled)
        queued += sum(1 for d in drafts if d.skip_reason is None)
    return {"due": len(due), "queued": queued, "replied": len(answered), "opted_out": len(opted)}


def _by_step(rows: list[Any]) -> dict[tuple[int, int], list[Any]]:
    groups: dict[tuple[int, int], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.sequence_id, row.next_position), []).append(row)
    return groups


def _stop_skipped(session: Session, drafts: Seq[Any], enrolled: dict[int, int]) -> None:
    """A step skipped (no address, do-not-contact) ends the enrollment with that reason."""
    for reason in {d.skip_reason for d in drafts if d.skip_reason}:
        ids = [enrolled[d.deal_id] for d in drafts if d.skip_reason == reason]
        status = "opted_out" if "do-not-contact" in reason else "finished"
        _stop(session, ids, status, reason)


def stop_for_deals(session: Session, workspace_id: int, deal_ids: Seq[int], reason: str) -> int:
    """End the active enrollments of these deals as replied."""
    return session.execute(
        update(Enrollment)
        .where(
            Enrollment.workspace_id == workspace_id,
            Enrollment.status == "active",
            Enrollment.deal_id.in_(list(deal_ids)),
        )
        .values(status="replied", stopped_reason=reason[:200], due_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
