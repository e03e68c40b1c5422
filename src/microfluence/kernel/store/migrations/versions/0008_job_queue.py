"""Background jobs outside the app process: a durable queue, worker processes, schedules.

* ``import_jobs.owner``: the process running the job (the name of the lock file that process
  holds while it lives, jobs.liveness); a job whose owner died is retried or failed.
* ``import_jobs.attempts``: how many times a worker started it (retries back off).
* ``import_jobs.upload_path``: where a queued import's upload waits in the shared upload
  directory, so a retry after a crash finds it.
* ``job_schedules``: per workspace, a job kind (``score``) and a cron expression; fired by the
  workers' scheduler at most once per minute that matches.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it without rebuilding the table.
    op.add_column("import_jobs", sa.Column("owner", sa.String(length=120), nullable=True))
    op.add_column(
        "import_jobs",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("import_jobs", sa.Column("upload_path", sa.Text(), nullable=True))
    op.create_index("ix_import_jobs_status", "import_jobs", ["status"])
    op.create_table(
        "job_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_job_schedules_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_job_schedules"),
        sa.UniqueConstraint("workspace_id", "kind", "cron", name="uq_job_schedules_workspace_id"),
    )
    op.create_index("ix_job_schedules_workspace_id", "job_schedules", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_job_schedules_workspace_id", table_name="job_schedules")
    op.drop_table("job_schedules")
    op.drop_index("ix_import_jobs_status", table_name="import_jobs")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("upload_path")
        batch.drop_column("attempts")
        batch.drop_column("owner")
