"""posts.alt_text: the post's image description (Instagram's accessibility caption, or an alt
text a table gives), which the niche model reads next to the caption (discovery.features).

Revision ID: 0027
Revises: 0025
Create Date: 2026-11-26 21:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("alt_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("alt_text")
