"""The relationship record and privacy: creator_relations.address and erased_at, the
contact_audit log (who viewed or changed contact data) and creator_tombstones (keyed hashes of
an erased creator's e-mail addresses and handles), in relationships.tables.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
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


def _creator(table: str) -> list:
    return [
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=f"fk_{table}_creator_id_creators",
            ondelete="SET NULL",
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("creator_relations") as batch:
        batch.add_column(sa.Column("address", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.create_table(
        "contact_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("contact_audit"),
        *_creator("contact_audit"),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_contact_audit"),
    )
    for column in ("workspace_id", "creator_id", "at"):
        op.create_index(f"ix_contact_audit_{column}", "contact_audit", [column])
    op.create_table(
        "creator_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("creator_tombstones"),
        *_creator("creator_tombstones"),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_creator_tombstones"),
        sa.UniqueConstraint("workspace_id", "digest", name="uq_creator_tombstones_workspace_id"),
    )
    for column in ("workspace_id", "creator_id"):
        op.create_index(f"ix_creator_tombstones_{column}", "creator_tombstones", [column])


def downgrade() -> None:
    op.drop_table("creator_tombstones")
    op.drop_table("contact_audit")
    with op.batch_alter_table("creator_relations") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("address")
