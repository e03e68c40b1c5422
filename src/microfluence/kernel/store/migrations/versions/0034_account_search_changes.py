"""account_search_changes: which accounts' search rows changed, and when, for the in-process
search columns (discovery.columns) to follow imports, edits, scoring and deletes.

The same scheme as ``account_text_changes`` (revision 0031), one row per account (its latest
change), but stamped by triggers on ``account_search`` itself (revision 0030), which the
database keeps current from ``accounts``, ``creators``, ``account_metrics``,
``account_quality`` and ``posts``: whatever changes a filter's or the ranking's value changes
that row, so one place catches every source. An update that changes no column stamps nothing
(a re-score with the same values).

* SQLite: row triggers; the stamp is the workspace's largest stamp + 1 (writers are serialised,
  so stamps grow in commit order).
* PostgreSQL: statement triggers over transition tables (a ``COPY`` of a million accounts is one
  set-based statement); the stamp is the writing transaction's id (``txid_current()``), and a
  reader's mark is the oldest transaction still running, so a transaction that commits late is
  still seen.

No foreign keys, as in 0031: a deleted account keeps its stamp (the columns drop it); a deleted
workspace's stamps are removed by a trigger on ``workspaces`` that runs after the cascade (on
PostgreSQL a constraint trigger deferred to the commit, as in revision 0032).

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-27 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TABLE = "account_search_changes"
INDEX = "ix_account_search_changes_stamp"
WORKSPACE_TRIGGER = "workspaces_search_changes_del"
# account_search's columns but its key (revision 0030)
VALUES = (
    "workspace_id",
    "platform",
    "followers",
    "country",
    "creator_country",
    "language",
    "creator_language",
    "has_email",
    "er",
    "er_percentile",
    "aqs",
    "last_post_at",
)
_SQLITE_STAMP = (
    "INSERT INTO account_search_changes (account_id, workspace_id, stamp) VALUES ({a}, {w}, "
    "(SELECT coalesce(max(stamp), 0) + 1 FROM account_search_changes WHERE workspace_id = {w})) "
    "ON CONFLICT (account_id) DO UPDATE SET stamp = excluded.stamp, "
    "workspace_id = excluded.workspace_id;"
)
_PG_STAMP = (
    "INSERT INTO account_search_changes (account_id, workspace_id, stamp) "
    "SELECT DISTINCT account_id, workspace_id, txid_current() FROM ({rows}) AS touched "
    "ON CONFLICT (account_id) DO UPDATE SET stamp = EXCLUDED.stamp, "
    "workspace_id = EXCLUDED.workspace_id"
)


def _sqlite_triggers() -> dict[str, str]:
    def stamp(row: str) -> str:
        return _SQLITE_STAMP.format(a=f"{row}.account_id", w=f"{row}.workspace_id")

    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in VALUES)
    return {
        "account_search_changes_ins": f"AFTER INSERT ON account_search BEGIN {stamp('new')} END",
        "account_search_changes_upd": (
            f"AFTER UPDATE ON account_search WHEN {changed} BEGIN {stamp('new')} END"
        ),
        "account_search_changes_del": f"AFTER DELETE ON account_search BEGIN {stamp('old')} END",
    }


def _pg_triggers() -> dict[str, tuple[str, str, str]]:
    """name: (event, transition tables, rows touched)."""
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in VALUES)
    every = "SELECT account_id, workspace_id FROM changed"
    return {
        "account_search_changes_ins": ("INSERT", "NEW TABLE AS changed", every),
        "account_search_changes_upd": (
            "UPDATE",
            "OLD TABLE AS before NEW TABLE AS changed",
            "SELECT n.account_id, n.workspace_id FROM before AS o "
            f"JOIN changed AS n ON n.account_id = o.account_id WHERE {changed}",
        ),
        "account_search_changes_del": ("DELETE", "OLD TABLE AS changed", every),
    }


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_search_changes"),
    )
    op.create_index(INDEX, TABLE, ["workspace_id", "stamp"])
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute(
            f"CREATE TRIGGER {WORKSPACE_TRIGGER} AFTER DELETE ON workspaces BEGIN "
            f"DELETE FROM {TABLE} WHERE workspace_id = old.id; END"
        )
        return
    for name, (event, transitions, rows) in _pg_triggers().items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_PG_STAMP.format(rows=rows)}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON account_search REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(
        f"CREATE FUNCTION {WORKSPACE_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"DELETE FROM {TABLE} WHERE workspace_id = OLD.id; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE CONSTRAINT TRIGGER {WORKSPACE_TRIGGER} AFTER DELETE ON workspaces "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {WORKSPACE_TRIGGER}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in [*_sqlite_triggers(), WORKSPACE_TRIGGER]:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in _pg_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON account_search")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute(f"DROP TRIGGER IF EXISTS {WORKSPACE_TRIGGER} ON workspaces")
        op.execute(f"DROP FUNCTION IF EXISTS {WORKSPACE_TRIGGER}()")
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
