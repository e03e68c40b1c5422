"""Search: shortlists, shortlist_entries and saved_searches; the keyword indexes over accounts (handle, name, bio) and posts (caption, hashtags),
kept current by the database itself, and account_quality (the Audience Quality Score stored for
filtering and ranking; discovery.tables).

* SQLite: two external-content FTS5 tables (``accounts_fts``, ``posts_fts``) over the rows of
  ``accounts`` and ``posts``, with the triggers the SQLite manual gives for external content
  (insert, delete, update), so every write path (imports, edits, the API) keeps them current;
  ``rebuild`` fills them from the rows already there.
* PostgreSQL: GIN expression indexes over ``to_tsvector('simple', …)`` of the same fields (the
  handle weighted A, the name B, the bio C); an expression index is current by construction.

* ``shortlists`` / ``shortlist_entries``: named lists of creators with a note per entry;
  ``saved_searches``: a search's parameters (JSON) under a name.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26 19:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# The expressions the queries repeat exactly (discovery.keyword), so the planner uses the index.
PG_ACCOUNT_TSV = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce(handle, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(display_name, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(bio, '')), 'C'))"
)
PG_POST_TSV = (
    "(to_tsvector('simple'::regconfig, coalesce(caption, '')) || "
    "to_tsvector('simple'::regconfig, coalesce(hashtags::text, '')))"
)

_SQLITE_FTS = {
    "accounts": ("accounts_fts", ("handle", "display_name", "bio")),
    "posts": ("posts_fts", ("caption", "hashtags")),
}


def _sqlite_up() -> None:
    for table, (fts, columns) in _SQLITE_FTS.items():
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} WHEN {changed} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_down() -> None:
    for fts, _columns in _SQLITE_FTS.values():
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _quality() -> None:
    op.create_table(
        "account_quality",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("aqs", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_account_quality_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_quality_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_quality"),
    )
    op.create_index("ix_account_quality_workspace_aqs", "account_quality", ["workspace_id", "aqs"])


def _workspace(table: str) -> list:
    return [
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=f"fk_{table}_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
    ]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def _lists() -> None:
    op.create_table(
        "shortlists",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("shortlists"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shortlists"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_shortlists_workspace_id"),
    )
    _index("shortlists", "workspace_id")
    op.create_table(
        "shortlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("shortlist_entries"),
        sa.Column("shortlist_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_by", sa.String(length=320), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        _fk("shortlist_entries", "shortlist_id", "shortlists", "CASCADE"),
        _fk("shortlist_entries", "creator_id", "creators", "CASCADE"),
        _fk("shortlist_entries", "account_id", "accounts", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_shortlist_entries"),
        sa.UniqueConstraint("shortlist_id", "creator_id", name="uq_shortlist_entries_shortlist_id"),
    )
    _index("shortlist_entries", "workspace_id", "shortlist_id", "creator_id")
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("saved_searches"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_searches"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_saved_searches_workspace_id"),
    )
    _index("saved_searches", "workspace_id")


def upgrade() -> None:
    _lists()
    _quality()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        op.execute(f"CREATE INDEX ix_accounts_search_tsv ON accounts USING gin ({PG_ACCOUNT_TSV})")
        op.execute(f"CREATE INDEX ix_posts_search_tsv ON posts USING gin ({PG_POST_TSV})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_down()
    else:
        op.execute("DROP INDEX IF EXISTS ix_posts_search_tsv")
        op.execute("DROP INDEX IF EXISTS ix_accounts_search_tsv")
    op.drop_index("ix_account_quality_workspace_aqs", table_name="account_quality")
    op.drop_table("account_quality")
    op.drop_table("saved_searches")
    op.drop_table("shortlist_entries")
    op.drop_table("shortlists")
