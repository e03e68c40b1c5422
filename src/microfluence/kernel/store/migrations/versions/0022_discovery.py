"""Discovery: account_niches, an account's niches with their confidences (discovery.tables).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 19:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
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


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def _niches() -> None:
    op.create_table(
        "account_niches",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("account_niches"),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("niche", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("model_version", sa.String(length=60), nullable=True),
        sa.Column("set_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("account_niches", "account_id", "accounts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_account_niches"),
        sa.UniqueConstraint("account_id", "niche", "source", name="uq_account_niches_account_id"),
    )
    _index("account_niches", "workspace_id", "account_id", "niche")


def upgrade() -> None:
    _niches()


def downgrade() -> None:
    op.drop_table("account_niches")
