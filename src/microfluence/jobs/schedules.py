"""Per-workspace schedules: a job kind (``score``, ``outreach``) run whenever a cron
expression matches.

The expression is the usual five fields, minute hour day month day-of-week (``0 3 * * *``:
every day at 03:00 UTC), read by huey's own parser (jobs.cron). The workers' scheduler calls
:func:`fire_due` every minute; a schedule fires at most once per matching minute however many
workers call it (a conditional update of ``last_fired_at`` decides which one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microfluence.jobs.cron import check_cron, describe_cron, next_run, parse_cron
from microfluence.jobs.kinds import registered, registered_kinds
from microfluence.jobs.outreach import OUTREACH, create_outreach_job
from microfluence.jobs.schemas import SchedulePublic
from microfluence.jobs.scoring import SCORE, create_score_job
from microfluence.jobs.tables import JobSchedule
from microfluence.kernel.errors import ConflictError, InputError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import utcnow

KINDS = (SCORE, OUTREACH)


def schedulable_kinds() -> tuple[str, ...]:
    """The kinds a schedule can run: score, outreach and the registered ones (jobs.kinds)."""
    return (*KINDS, *registered_kinds())


def add_schedule(session: Session, workspace_id: int, kind: str, cron: str) -> JobSchedule:
    """Schedule ``kind`` for the workspace on ``cron``; the same one twice is a conflict."""
    if kind not in schedulable_kinds():
        raise InputError(
            f"unknown job kind {kind!r}: use one of {', '.join(schedulable_kinds())}", field="kind"
        )
    cron = check_cron(cron)
    schedule = JobSchedule(workspace_id=workspace_id, kind=kind, cron=cron)
    try:
        with session.begin_nested():
            session.add(schedule)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"{kind} is already scheduled on {cron!r}") from exc
    return schedule


def list_schedules(session: Session, workspace_id: int) -> list[JobSchedule]:
    return list(
        session.scalars(
            select(JobSchedule)
            .where(JobSchedule.workspace_id == workspace_id)
            .order_by(JobSchedule.id)
        )
    )


def describe_schedule(schedule: JobSchedule, now: dt.datetime | None = None) -> SchedulePublic:
    """A schedule as callers see it: its cron in words when simple, and its next run after
    ``now`` (naive UTC; default: the current time)."""
    try:
        upcoming = next_run(schedule.cron, now or utcnow())
    except InputError:
        upcoming = None  # stored before a stricter parser: never fires (fire_due)
    return SchedulePublic(
        id=schedule.id,
        kind=schedule.kind,
        cron=schedule.cron,
        description=describe_cron(schedule.cron),
        next_run_at=upcoming,
        last_fired_at=schedule.last_fired_at,
        created_at=schedule.created_at,
    )


def remove_schedule(session: Session, workspace_id: int, schedule_id: int) -> None:
    """Remove a schedule of the workspace; another workspace's is not found."""
    schedule = session.scalar(
        select(JobSchedule).where(
            JobSchedule.id == schedule_id, JobSchedule.workspace_id == workspace_id
        )
    )
    if schedule is None:
        raise NotFoundError(f"no schedule {schedule_id}")
    session.delete(schedule)


def fire_due(
    store: Store, enqueue: Callable[[str], None], now: dt.datetime | None = None
) -> list[str]:
    """Start the jobs of every schedule whose cron matches the minute of ``now`` (naive UTC;
    default: the current time) and that has not fired in that minute: the ids of the jobs
    made, each handed to ``enqueue`` once its row is committed."""
    minute = (now or utcnow()).replace(second=0, microsecond=0, tzinfo=None)
    with store.session() as session:
        schedules = [
            (s.id, s.workspace_id, s.kind, s.cron) for s in session.scalars(select(JobSchedule))
        ]
    made = []
    for schedule_id, workspace_id, kind, cron in schedules:
        try:
            due = parse_cron(cron)(minute)
        except InputError:
            continue  # stored before a stricter parser: never fires, listed as it is
        if not due:
            continue
        with store.transaction() as session:
            claimed = session.execute(
                update(JobSchedule)
                .where(
                    JobSchedule.id == schedule_id,
                    or_(JobSchedule.last_fired_at.is_(None), JobSchedule.last_fired_at < minute),
                )
                .values(last_fired_at=minute)
            ).rowcount
            if not claimed:
                continue  # fired this minute already (another worker)
            if kind == SCORE:
                job = create_score_job(session, workspace_id, source=f"schedule {schedule_id}")
            elif kind == OUTREACH:
                job = create_outreach_job(session, workspace_id, source=f"schedule {schedule_id}")
            elif (extra := registered(kind)) is not None:
                job = extra.create(session, workspace_id, f"schedule {schedule_id}")
            else:  # a kind no module of this process registered: left for a worker that has it
                session.rollback()
                continue
            job_id = job.id
        enqueue(job_id)
        made.append(job_id)
    return made
