"""The creator portal's links (relationships.tables.PortalLink): one row per link, the SHA-256
of its token (never the token), who made it, when it expires, when it was revoked or last used.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_portal_links_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name="fk_portal_links_deal_id_deals", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_portal_links"),
        sa.UniqueConstraint("token_hash", name="uq_portal_links_token_hash"),
    )
    op.create_index("ix_portal_links_workspace_id", "portal_links", ["workspace_id"])
    op.create_index("ix_portal_links_deal_id", "portal_links", ["deal_id"])


def downgrade() -> None:
    op.drop_table("portal_links")
