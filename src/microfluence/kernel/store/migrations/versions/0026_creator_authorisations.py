"""Creator-authorised insights: oauth_apps, oauth_invites, oauth_states, creator_authorisations,
oauth_tokens, account_insights and audience_breakdowns (connectors.oauth.tables).

Revision ID: 0026
Revises: 0024
Create Date: 2026-11-26 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
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


def _id(table: str, big: bool = False) -> list:
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite") if big else sa.Integer()
    return [
        sa.Column("id", kind, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _apps() -> None:
    op.create_table(
        "oauth_apps",
        *_id("oauth_apps"),
        *_workspace("oauth_apps"),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret_sealed", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "platform", name="uq_oauth_apps_workspace_id"),
    )
    op.create_index("ix_oauth_apps_workspace_id", "oauth_apps", ["workspace_id"])


def _invites() -> None:
    op.create_table(
        "oauth_invites",
        *_id("oauth_invites"),
        *_workspace("oauth_invites"),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        _fk("oauth_invites", "creator_id", "creators", "CASCADE"),
        sa.UniqueConstraint("token_hash", name="uq_oauth_invites_token_hash"),
    )
    op.create_index("ix_oauth_invites_workspace_id", "oauth_invites", ["workspace_id"])


def _states() -> None:
    op.create_table(
        "oauth_states",
        *_id("oauth_states"),
        *_workspace("oauth_states"),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("verifier_sealed", sa.Text(), nullable=True),
        sa.Column("redirect_uri", sa.String(length=1000), nullable=False),
        sa.Column("return_to", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        _fk("oauth_states", "creator_id", "creators", "CASCADE"),
        sa.UniqueConstraint("state_hash", name="uq_oauth_states_state_hash"),
    )
    op.create_index("ix_oauth_states_workspace_id", "oauth_states", ["workspace_id"])


def _authorisations() -> None:
    t = "creator_authorisations"
    op.create_table(
        t,
        *_id(t),
        *_workspace(t),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=True),
        sa.Column("scopes", sa.String(length=1000), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_detail", sa.String(length=500), nullable=True),
        sa.Column("connected_at", sa.DateTime(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        _fk(t, "creator_id", "creators", "CASCADE"),
        _fk(t, "account_id", "accounts", "SET NULL"),
        sa.UniqueConstraint("workspace_id", "platform", "external_id", name=f"uq_{t}_workspace_id"),
    )
    for column in ("workspace_id", "creator_id", "account_id"):
        op.create_index(f"ix_{t}_{column}", t, [column])


def _tokens() -> None:
    t = "oauth_tokens"
    op.create_table(
        t,
        *_id(t),
        *_workspace(t),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=True),
        sa.Column("refresh_token_sealed", sa.Text(), nullable=True),
        _fk(t, "authorisation_id", "creator_authorisations", "CASCADE"),
        sa.UniqueConstraint("authorisation_id", name=f"uq_{t}_authorisation_id"),
    )
    op.create_index(f"ix_{t}_workspace_id", t, ["workspace_id"])


def _insights() -> None:
    t = "account_insights"
    op.create_table(
        t,
        *_id(t, big=True),
        *_workspace(t),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("end_time", sa.DateTime(), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        _fk(t, "authorisation_id", "creator_authorisations", "CASCADE"),
        _fk(t, "account_id", "accounts", "CASCADE"),
        sa.UniqueConstraint(
            "authorisation_id",
            "metric",
            "period",
            "end_time",
            "item_id",
            name=f"uq_{t}_authorisation_id",
        ),
    )
    op.create_index(f"ix_{t}_workspace_id", t, ["workspace_id"])
    op.create_index(f"ix_{t}_account", t, ["workspace_id", "account_id"])


def _breakdowns() -> None:
    t = "audience_breakdowns"
    op.create_table(
        t,
        *_id(t, big=True),
        *_workspace(t),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        _fk(t, "authorisation_id", "creator_authorisations", "CASCADE"),
        _fk(t, "account_id", "accounts", "CASCADE"),
        sa.UniqueConstraint(
            "authorisation_id", "dimension", "key", name=f"uq_{t}_authorisation_id"
        ),
    )
    op.create_index(f"ix_{t}_workspace_id", t, ["workspace_id"])
    op.create_index(f"ix_{t}_account", t, ["workspace_id", "account_id"])


def upgrade() -> None:
    _apps()
    _invites()
    _states()
    _authorisations()
    _tokens()
    _insights()
    _breakdowns()


def downgrade() -> None:
    for table in (
        "audience_breakdowns",
        "account_insights",
        "oauth_tokens",
        "creator_authorisations",
        "oauth_states",
        "oauth_invites",
        "oauth_apps",
    ):
        op.drop_table(table)
