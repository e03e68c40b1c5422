"""Ingest additions: users tagged in a post's media, and the comment a reply answers.

Instagram keeps photo tags apart from caption mentions (a brand is often tagged in the picture
of a paid post without being named in the caption), and comment threads matter to the
authenticity checks (engagement pods answer each other), so both get their own column.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it without rebuilding the table.
    op.add_column("posts", sa.Column("tagged_handles", sa.JSON(), nullable=True))
    op.add_column("comments", sa.Column("parent_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("parent_key")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("tagged_handles")
