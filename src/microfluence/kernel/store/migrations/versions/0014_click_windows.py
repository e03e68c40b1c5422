"""The de-duplication window of each click (tracking.tables.LinkClick.window_start), and the
index that finds a visitor's clicks on a link in a window.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-26 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_clicks") as batch:
        batch.add_column(sa.Column("window_start", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_link_clicks_visitor_window",
        "link_clicks",
        ["link_id", "visitor_hash", "window_start"],
    )


def downgrade() -> None:
    op.drop_index("ix_link_clicks_visitor_window", table_name="link_clicks")
    with op.batch_alter_table("link_clicks") as batch:
        batch.drop_column("window_start")
