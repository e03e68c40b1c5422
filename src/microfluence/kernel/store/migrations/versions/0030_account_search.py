"""Search rows: ``account_search``, one row per account with every value the search's filters
and its ranking read (discovery.search_rows), kept current by the database itself.

Before this, a search seeked into ``creators``, ``account_metrics``, ``account_quality`` and
``posts`` for every account of the follower range: 0.8 s at 100,000 accounts. One narrow row per
account under composite indexes makes the filters one index range (docs/discovery.md, "Index
choices").

* SQLite: row triggers. An insert or a change of an account writes its row whole (one seek per
  source table); a change of a creator rewrites its accounts' rows; a metric (``er_median``,
  ``cohort_percentile``), a quality score or a post changes just its column. Deleting an
  account deletes its row (foreign key, cascade).
* PostgreSQL: the same, as statement triggers over transition tables, so a ``COPY`` of a
  million rows costs one set-based statement, not a million function calls.

Country and language are stored lower case (``lower()``, which folds what SQLite's ``NOCASE``
folds), so an equality on the index is the filters' case-blind comparison.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-26 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = (
    "account_id, workspace_id, platform, followers, country, creator_country, language, "
    "creator_language, has_email, er, er_percentile, aqs, last_post_at"
)
# The whole row of the accounts ``a`` (joined to their creators ``c``).
ROW = """
SELECT a.id, a.workspace_id, a.platform, a.followers,
       lower(a.country), lower(c.country), lower(a.language), lower(c.language),
       coalesce(length(coalesce(nullif(trim(a.email), ''), trim(c.email))), 0) > 0,
       (SELECT m.value FROM account_metrics AS m
         WHERE m.account_id = a.id AND m.metric = 'er_median'),
       (SELECT m.value FROM account_metrics AS m
         WHERE m.account_id = a.id AND m.metric = 'cohort_percentile'),
       (SELECT q.aqs FROM account_quality AS q WHERE q.account_id = a.id),
       (SELECT max(p.posted_at) FROM posts AS p
         WHERE p.workspace_id = a.workspace_id AND p.account_id = a.id)
FROM {accounts} AS a JOIN {creators} AS c ON c.id = a.creator_id
"""
SET_METRICS = """
er = (SELECT m.value FROM account_metrics AS m
      WHERE m.account_id = account_search.account_id AND m.metric = 'er_median'),
er_percentile = (SELECT m.value FROM account_metrics AS m
      WHERE m.account_id = account_search.account_id AND m.metric = 'cohort_percentile')
