"""Metrics: runs, account metrics (long, each with its as_of), tiers per scheme, post metrics.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "metric_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("now", sa.DateTime(), nullable=False),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        _fk("workspace_id", "workspaces", "metric_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_metric_runs"),
    )
    op.create_index("ix_metric_runs_workspace_id", "metric_runs", ["workspace_id"])
    op.create_table(
        "account_metrics",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        _fk("workspace_id", "workspaces", "account_metrics"),
        _fk("account_id", "accounts", "account_metrics"),
        _fk("run_id", "metric_runs", "account_metrics"),
        sa.PrimaryKeyConstraint("id", name="pk_account_metrics"),
        sa.UniqueConstraint("account_id", "metric", name="uq_account_metrics_account_id"),
    )
    op.create_index(
        "ix_account_metrics_workspace_metric", "account_metrics", ["workspace_id", "metric"]
    )
    op.create_table(
        "account_tiers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("scheme", sa.String(length=48), nullable=False),
        sa.Column("tier", sa.String(length=120), nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        _fk("workspace_id", "workspaces", "account_tiers"),
        _fk("account_id", "accounts", "account_tiers"),
        _fk("run_id", "metric_runs", "account_tiers"),
        sa.PrimaryKeyConstraint("id", name="pk_account_tiers"),
        sa.UniqueConstraint("account_id", "scheme", name="uq_account_tiers_account_id"),
    )
    op.create_index(
        "ix_account_tiers_workspace_scheme", "account_tiers", ["workspace_id", "scheme"]
    )
    op.create_table(
        "post_metrics",
        sa.Column("post_id", BigId, nullable=False, autoincrement=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("interactions", sa.BigInteger(), nullable=True),
        sa.Column("followers_at_post", sa.BigInteger(), nullable=True),
        sa.Column("snapshot_at", sa.DateTime(), nullable=True),
        sa.Column("er_followers", sa.Float(), nullable=True),
        sa.Column("er_views", sa.Float(), nullable=True),
        sa.Column("er_reach", sa.Float(), nullable=True),
        sa.Column("in_window", sa.Boolean(), nullable=False),
        _fk("post_id", "posts", "post_metrics"),
        _fk("workspace_id", "workspaces", "post_metrics"),
        _fk("account_id", "accounts", "post_metrics"),
        _fk("run_id", "metric_runs", "post_metrics"),
        sa.PrimaryKeyConstraint("post_id", name="pk_post_metrics"),
    )
    op.create_index(
        "ix_post_metrics_workspace_account", "post_metrics", ["workspace_id", "account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_post_metrics_workspace_account", table_name="post_metrics")
    op.drop_table("post_metrics")
    op.drop_index("ix_account_tiers_workspace_scheme", table_name="account_tiers")
    op.drop_table("account_tiers")
    op.drop_index("ix_account_metrics_workspace_metric", table_name="account_metrics")
    op.drop_table("account_metrics")
    op.drop_index("ix_metric_runs_workspace_id", table_name="metric_runs")
    op.drop_table("metric_runs")
