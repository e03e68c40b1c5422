"""account_text_changes: which accounts' text changed, and when, for the in-process keyword
index (discovery.term_index) to follow imports, edits and deletes.

One row per account (its latest change), stamped by the database's own triggers on
``accounts`` (insert, delete, a change of handle, display name or bio) and ``posts`` (insert,
delete, a change of caption, hashtags or account). A search reads the stamps at or after its
mark (``ix_account_text_changes_stamp``: one index range, usually empty) and re-reads just
those accounts (docs/discovery.md, "Index choices").

* SQLite: row triggers; the stamp is the workspace's largest stamp + 1 (writers are serialised,
  so stamps grow in commit order).
* PostgreSQL: statement triggers over transition tables (a ``COPY`` of a million posts is one
  set-based statement, as in revision 0030); the stamp is the writing transaction's id
  (``txid_current()``), and a reader's mark is the oldest transaction still running, so a
  transaction that commits late is still seen.

No foreign keys: a delete must leave its stamp (and deleting a workspace, which cascades to its
accounts, must not trip over its own stamps); a stamp of an account that no longer exists reads
as "no document".

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-27 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TABLE = "account_text_changes"
_SQLITE_STAMP = (
    "INSERT INTO account_text_changes (account_id, workspace_id, stamp) VALUES ({a}, {w}, "
    "(SELECT coalesce(max(stamp), 0) + 1 FROM account_text_changes WHERE workspace_id = {w})) "
    "ON CONFLICT (account_id) DO UPDATE SET stamp = excluded.stamp, "
    "workspace_id = excluded.workspace_id;"
)
_ACCOUNT_TEXT = ("handle", "display_name", "bio")
_POST_TEXT = ("caption", "hashtags", "account_id")


def _sqlite_triggers() -> dict[str, str]:
    def stamp(row: str, id_column: str) -> str:
        return _SQLITE_STAMP.format(a=f"{row}.{id_column}", w=f"{row}.workspace_id")

    account_changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _ACCOUNT_TEXT)
    post_changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _POST_TEXT)
    return {
        "accounts_text_ins": f"AFTER INSERT ON accounts BEGIN {stamp('new', 'id')} END",
        "accounts_text_upd": (
            f"AFTER UPDATE ON accounts WHEN {account_changed} BEGIN {stamp('new', 'id')} END"
        ),
        "accounts_text_del": f"AFTER DELETE ON accounts BEGIN {stamp('old', 'id')} END",
        "posts_text_ins": f"AFTER INSERT ON posts BEGIN {stamp('new', 'account_id')} END",
        "posts_text_upd": (
            f"AFTER UPDATE ON posts WHEN {post_changed} BEGIN "
            f"{stamp('old', 'account_id')} {stamp('new', 'account_id')} END"
        ),
        "posts_text_del": f"AFTER DELETE ON posts BEGIN {stamp('old', 'account_id')} END",
    }


_PG_STAMP = (
    "INSERT INTO account_text_changes (account_id, workspace_id, stamp) "
    "SELECT account_id, workspace_id, txid_current() FROM ({rows}) AS touched "
    "ON CONFLICT (account_id) DO UPDATE SET stamp = EXCLUDED.stamp, "
    "workspace_id = EXCLUDED.workspace_id"
)


def _distinct(
    pg: str, table: str = "changed", id_column: str = "account_id", where: str = ""
) -> str:
    return f"SELECT DISTINCT {pg}.{id_column} AS account_id, {pg}.workspace_id FROM {table} AS {pg} {where}"


def _pg_changed(columns: tuple[str, ...], cast: dict[str, str]) -> str:
    return " OR ".join(
        f"o.{c}{cast.get(c, '')} IS DISTINCT FROM n.{c}{cast.get(c, '')}" for c in columns
    )


def _pg_triggers() -> dict[str, tuple[str, str, str, str]]:
    """name: (table, event, transition tables, rows touched)."""
    account_changed = _pg_changed(_ACCOUNT_TEXT, {})
    post_changed = _pg_changed(_POST_TEXT, {"hashtags": "::text"})
    post_update = (
        "SELECT o.account_id, o.workspace_id FROM before AS o JOIN changed AS n ON n.id = o.id "
        f"WHERE {post_changed} UNION "
        "SELECT n.account_id, n.workspace_id FROM before AS o JOIN changed AS n ON n.id = o.id "
        f"WHERE {post_changed}"
    )
    return {
        "accounts_text_ins": (
            "accounts",
            "INSERT",
            "NEW TABLE AS changed",
            _distinct("a", id_column="id"),
        ),
        "accounts_text_upd": (
            "accounts",
            "UPDATE",
            "OLD TABLE AS before NEW TABLE AS changed",
            "SELECT n.id AS account_id, n.workspace_id FROM before AS o "
            f"JOIN changed AS n ON n.id = o.id WHERE {account_changed}",
        ),
        "accounts_text_del": (
            "accounts",
            "DELETE",
            "OLD TABLE AS changed",
            _distinct("a", id_column="id"),
        ),
        "posts_text_ins": ("posts", "INSERT", "NEW TABLE AS changed", _distinct("p")),
        "posts_text_upd": (
            "posts",
            "UPDATE",
            "OLD TABLE AS before NEW TABLE AS changed",
            post_update,
        ),
        "posts_text_del": ("posts", "DELETE", "OLD TABLE AS changed", _distinct("p")),
    }


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_text_changes"),
    )
    op.create_index("ix_account_text_changes_stamp", TABLE, ["workspace_id", "stamp"])
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")
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


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, (table, *_rest) in _pg_triggers().items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_account_text_changes_stamp", table_name=TABLE)
    op.drop_table(TABLE)
