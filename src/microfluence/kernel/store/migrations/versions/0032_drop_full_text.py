"""Drop the full-text indexes search no longer reads; a deleted workspace takes its keyword
stamps with it.

* The keyword indexes of revision 0024 — on SQLite the external-content FTS5 tables
  ``accounts_fts`` and ``posts_fts`` with their ``_ai``/``_ad``/``_au`` triggers, on PostgreSQL
  the GIN expression indexes ``ix_accounts_search_tsv`` and ``ix_posts_search_tsv`` — are not
  read since keyword search scores with the in-process index (discovery.term_index, kept
  current by the stamps of revision 0031), yet every insert, update and delete of an account or
  a post still wrote them (docs/discovery.md, "Index choices"; the write cost measured in
  docs/benchmarks.md). Dropped.
* ``account_text_changes`` (0031) has no foreign key, on purpose: a deleted account keeps its
  stamp, which tells the term index to drop it. But nothing removed the stamps of a deleted
  *workspace*. A trigger after a delete of ``workspaces`` now removes them. It must run after
  the cascade to the workspace's accounts and posts, whose own triggers stamp them: on SQLite a
  row trigger does (SQLite runs a row's cascade before its AFTER triggers); on PostgreSQL the
  cascade's statement triggers are queued to the end of the outer statement, after any trigger
  of ``workspaces`` itself, so there it is a constraint trigger deferred to the commit. The
  stamps of workspaces already gone are removed here.

The downgrade makes the full-text indexes again exactly as 0024 did (its DDL copied below: a
migration stays as it ran) and fills them from the rows (FTS5 ``rebuild``).

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-27 03:15:00
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# -- 0024's full-text indexes, as 0024 made them ----------------------------------------------
PG_ACCOUNT_TSV = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce(handle, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(display_name, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(bio, '')), 'C'))"
)
PG_POST_TSV = (
    "(to_tsvector('simple'::regconfig, coalesce(caption, '')) || "
    "to_tsvector('simple'::regconfig, coalesce(hashtags::text, '')))"
)
PG_INDEXES = {
    "ix_accounts_search_tsv": ("accounts", PG_ACCOUNT_TSV),
    "ix_posts_search_tsv": ("posts", PG_POST_TSV),
}
SQLITE_FTS = {
    "accounts": ("accounts_fts", ("handle", "display_name", "bio")),
    "posts": ("posts_fts", ("caption", "hashtags")),
}
FTS_TRIGGERS = ("ai", "ad", "au")

# -- the stamps of a deleted workspace ---------------------------------------------------------
WORKSPACE_TRIGGER = "workspaces_text_del"
ORPHANS = "DELETE FROM account_text_changes WHERE workspace_id NOT IN (SELECT id FROM workspaces)"


def _sqlite_fts_up() -> None:
    """0024's ``_sqlite_up``, unchanged."""
    for table, (fts, columns) in SQLITE_FTS.items():
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


def _sqlite_fts_down() -> None:
    for fts, _columns in SQLITE_FTS.values():
        for suffix in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def upgrade() -> None:
    op.execute(ORPHANS)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_down()
        op.execute(
            f"CREATE TRIGGER {WORKSPACE_TRIGGER} AFTER DELETE ON workspaces BEGIN "
            "DELETE FROM account_text_changes WHERE workspace_id = old.id; END"
        )
        return
    for name in PG_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(
        f"CREATE FUNCTION {WORKSPACE_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM account_text_changes WHERE workspace_id = OLD.id; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE CONSTRAINT TRIGGER {WORKSPACE_TRIGGER} AFTER DELETE ON workspaces "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {WORKSPACE_TRIGGER}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {WORKSPACE_TRIGGER}")
        _sqlite_fts_up()
        return
    op.execute(f"DROP TRIGGER IF EXISTS {WORKSPACE_TRIGGER} ON workspaces")
    op.execute(f"DROP FUNCTION IF EXISTS {WORKSPACE_TRIGGER}()")
    for name, (table, tsv) in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({tsv})")
