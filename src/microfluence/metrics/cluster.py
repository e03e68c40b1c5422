"""Running the metrics on a Spark cluster: where it is, and the Parquet snapshot it reads.

A cluster cannot be handed the posts through the driver (that is the one machine it exists to
relieve), so the driver streams the workspace's rows from the store in bounded batches into
Parquet files under a staging folder every executor can read (a shared filesystem; on a local
cluster a temporary folder). The executors read the snapshot in parallel and write the per-post
results there as Parquet; the driver streams those files back into the store batch by batch.

Settings (environment, prefix ``MICROFLUENCE_SPARK_``): ``MASTER``, ``CONF`` (JSON object),
``STAGING``, ``BATCH_ROWS``; the `score` command's ``--spark-master``, ``--spark-conf
key=value`` and ``--spark-staging`` override them.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from microfluence.kernel.errors import InputError
from microfluence.kernel.store import Store
from microfluence.metrics.engines import LOCAL_MASTER, is_local_master
from microfluence.metrics.inputs import INPUT_SCHEMAS
from microfluence.metrics.loading import input_schema, iter_input_batches

# Rows per batch streamed from the store and back (default): bounds the driver's memory.
STAGE_BATCH_ROWS = 50_000
# Rows per staged Parquet file: more files, more executors reading at once.
STAGE_FILE_ROWS = 1_000_000


class SparkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROFLUENCE_SPARK_", extra="ignore")

    master: str = Field(
        default=LOCAL_MASTER,
        description="Where the Spark engine runs: local[N], spark://host:7077, sc://host:15002, "
        "or anything spark-submit --master takes.",
    )
    conf: dict[str, str] = Field(
        default_factory=dict,
        description='Extra Spark configuration, a JSON object: {"spark.executor.memory": "4g"}.',
    )
    batch_rows: int = Field(
        default=STAGE_BATCH_ROWS,
        ge=1_000,
        le=10_000_000,
        description="Rows the driver streams at a time into the snapshot and back into the "
        "store: its memory is bounded by one batch.",
    )
    staging: str | None = Field(
        default=None,
        description="Folder for the Parquet snapshot and results; every executor must read and "
        "write it (a shared filesystem on a real cluster). Default: a temporary folder.",
    )


@dataclass(frozen=True)
class SparkOptions:
    """Where and how the Spark engine runs (settings, overridden by the command's flags)."""

    master: str = LOCAL_MASTER
    conf: Mapping[str, str] = field(default_factory=dict)
    staging: str | None = None
    batch_rows: int = STAGE_BATCH_ROWS

    @property
    def local(self) -> bool:
        return is_local_master(self.master)


def parse_conf(pairs: Sequence[str], *, field_name: str = "spark_conf") -> dict[str, str]:
    """``key=value`` strings as a mapping; a pair without ``=`` or key is named in the error."""
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(
                "Spark configuration is key=value, e.g. spark.executor.memory=4g",
                field=field_name,
                value=pair,
            )
        conf[key.strip()] = value.strip()
    return conf


def spark_options(
    master: str | None = None,
    conf: Sequence[str] = (),
    staging: str | None = None,
) -> SparkOptions:
    """The options from the settings, with any given ``master``, ``conf`` pairs and ``staging``
    taking precedence (``conf`` adds to and overrides the setting's keys)."""
    try:
        settings = SparkSettings()
    except ValueError as exc:
        raise InputError(f"MICROFLUENCE_SPARK_* settings are invalid: {exc}") from None
    chosen = (master or settings.master).strip()
    if not chosen:
        raise InputError("the Spark master is empty", field="spark_master")
    return SparkOptions(
        master=chosen,
        conf={**settings.conf, **parse_conf(conf)},
        staging=staging or settings.staging,
        batch_rows=settings.batch_rows,
    )


@contextmanager
def staging_folder(staging: str | None) -> Iterator[Path]:
    """A fresh folder for one run under ``staging`` (or the temporary directory), removed after.

    Only local (or mounted) paths: the driver writes the snapshot with plain file I/O.
    """
    if staging is not None and "://" in staging and not staging.startswith("file://"):
        raise InputError(
            "the Spark staging folder is a path on a filesystem the driver and every executor "
            "mount (NFS, a cluster filesystem's mount), not a URL",
            field="spark_staging",
            value=staging,
        )
    base = Path(staging.removeprefix("file://")) if staging else Path(tempfile.gettempdir())
    try:
        base.mkdir(parents=True, exist_ok=True)
        folder = base / f"microfluence-spark-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
    except OSError as exc:
        raise InputError(
            f"cannot create the Spark staging folder: {exc}", field="spark_staging"
        ) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stage_inputs(
    store: Store, workspace_id: int, folder: Path, *, batch_rows: int = STAGE_BATCH_ROWS
) -> dict[str, int]:
    """Write the workspace's accounts, snapshots and posts as Parquet under ``folder/<name>/``.

    Rows are streamed in batches of ``batch_rows`` and files are cut every ``STAGE_FILE_ROWS``
    rows, so the driver holds one batch whatever the workspace's size. Returns rows per table.
    """
    counts: dict[str, int] = {}
    with store.connection() as conn:
        for name in INPUT_SCHEMAS:
            target = folder / name
            target.mkdir()
            schema = input_schema(name)
            counts[name] = 0
            part = 0
            writer = pq.ParquetWriter(target / "part-00000.parquet", schema)
            in_file = 0
            try:
                for batch in iter_input_batches(conn, workspace_id, name, batch_rows=batch_rows):
                    if in_file >= STAGE_FILE_ROWS:
                        writer.close()
                        part += 1
                        writer = pq.ParquetWriter(target / f"part-{part:05d}.parquet", schema)
                        in_file = 0
                    writer.write_batch(batch, row_group_size=batch_rows)
                    in_file += batch.num_rows
                    counts[name] += batch.num_rows
            finally:
                writer.close()
    return counts


def iter_result_batches(folder: Path, *, batch_rows: int = STAGE_BATCH_ROWS) -> Iterator[pa.Table]:
    """The per-post results the executors wrote under ``folder``, ``batch_rows`` at a time."""
    for path in sorted(folder.glob("*.parquet")):
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yield pa.Table.from_batches([batch])
