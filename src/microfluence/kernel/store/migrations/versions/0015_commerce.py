"""Shops, orders, refunds, webhook deliveries and codes created in a shop (commerce.tables).

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-26 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


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


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _shops() -> None:
    op.create_table(
        "shops",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("shops"),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("previous_secret", sa.String(length=200), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(), nullable=True),
        sa.Column("access_token", sa.String(length=200), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shops"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_shops_workspace_id"),
        sa.UniqueConstraint("public_id", name="uq_shops_public_id"),
    )
    op.create_index("ix_shops_workspace_id", "shops", ["workspace_id"])


def _orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, nullable=False),
        *_workspace("orders"),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("ordered_at", sa.DateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", MONEY, nullable=False),
        sa.Column("discounts", MONEY, nullable=False),
        sa.Column("net", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("refunded", MONEY, nullable=False),
        sa.Column("financial_status", sa.String(length=40), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("landing_url", sa.Text(), nullable=True),
        sa.Column("referrer", sa.Text(), nullable=True),
        sa.Column("referrer_host", sa.String(length=255), nullable=True),
        sa.Column("customer_hash", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("shop_updated_at", sa.DateTime(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("click_id", BIG_ID, nullable=True),
        sa.Column("leak", sa.Boolean(), nullable=False),
        sa.Column("leak_reason", sa.String(length=300), nullable=True),
        sa.Column("attributed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("orders", "shop_id", "shops", "CASCADE"),
        _fk("orders", "creator_id", "creators", "SET NULL"),
        _fk("orders", "deal_id", "deals", "SET NULL"),
        _fk("orders", "campaign_id", "campaigns", "SET NULL"),
        _fk("orders", "code_id", "discount_codes", "SET NULL"),
        _fk("orders", "link_id", "tracking_links", "SET NULL"),
        _fk("orders", "click_id", "link_clicks", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("shop_id", "external_id", name="uq_orders_shop_id"),
    )
    for column in ("workspace_id", "creator_id", "campaign_id"):
        op.create_index(f"ix_orders_{column}", "orders", [column])
    op.create_index("ix_orders_workspace_ordered", "orders", ["workspace_id", "ordered_at"])


def _refunds_and_deliveries() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", BIG_ID, nullable=False),
        *_workspace("refunds"),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("order_external_id", sa.String(length=64), nullable=False),
        sa.Column("refunded_at", sa.DateTime(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("refunds", "shop_id", "shops", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.UniqueConstraint("shop_id", "external_id", name="uq_refunds_shop_id"),
    )
    op.create_index("ix_refunds_workspace_id", "refunds", ["workspace_id"])
    op.create_index("ix_refunds_shop_order", "refunds", ["shop_id", "order_external_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        *_workspace("webhook_deliveries"),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        _fk("webhook_deliveries", "shop_id", "shops", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("shop_id", "delivery_id", name="uq_webhook_deliveries_shop_id"),
    )
    op.create_index("ix_webhook_deliveries_workspace_id", "webhook_deliveries", ["workspace_id"])
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries", ["status"])

    op.create_table(
        "shop_discount_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("shop_discount_codes"),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("shop_discount_codes", "shop_id", "shops", "CASCADE"),
        _fk("shop_discount_codes", "code_id", "discount_codes", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_shop_discount_codes"),
        sa.UniqueConstraint("shop_id", "code_id", name="uq_shop_discount_codes_shop_id"),
    )
    op.create_index("ix_shop_discount_codes_workspace_id", "shop_discount_codes", ["workspace_id"])


def upgrade() -> None:
    _shops()
    _orders()
    _refunds_and_deliveries()


def downgrade() -> None:
    for table in ("shop_discount_codes", "webhook_deliveries", "refunds", "orders", "shops"):
        op.drop_table(table)
