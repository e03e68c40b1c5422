"""Connectors: credentials (sealed), quota used per day, refresh runs and their per-account
state (connectors.tables).

Revision ID: 0025
Revises: 0026
Create Date: 2026-11-26 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connector_credentials"),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("hint", sa.String(length=40), nullable=False),
        sa.Column("business_account_id", sa.String(length=40), nullable=True),
        sa.Column("daily_budget", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_connector_credentials_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "workspace_id", "platform", name="uq_connector_credentials_workspace_id"
        ),
    )
    op.create_index(
        "ix_connector_credentials_workspace_id", "connector_credentials", ["workspace_id"]
    )
    op.create_table(
        "connector_quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connector_quota"),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("exhausted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_connector_quota_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["connector_credentials.id"],
            name="fk_connector_quota_credential_id_connector_credentials",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("credential_id", "day", name="uq_connector_quota_credential_id"),
    )
    op.create_index("ix_connector_quota_workspace_id", "connector_quota", ["workspace_id"])
    op.create_index("ix_connector_quota_credential_id", "connector_quota", ["credential_id"])
    op.create_table(
        "refresh_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_runs"),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_refresh_runs_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_refresh_runs_workspace_id", "refresh_runs", ["workspace_id"])
    op.create_table(
        "refresh_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_items"),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_refresh_items_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["refresh_runs.id"],
            name="fk_refresh_items_run_id_refresh_runs",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_refresh_items_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("run_id", "account_id", name="uq_refresh_items_run_id"),
    )
    op.create_index("ix_refresh_items_workspace_id", "refresh_items", ["workspace_id"])
    op.create_index("ix_refresh_items_run_id", "refresh_items", ["run_id"])


def downgrade() -> None:
    op.drop_table("refresh_items")
    op.drop_table("refresh_runs")
    op.drop_table("connector_quota")
    op.drop_table("connector_credentials")
