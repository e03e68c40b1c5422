"""The relationship pipeline: deals.stage and stage_changed_at, the deal_events history, and
creator_relations, the record kept on a creator across campaigns (relationships.tables).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _workspace(table: str) -> list:
    return [
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=f"fk_{table}_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.add_column(
            sa.Column("stage", sa.String(length=20), nullable=False, server_default="prospect")
        )
        batch.add_column(
            sa.Column(
                "stage_changed_at",
                sa.DateTime(),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
    op.create_index("ix_deals_stage", "deals", ["stage"])
    op.create_table(
        "deal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("deal_events"),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name="fk_deal_events_deal_id_deals", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deal_events"),
    )
    op.create_index("ix_deal_events_workspace_id", "deal_events", ["workspace_id"])
    op.create_index("ix_deal_events_deal_id", "deal_events", ["deal_id"])
    op.create_index("ix_deal_events_at", "deal_events", ["at"])
    op.create_table(
        "creator_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("creator_relations"),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("do_not_contact_at", sa.DateTime(), nullable=True),
        sa.Column("do_not_contact_reason", sa.String(length=200), nullable=True),
        sa.Column("partner", sa.Boolean(), nullable=False),
        sa.Column("partner_since", sa.Date(), nullable=True),
        sa.Column("perks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name="fk_creator_relations_creator_id_creators",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_creator_relations"),
        sa.UniqueConstraint("workspace_id", "creator_id", name="uq_creator_relations_workspace_id"),
    )
    op.create_index("ix_creator_relations_workspace_id", "creator_relations", ["workspace_id"])
    op.create_index("ix_creator_relations_creator_id", "creator_relations", ["creator_id"])


def downgrade() -> None:
    op.drop_table("creator_relations")
    op.drop_table("deal_events")
    op.drop_index("ix_deals_stage", table_name="deals")
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("stage_changed_at")
        batch.drop_column("stage")