"""
SET_AQS = (
    "aqs = (SELECT q.aqs FROM account_quality AS q WHERE q.account_id = account_search.account_id)"
)
SET_LAST_POST = (
    "last_post_at = (SELECT max(p.posted_at) FROM posts AS p "
    "WHERE p.workspace_id = account_search.workspace_id "
    "AND p.account_id = account_search.account_id)"
)
SEARCH_METRICS = "('er_median', 'cohort_percentile')"
ACCOUNT_COLUMNS = "workspace_id, creator_id, platform, followers, country, language, email"
CREATOR_COLUMNS = ("country", "language", "email")


def _table() -> None:
    op.create_table(
        "account_search",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("country", sa.String(length=80), nullable=True),
        sa.Column("creator_country", sa.String(length=80), nullable=True),
        sa.Column("language", sa.String(length=40), nullable=True),
        sa.Column("creator_language", sa.String(length=40), nullable=True),
        sa.Column("has_email", sa.Boolean(), nullable=False),
        sa.Column("er", sa.Float(), nullable=True),
        sa.Column("er_percentile", sa.Float(), nullable=True),
        sa.Column("aqs", sa.Float(), nullable=True),
        sa.Column("last_post_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_search_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_account_search_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_search"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "account_search", list(columns))


# Covering: a filter's range and what the ranking reads, from the index alone.
COVER = ("platform", "er", "er_percentile", "aqs")
INDEXES = {
    "ix_account_search_country": ("workspace_id", "country", "followers", *COVER),
    "ix_account_search_creator_country": ("workspace_id", "creator_country", "followers", *COVER),
    "ix_account_search_followers": ("workspace_id", "followers", *COVER),
    "ix_account_search_er": ("workspace_id", "er"),
    "ix_account_search_last_post": ("workspace_id", "last_post_at"),
}


def _sqlite_statements() -> dict[str, str]:
    upsert = f"INSERT OR REPLACE INTO account_search ({COLUMNS}) " + ROW.format(
        accounts="accounts", creators="creators"
    )
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in ACCOUNT_COLUMNS.split(", "))
    creator_changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in CREATOR_COLUMNS)
    statements = {
        "accounts_search_ai": f"AFTER INSERT ON accounts BEGIN {upsert} WHERE a.id = new.id; END",
        "accounts_search_au": (
            f"AFTER UPDATE ON accounts WHEN {changed} BEGIN {upsert} WHERE a.id = new.id; END"
        ),
        "creators_search_au": (
            f"AFTER UPDATE ON creators WHEN {creator_changed} BEGIN "
            f"{upsert} WHERE a.creator_id = new.id; END"
        ),
    }
    for event, row in (("INSERT", "new"), ("DELETE", "old")):
        statements[f"account_metrics_search_{event[:3].lower()}"] = (
            f"AFTER {event} ON account_metrics WHEN {row}.metric IN {SEARCH_METRICS} BEGIN "
            f"UPDATE account_search SET {SET_METRICS} "
            f"WHERE account_id = {row}.account_id; END"
        )
        statements[f"account_quality_search_{event[:3].lower()}"] = (
            f"AFTER {event} ON account_quality BEGIN UPDATE account_search SET {SET_AQS} "
            f"WHERE account_id = {row}.account_id; END"
        )
    statements["account_metrics_search_upd"] = (
        f"AFTER UPDATE ON account_metrics WHEN old.metric IN {SEARCH_METRICS} "
        f"OR new.metric IN {SEARCH_METRICS} BEGIN "
        f"UPDATE account_search SET {SET_METRICS} "
        "WHERE account_id IN (old.account_id, new.account_id); END"
    )
    statements["account_quality_search_upd"] = (
        f"AFTER UPDATE ON account_quality BEGIN UPDATE account_search SET {SET_AQS} "
        "WHERE account_id IN (old.account_id, new.account_id); END"
    )
    statements["posts_search_ins"] = (
        "AFTER INSERT ON posts WHEN new.posted_at IS NOT NULL BEGIN "
        "UPDATE account_search SET last_post_at = new.posted_at "
        "WHERE account_id = new.account_id "
        "AND (last_post_at IS NULL OR last_post_at < new.posted_at); END"
    )
    statements["posts_search_del"] = (
        "AFTER DELETE ON posts WHEN old.posted_at IS NOT NULL BEGIN "
        f"UPDATE account_search SET {SET_LAST_POST} "
        "WHERE account_id = old.account_id AND last_post_at <= old.posted_at; END"
    )
    statements["posts_search_upd"] = (
        "AFTER UPDATE ON posts WHEN old.posted_at IS NOT new.posted_at "
        "OR old.account_id IS NOT new.account_id BEGIN "
        f"UPDATE account_search SET {SET_LAST_POST} "
        "WHERE account_id IN (old.account_id, new.account_id); END"
    )
    return statements


PG_TRIGGERS = {
    # name: (table, event, transition tables, statement)
    "accounts_search_ins": ("accounts", "INSERT", "NEW TABLE AS changed", "accounts"),
    "accounts_search_upd": ("accounts", "UPDATE", "NEW TABLE AS changed", "accounts"),
    "creators_search_upd": ("creators", "UPDATE", "NEW TABLE AS changed", "creators"),
    "account_metrics_search_ins": ("account_metrics", "INSERT", "NEW TABLE AS changed", "metrics"),
    "account_metrics_search_upd": (
        "account_metrics",
        "UPDATE",
        "OLD TABLE AS before NEW TABLE AS changed",
        "metrics_both",
    ),
    "account_metrics_search_del": ("account_metrics", "DELETE", "OLD TABLE AS changed", "metrics"),
    "account_quality_search_ins": ("account_quality", "INSERT", "NEW TABLE AS changed", "aqs"),
    "account_quality_search_upd": (
        "account_quality",
        "UPDATE",
        "OLD TABLE AS before NEW TABLE AS changed",
        "aqs_both",
    ),
    "account_quality_search_del": ("account_quality", "DELETE", "OLD TABLE AS changed", "aqs"),
    "posts_search_ins": ("posts", "INSERT", "NEW TABLE AS changed", "posts_new"),
    "posts_search_upd": (
        "posts",
        "UPDATE",
        "OLD TABLE AS before NEW TABLE AS changed",
        "posts_both",
    ),
    "posts_search_del": ("posts", "DELETE", "OLD TABLE AS changed", "posts_both_old"),
}


def _pg_bodies() -> dict[str, str]:
    pg_columns = [c.strip() for c in COLUMNS.split(",")][1:]
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in pg_columns)
    upsert = f"INSERT INTO account_search ({COLUMNS}) {{row}} ON CONFLICT (account_id) DO UPDATE SET {update}"
    return {
        "accounts": upsert.format(row=ROW.format(accounts="changed", creators="creators")),
        "creators": upsert.format(row=ROW.format(accounts="accounts", creators="changed")),
        "metrics": (
            f"UPDATE account_search SET {SET_METRICS} WHERE account_id IN "
            f"(SELECT account_id FROM changed WHERE metric IN {SEARCH_METRICS})"
        ),
        "metrics_both": (
            f"UPDATE account_search SET {SET_METRICS} WHERE account_id IN "
            f"(SELECT account_id FROM changed WHERE metric IN {SEARCH_METRICS} UNION "
            f"SELECT account_id FROM before WHERE metric IN {SEARCH_METRICS})"
        ),
        "aqs": f"UPDATE account_search SET {SET_AQS} WHERE account_id IN "
        "(SELECT account_id FROM changed)",
        "aqs_both": f"UPDATE account_search SET {SET_AQS} WHERE account_id IN "
        "(SELECT account_id FROM changed UNION SELECT account_id FROM before)",
        "posts_new": (
            "UPDATE account_search SET last_post_at = GREATEST(account_search.last_post_at, n.at) "
            "FROM (SELECT account_id, max(posted_at) AS at FROM changed "
            "WHERE posted_at IS NOT NULL GROUP BY account_id) AS n "
            "WHERE account_search.account_id = n.account_id"
        ),
        "posts_both": (
            f"UPDATE account_search SET {SET_LAST_POST} WHERE account_id IN "
            "(SELECT account_id FROM changed UNION SELECT account_id FROM before)"
        ),
        "posts_both_old": (
            f"UPDATE account_search SET {SET_LAST_POST} WHERE account_id IN "
            "(SELECT account_id FROM changed WHERE posted_at IS NOT NULL)"
        ),
    }


def _pg_triggers() -> None:
    bodies = _pg_bodies()
    for name, (table, event, transitions, body) in PG_TRIGGERS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {bodies[body]}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def upgrade() -> None:
    _table()
    op.execute(
        f"INSERT INTO account_search ({COLUMNS}) "
        + ROW.format(accounts="accounts", creators="creators")
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _sqlite_statements().items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        _pg_triggers()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in _sqlite_statements():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, (table, *_rest) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for name in INDEXES:
        op.drop_index(name, table_name="account_search")
    op.drop_table("account_search")
