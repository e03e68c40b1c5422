"""account_niches.fingerprint: what the model saw of an account when it scored it, so a re-run
scores only the accounts whose posts or profile changed (discovery.niches).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_niches") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_niches") as batch:
        batch.drop_column("fingerprint")
