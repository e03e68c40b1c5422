"""The relationship pipeline: deals.stage and stage_changed_at, the deal_events history,
creator_relations (the record kept on a creator across campaigns) and deal_submissions
(relationships.tables); the campaign's brief, the products catalogue and gifts
(campaigns.tables).

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


MONEY = sa.Numeric(precision=14, scale=2)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _times() -> list:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _brief() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("brief", sa.Text(), nullable=True))
        batch.add_column(sa.Column("dos", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("donts", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("disclosure", sa.String(length=200), nullable=True))


def _gifting() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("products"),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("workspace_id", "sku", name="uq_products_workspace_id"),
    )
    op.create_index("ix_products_workspace_id", "products", ["workspace_id"])
    op.create_table(
        "gifts",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("gifts"),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        *_times(),
        _fk("gifts", "deal_id", "deals", "CASCADE"),
        _fk("gifts", "product_id", "products", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_gifts"),
    )
    op.create_index("ix_gifts_workspace_id", "gifts", ["workspace_id"])
    op.create_index("ix_gifts_deal_id", "gifts", ["deal_id"])


def _submissions() -> None:
    op.create_table(
        "deal_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("deal_submissions"),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=10), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=320), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        _fk("deal_submissions", "deal_id", "deals", "CASCADE"),
        _fk("deal_submissions", "deliverable_id", "deliverables", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_deal_submissions"),
    )
    op.create_index("ix_deal_submissions_workspace_id", "deal_submissions", ["workspace_id"])
    op.create_index("ix_deal_submissions_deal_id", "deal_submissions", ["deal_id"])
    op.create_index("ix_deal_submissions_status", "deal_submissions", ["status"])


def upgrade() -> None:
    _brief()
    _gifting()
    _submissions()
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
    op.drop_table("deal_submissions")
    op.drop_table("gifts")
    op.drop_table("products")
    with op.batch_alter_table("campaigns") as batch:
        for column in ("disclosure", "donts", "dos", "brief"):
            batch.drop_column(column)
    op.drop_table("creator_relations")
    op.drop_table("deal_events")
    op.drop_index("ix_deals_stage", table_name="deals")
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("stage_changed_at")
        batch.drop_column("stage")
