"""Outreach: message templates, the outbox, the daily sending counter, sequences, their steps
and enrollments (outreach.tables).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
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


def _templates_and_sequences() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("message_templates"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_templates"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_message_templates_workspace_id"),
    )
    _index("message_templates", "workspace_id")
    op.create_table(
        "outreach_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("outreach_sequences"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outreach_sequences"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_outreach_sequences_workspace_id"),
    )
    _index("outreach_sequences", "workspace_id")
    op.create_table(
        "outreach_sequence_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("outreach_sequence_steps"),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
        _fk("outreach_sequence_steps", "sequence_id", "outreach_sequences", "CASCADE"),
        _fk("outreach_sequence_steps", "template_id", "message_templates", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name="pk_outreach_sequence_steps"),
        sa.UniqueConstraint(
            "sequence_id", "position", name="uq_outreach_sequence_steps_sequence_id"
        ),
    )
    _index("outreach_sequence_steps", "workspace_id", "sequence_id")
    op.create_table(
        "outreach_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("outreach_enrollments"),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("stopped_reason", sa.String(length=200), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        _fk("outreach_enrollments", "sequence_id", "outreach_sequences", "CASCADE"),
        _fk("outreach_enrollments", "deal_id", "deals", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_outreach_enrollments"),
        sa.UniqueConstraint("sequence_id", "deal_id", name="uq_outreach_enrollments_sequence_id"),
    )
    _index("outreach_enrollments", "workspace_id", "sequence_id", "deal_id", "due_at", "status")


def upgrade() -> None:
    _templates_and_sequences()
    op.create_table(
        "outreach_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("outreach_messages"),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        _fk("outreach_messages", "creator_id", "creators", "CASCADE"),
        _fk("outreach_messages", "deal_id", "deals", "CASCADE"),
        _fk("outreach_messages", "template_id", "message_templates", "SET NULL"),
        _fk("outreach_messages", "enrollment_id", "outreach_enrollments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_outreach_messages"),
    )
    _index("outreach_messages", "workspace_id", "creator_id", "deal_id", "status")
    op.create_table(
        "outreach_quota",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("outreach_quota"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outreach_quota"),
        sa.UniqueConstraint("workspace_id", "day", name="uq_outreach_quota_workspace_id"),
    )
    _index("outreach_quota", "workspace_id")


def downgrade() -> None:
    op.drop_table("outreach_quota")
    op.drop_table("outreach_messages")
    op.drop_table("outreach_enrollments")
    op.drop_table("outreach_sequence_steps")
    op.drop_table("outreach_sequences")
    op.drop_table("message_templates")
