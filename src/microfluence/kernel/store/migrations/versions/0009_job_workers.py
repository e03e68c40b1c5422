"""Workers on other machines: a heartbeat per worker, and the import run of each job.

* ``job_workers``: one row per running ``microfluence worker`` (its name, host, process id
  and lock file) with the time it last said it was alive; a job whose owner stopped saying so is retried.
  Workers on the same machine are still checked at once by their lock (jobs.uploads).
* ``import_runs.job_id``: the background job an import ran for. The import commits its data
  and this mark in one transaction, so a job whose worker died after the commit but before the
  job's own row was updated is marked succeeded from its run, not imported a second time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_workers",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("lock_path", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_job_workers"),
    )
    op.add_column("import_runs", sa.Column("job_id", sa.String(length=32), nullable=True))
    op.create_index("ix_import_runs_job_id", "import_runs", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_import_runs_job_id", table_name="import_runs")
    with op.batch_alter_table("import_runs") as batch:
        batch.drop_column("job_id")
    op.drop_table("job_workers")
