"""Campaigns, deals and deliverables; tracking links, their clicks and discount codes
(campaigns.tables, tracking.tables).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)


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


def _times(*names: str) -> list:
    return [sa.Column(name, sa.DateTime(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("campaigns"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("goal", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("budget", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_times("created_at", "updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_campaigns_workspace_id"),
    )
    op.create_index("ix_campaigns_workspace_id", "campaigns", ["workspace_id"])

    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("deals"),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("flat_fee", MONEY, nullable=False),
        sa.Column("product_value", MONEY, nullable=False),
        sa.Column("shipping_cost", MONEY, nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_times("created_at", "updated_at"),
        _fk("deals", "campaign_id", "campaigns", "CASCADE"),
        _fk("deals", "creator_id", "creators", "CASCADE"),
        _fk("deals", "account_id", "accounts", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_deals"),
        sa.UniqueConstraint("campaign_id", "creator_id", name="uq_deals_campaign_id"),
    )
    for column in ("workspace_id", "campaign_id", "creator_id"):
        op.create_index(f"ix_deals_{column}", "deals", [column])

    op.create_table(
        "deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("deliverables"),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("matched_by", sa.String(length=10), nullable=True),
        sa.Column("matched_at", sa.DateTime(), nullable=True),
        sa.Column("match_reason", sa.String(length=300), nullable=True),
        sa.Column("rejected_post_ids", sa.JSON(), nullable=False),
        *_times("created_at", "updated_at"),
        _fk("deliverables", "deal_id", "deals", "CASCADE"),
        _fk("deliverables", "post_id", "posts", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_deliverables"),
    )
    for column in ("workspace_id", "deal_id", "post_id"):
        op.create_index(f"ix_deliverables_{column}", "deliverables", [column])

    op.create_table(
        "tracking_links",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("tracking_links"),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("utm", sa.JSON(), nullable=False),
        *_times("created_at"),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        _fk("tracking_links", "creator_id", "creators", "CASCADE"),
        _fk("tracking_links", "account_id", "accounts", "SET NULL"),
        _fk("tracking_links", "campaign_id", "campaigns", "SET NULL"),
        _fk("tracking_links", "deal_id", "deals", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_links"),
        sa.UniqueConstraint("slug", name="uq_tracking_links_slug"),
    )
    for column in ("workspace_id", "creator_id", "campaign_id"):
        op.create_index(f"ix_tracking_links_{column}", "tracking_links", [column])

    op.create_table(
        "link_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *_workspace("link_clicks"),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("clicked_at", sa.DateTime(), nullable=False),
        sa.Column("referrer_host", sa.String(length=255), nullable=True),
        sa.Column("referrer", sa.String(length=1000), nullable=True),
        sa.Column("agent_class", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("is_unique", sa.Boolean(), nullable=False),
        _fk("link_clicks", "link_id", "tracking_links", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_link_clicks"),
        sa.UniqueConstraint("token", name="uq_link_clicks_token"),
    )
    op.create_index("ix_link_clicks_workspace_id", "link_clicks", ["workspace_id"])
    op.create_index("ix_link_clicks_link_clicked", "link_clicks", ["link_id", "clicked_at"])

    op.create_table(
        "discount_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("discount_codes"),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", MONEY, nullable=True),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=True),
        *_times("created_at"),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        _fk("discount_codes", "creator_id", "creators", "CASCADE"),
        _fk("discount_codes", "campaign_id", "campaigns", "SET NULL"),
        _fk("discount_codes", "deal_id", "deals", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_discount_codes"),
        sa.UniqueConstraint("workspace_id", "code_key", name="uq_discount_codes_workspace_id"),
    )
    for column in ("workspace_id", "creator_id", "campaign_id"):
        op.create_index(f"ix_discount_codes_{column}", "discount_codes", [column])


def downgrade() -> None:
    tables = ("discount_codes", "link_clicks", "tracking_links", "deliverables", "deals")
    for table in (*tables, "campaigns"):
        op.drop_table(table)
