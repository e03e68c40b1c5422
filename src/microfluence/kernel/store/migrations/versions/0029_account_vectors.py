"""account_vectors: each account's sentence vector for semantic search and lookalikes
(discovery.vectors), with the fingerprint of the text it was computed from, so only accounts
whose text changed are embedded again.

On PostgreSQL with the pgvector extension available on the server, the table also gets an
``embedding vector(256)`` column under an HNSW index (cosine), and search runs there
(discovery.vector_index.server_side); without it, the in-process index reads ``vector``.

Revision ID: 0029
Revises: 0027
Create Date: 2026-11-26 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None


def _pgvector_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    return found is not None


def upgrade() -> None:
    op.create_table(
        "account_vectors",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("fingerprint", sa.String(length=300), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_account_vectors_workspace_updated", "account_vectors", ["workspace_id", "updated_at"]
    )
    if _pgvector_available():
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
        op.execute("ALTER TABLE account_vectors ADD COLUMN embedding vector(256)")
        op.execute(
            "CREATE INDEX ix_account_vectors_embedding ON account_vectors "
            "USING hnsw (embedding vector_cosine_ops)"
        )


def downgrade() -> None:
    op.drop_table("account_vectors")
