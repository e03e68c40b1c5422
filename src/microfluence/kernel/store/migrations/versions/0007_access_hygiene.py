"""Account hygiene: invitations instead of adding members unasked; API keys tied to their maker.

* ``invitations``: an owner invites an e-mail address with a role; the invited person accepts
  with the link's random token (kept as its SHA-256 digest). Membership needs their consent.
* ``api_keys.by_operator``: the key was made by the machine's operator with the CLI (its role
  holds as set). Other keys work only while their maker (``created_by``) is an active member of
  the workspace, with the lesser of the key's role and the maker's. Keys made before this
  revision without a recorded maker were made with the CLI or over the API: they keep working
  as operator keys, as before.
* ``api_keys.created_by_key_id``: the key that made this one over the API; revoking a key
  revokes the keys made with it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_invitations_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name="fk_invitations_invited_by_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["users.id"],
            name="fk_invitations_accepted_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_workspace_id", "invitations", ["workspace_id"])
    # Plain ADD COLUMN (no batch copy of the table on SQLite).
    op.add_column(
        "api_keys",
        sa.Column("by_operator", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("api_keys", sa.Column("created_by_key_id", sa.Integer(), nullable=True))
    op.execute("UPDATE api_keys SET by_operator = (created_by IS NULL)")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), as 0006 does.
    op.drop_column("api_keys", "created_by_key_id")
    op.drop_column("api_keys", "by_operator")
    op.drop_index("ix_invitations_workspace_id", table_name="invitations")
    op.drop_table("invitations")
