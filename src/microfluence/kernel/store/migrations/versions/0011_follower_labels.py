"""Calibration by a workspace's own labels; followers' picture URLs.

* ``follower_labels``: one verdict (fake, real, unsure) per follower of a stored sample per
  workspace, with who gave it and when; deleted with the follower (a sample deleted for privacy
  takes its labels with it) and with the workspace.
* ``followers.profile_pic_url``: the picture's address when the sample carries one, for the
  labelling page (shown only from hosts the operator allows, docs/pages.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("followers", sa.Column("profile_pic_url", sa.String(length=1000), nullable=True))
    op.create_table(
        "follower_labels",
        sa.Column("id", BigId, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("follower_id", BigId, nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("labelled_by", sa.String(length=320), nullable=False),
        sa.Column("labelled_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("label IN ('fake', 'real', 'unsure')", name="ck_follower_labels_label"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_follower_labels_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["followers.id"],
            name="fk_follower_labels_follower_id_followers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_follower_labels"),
        sa.UniqueConstraint("workspace_id", "follower_id", name="uq_follower_labels_workspace_id"),
    )
    op.create_index("ix_follower_labels_follower_id", "follower_labels", ["follower_id"])
    op.create_index(
        "ix_follower_labels_workspace_labelled_at",
        "follower_labels",
        ["workspace_id", "labelled_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_follower_labels_workspace_labelled_at", table_name="follower_labels")
    op.drop_index("ix_follower_labels_follower_id", table_name="follower_labels")
    op.drop_table("follower_labels")
    with op.batch_alter_table("followers") as batch:
        batch.drop_column("profile_pic_url")
