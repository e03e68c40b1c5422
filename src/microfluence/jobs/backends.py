"""Where the durable queue keeps its messages: a SQLite file, or a PostgreSQL database.

Both are huey's own storages (https://huey.readthedocs.io/en/latest/contrib.html):

* ``sqlite:///PATH`` — ``SqliteHuey``: one file, no server; every app process and worker must
  see the file (one machine, or a volume with working locks).
* ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]`` — ``SqlHuey`` over peewee's
  psycopg 3 driver: workers on any machine that reaches the database. A worker takes a message
  with ``SELECT … FOR UPDATE SKIP LOCKED``, so any number of them share the queue without
  handing one message to two. The queue's four tables live in a schema of their own
  (``microfluence_queue`` unless ``?schema=`` says otherwise), made if missing, so the store's
  own database can hold them beside the store's tables without mixing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from huey import Huey, SqliteHuey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from microfluence.kernel.errors import InputError

HUEY_NAME = "microfluence"
DEFAULT_SCHEMA = "microfluence_queue"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
SUPPORTED = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def shown_url(url: str) -> str:
    """``url`` fit to print or log: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1] if "@" in url else url


def _unsupported(url: str, why: str) -> InputError:
    return InputError(
        f"MICROFLUENCE_JOB_QUEUE {shown_url(url)!r} {why}: use {SUPPORTED}", field="job_queue"
    )


def queue_path(url: str) -> Path:
    """The queue file of ``sqlite:///PATH``; InputError for anything else."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise _unsupported(url, "is not supported")
    return Path(url[len(prefix) :])


def open_huey(url: str) -> Huey:
    """The huey instance of the queue at ``url`` (its storage made if missing)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in POSTGRES_SCHEMES:
        return _postgres_huey(url)
    path = queue_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name=HUEY_NAME, filename=str(path), results=False, utc=True)


def _postgres_huey(url: str) -> Huey:
    from huey.contrib.sql_huey import SqlHuey
    from playhouse.psycopg3_ext import Psycopg3Database

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise _unsupported(url, "is not a database URL") from exc
    if not parsed.database:
        raise _unsupported(url, "names no database")
    query = dict(parsed.query)
    schema = str(query.pop("schema", DEFAULT_SCHEMA))
    if not _SCHEMA_NAME.fullmatch(schema):
        raise _unsupported(url, f"has a schema name {schema!r} that is not a plain identifier")
    settings = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        **query,  # sslmode and the like, passed to psycopg
    }
    database = Psycopg3Database(
        parsed.database,
        options=f"-c search_path={schema}",
        **{k: v for k, v in settings.items() if v is not None},
    )
    huey = SqlHuey(name=HUEY_NAME, database=database, results=False, utc=True, create_tables=False)
    from peewee import OperationalError

    try:
        with database:  # the schema first: the tables are made in it
            _made_once(lambda: database.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            _made_once(huey.storage.create_tables)
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"the job queue {shown_url(url)} cannot be reached: {first_line}", field="job_queue"
        ) from exc
    return huey


def _made_once(make: Callable[[], object]) -> None:
    """Run a ``CREATE … IF NOT EXISTS``: PostgreSQL may refuse the second of two processes
    that make the same thing at once (a unique violation in its catalog); it exists then."""
    from peewee import IntegrityError

    try:
        make()
    except IntegrityError:
        make()
