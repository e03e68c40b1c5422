"""Accounts that rename themselves: matched by the platform's stable id, old handles kept.

* ``ix_accounts_workspace_external`` on ``accounts (workspace_id, platform, external_id)``: an
  import looks its accounts up by the platform's user id (Instagram's owner id, YouTube's
  channel id …) before their handle, a batch of ids at a time — one index seek each.
* ``accounts.previous_handles``: the handles an account had before it renamed itself (a JSON
  list, oldest first), so a search by an old handle still finds it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "ix_accounts_workspace_external"


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it without rebuilding the table.
    op.add_column("accounts", sa.Column("previous_handles", sa.JSON(), nullable=True))
    op.create_index(INDEX, "accounts", ["workspace_id", "platform", "external_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="accounts")
    # Plain DROP COLUMN (SQLite >= 3.35), not a batch copy: that would cascade into snapshots.
    op.drop_column("accounts", "previous_handles")
