"""account_search_changes: which accounts' search values changed, and when, for the in-process
search columns (discovery.columns) to follow imports, edits, scoring and deletes.

The same scheme as ``account_text_changes`` (revision 0031), one row per account (its latest
change), stamped by triggers on the three tables the columns read:

* ``account_search`` itself (revision 0030), which the database keeps current from
  ``accounts``, ``creators``, ``account_metrics``, ``account_quality`` and ``posts``: whatever
  changes one of those filters' or the ranking's values changes that row, so one place catches
  every source;
* ``account_tiers`` (a tier under a scheme) and ``account_niches`` (an account's niches, the
  model's and the hand corrections).

An update that changes no value read stamps nothing (a re-score with the same values; a
metrics run that only moves a tier row to its new run).

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


# table: (its key, the values the columns read)
SOURCES = {
    "account_search": ("account_id", VALUES),
    "account_tiers": ("id", ("account_id", "workspace_id", "scheme", "tier")),
    "account_niches": ("id", ("account_id", "workspace_id", "niche", "confidence", "source")),
}


def _sqlite_triggers() -> dict[str, str]:
    def stamp(row: str) -> str:
        return _SQLITE_STAMP.format(a=f"{row}.account_id", w=f"{row}.workspace_id")

    out = {}
    for table, (_key, values) in SOURCES.items():
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in values)
        both = stamp("new") if table == "account_search" else f"{stamp('old')} {stamp('new')}"
        out[f"{table}_changes_ins"] = f"AFTER INSERT ON {table} BEGIN {stamp('new')} END"
        out[f"{table}_changes_upd"] = f"AFTER UPDATE ON {table} WHEN {changed} BEGIN {both} END"
        out[f"{table}_changes_del"] = f"AFTER DELETE ON {table} BEGIN {stamp('old')} END"
    return out


def _pg_triggers() -> dict[str, tuple[str, str, str, str]]:
    """name: (table, event, transition tables, rows touched)."""
    every = "SELECT account_id, workspace_id FROM changed"
    out = {}
    for table, (key, values) in SOURCES.items():
        changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in values)
        pairs = f"FROM before AS o JOIN changed AS n ON n.{key} = o.{key} WHERE {changed}"
        out[f"{table}_changes_ins"] = (table, "INSERT", "NEW TABLE AS changed", every)
        out[f"{table}_changes_upd"] = (
            table,
            "UPDATE",
            "OLD TABLE AS before NEW TABLE AS changed",
            f"SELECT n.account_id, n.workspace_id {pairs} "
            f"UNION SELECT o.account_id, o.workspace_id {pairs}",
        )
        out[f"{table}_changes_del"] = (table, "DELETE", "OLD TABLE AS changed", every)
    return out


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
    for name, (table, event, transitions, rows) in _pg_triggers().items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_PG_STAMP.format(rows=rows)}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
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
        for name, (table, *_rest) in _pg_triggers().items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute(f"DROP TRIGGER IF EXISTS {WORKSPACE_TRIGGER} ON workspaces")
        op.execute(f"DROP FUNCTION IF EXISTS {WORKSPACE_TRIGGER}()")
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
