"""The search rows' covering indexes carry the account id on PostgreSQL.

Revision 0030 made ``ix_account_search_country``, ``ix_account_search_creator_country`` and
``ix_account_search_followers`` *covering*: a filter's range and what the ranking reads
(platform, ER, percentile, score) in the index, so no table row is read. That holds on SQLite,
where every index carries the row id and ``account_id`` is the row id. PostgreSQL's indexes do
not carry the key: each query still read the table row of every account of the range for its
``account_id`` (an *Index Scan*, not an *Index Only Scan*) — at 100,000 accounts 2,600 buffers
for the 2,500 accounts of one country and follower range, where the index alone holds them in
a few dozen pages. Here the three indexes are made again on PostgreSQL with ``INCLUDE
(account_id)`` (a payload column: no part of the key, no change to the order or the ranges).
SQLite keeps its indexes (nothing to add there). docs/discovery.md, "Index choices";
docs/benchmarks.md, "PostgreSQL".

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-27 06:10:00
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# 0030's indexes, as 0030 made them
COVER = ("platform", "er", "er_percentile", "aqs")
INDEXES = {
    "ix_account_search_country": ("workspace_id", "country", "followers", *COVER),
    "ix_account_search_creator_country": ("workspace_id", "creator_country", "followers", *COVER),
    "ix_account_search_followers": ("workspace_id", "followers", *COVER),
}


def _remake(*, include: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="account_search")
        op.create_index(
            name,
            "account_search",
            list(columns),
            postgresql_include=["account_id"] if include else [],
        )


def upgrade() -> None:
    _remake(include=True)


def downgrade() -> None:
    _remake(include=False)
