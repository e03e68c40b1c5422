"""Each account's latest numbers on its own row, for the lists to filter and sort by.

``accounts.followers``, ``following``, ``posts_count`` and ``snapshot_at`` copy the account's
newest snapshot (the one with the largest ``captured_at``); NULL while it has none. They are kept
set-based by ``microfluence.catalog.latest.refresh_latest`` — one UPDATE over the accounts an
import run wrote snapshots of, at the end of the run, and after a snapshot made through the API —
so a list no longer looks up every account's newest snapshot on each request. Indexes serve the
common filters and sorts within a workspace. This revision merges the heads before it.

Revision ID: 0006
Revises: 0002, 0003, 0005
Create Date: 2026-11-22 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = ("0002", "0003", "0005")
branch_labels = None
depends_on = None

INDEXES = {
    "ix_accounts_workspace_followers": ["workspace_id", "followers"],
    "ix_accounts_workspace_platform": ["workspace_id", "platform"],
    # A creator's follower total sums its accounts' column: one covering seek per creator.
    "ix_accounts_creator_followers": ["creator_id", "followers"],
}
# Country and category are compared in any case (catalog.listing.Text): COLLATE NOCASE on
# SQLite, lower() on PostgreSQL; an index only serves the comparison written the same way.
CASELESS = {
    "ix_accounts_workspace_country": "country",
    "ix_accounts_workspace_category": "category",
}

# The newest snapshot of each account, copied in one statement (row values: SQLite >= 3.15,
# PostgreSQL); each account costs one seek in the (account_id, captured_at) unique index.
BACKFILL = """
UPDATE accounts SET (followers, following, posts_count, snapshot_at) = (
    SELECT s.followers, s.following, s.posts_count, s.captured_at
    FROM account_snapshots AS s
    WHERE s.account_id = accounts.id
    ORDER BY s.captured_at DESC
    LIMIT 1
)
WHERE EXISTS (SELECT 1 FROM account_snapshots AS e WHERE e.account_id = accounts.id)
"""


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it without rebuilding the table.
    op.add_column("accounts", sa.Column("followers", sa.BigInteger(), nullable=True))
    op.add_column("accounts", sa.Column("following", sa.BigInteger(), nullable=True))
    op.add_column("accounts", sa.Column("posts_count", sa.BigInteger(), nullable=True))
    op.add_column("accounts", sa.Column("snapshot_at", sa.DateTime(), nullable=True))
    op.execute(BACKFILL)
    for name, columns in INDEXES.items():
        op.create_index(name, "accounts", columns)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, column in CASELESS.items():
        expression = f"{column} COLLATE NOCASE" if sqlite else f"lower({column})"
        op.create_index(name, "accounts", ["workspace_id", sa.text(expression)])


def downgrade() -> None:
    for name in [*INDEXES, *CASELESS]:
        op.drop_index(name, table_name="accounts")
    # Plain DROP COLUMN (SQLite >= 3.35), not a batch copy of the table: with foreign keys on,
    # dropping the old accounts table would cascade into its snapshots and posts.
    for column in ("snapshot_at", "posts_count", "following", "followers"):
        op.drop_column("accounts", column)
