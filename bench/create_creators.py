"""Benchmark: creating the creators of new accounts inside an import (issue 9).

    .venv/bin/python -m bench.create_creators [--creators 100000] [--repeat 3] [--no-postgres]

An import of a creators table makes one creator per new account, inside the import's one write
transaction: on SQLite that transaction holds the file's write lock, so its length is how long
other workspaces wait. Two ways to write the same rows, on a fresh store each time, timed
through the commit:

* ``returning`` (the baseline, what the writer did before): ``INSERT … RETURNING id`` with
  ``sort_by_parameter_order`` so the ids come back in row order — SQLAlchemy runs it row by row;
* ``keys up front`` (``StoreWriter._create_creators`` now): the keys taken first (the next free
  ids under the write lock on SQLite, ``nextval`` of the sequence on PostgreSQL), then the rows
  through the bulk path every importer shares (``executemany`` / ``COPY``).

Prints seconds and creators/s of each, the fastest of ``--repeat`` interleaved rounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from microfluence.ingest.write import bulk
from microfluence.ingest.write.writer import StoreWriter
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Creator, utcnow
from microfluence.kernel.workspaces import ensure_workspace

ROOT = Path(__file__).resolve().parent.parent


def rows(n: int, workspace_id: int) -> pl.DataFrame:
    now = utcnow()
    return pl.DataFrame(
        {
            "workspace_id": [workspace_id] * n,
            "name": [f"Creator {i}" for i in range(n)],
            "country": ["FR"] * n,
            "source": ["bench"] * n,
            "imported_at": [now] * n,
            "created_at": [now] * n,
            "updated_at": [now] * n,
        }
    )


def run(url: str, n: int, how: str) -> float:
    store = open_store(url)
    try:
        with store.transaction() as session:
            workspace_id = ensure_workspace(session, "bench").id
        frame = rows(n, workspace_id)
        table = Creator.__table__
        started = time.perf_counter()
        with store.connection() as conn:  # one transaction, committed on leaving
            if how == "returning":
                result = conn.execute(
                    sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    frame.to_dicts(),
                )
                ids = [row[0] for row in result]
            else:
                writer = StoreWriter.__new__(StoreWriter)  # only its id allocation is used
                writer.conn = conn
                ids = writer._allocate_ids(table, n)
                bulk.upsert(conn, table, frame.with_columns(pl.Series("id", ids)), ["id"])
        seconds = time.perf_counter() - started
        assert len(ids) == n
        return seconds
    finally:
        store.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-creators-"))
    stores: list[tuple[str, object]] = [("sqlite", None)]
    server = None
    if not args.no_postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_server import PostgresServer  # type: ignore[import-not-found]

        server = PostgresServer()
        server.start()
        stores.append(("postgresql", server))
    try:
        for kind, srv in stores:
            best = {"returning": float("inf"), "keys up front": float("inf")}
            for round_ in range(args.repeat):
                for how in best:
                    name = f"r{round_}_{how.replace(' ', '_')}"
                    if srv is None:
                        url = f"sqlite:///{work / (name + '.sqlite')}"
                    else:
                        admin = sa.create_engine(srv.url(), isolation_level="AUTOCOMMIT")
                        with admin.connect() as conn:
                            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                        admin.dispose()
                        url = srv.url(name)
                    best[how] = min(best[how], run(url, args.creators, how))
            for how, seconds in best.items():
                print(
                    f"{kind:<10} {how:<14} {args.creators:>9,} creators  {seconds:6.2f} s  "
                    f"{args.creators / seconds:>9,.0f}/s"
                )
            print(f"{kind:<10} speed-up {best['returning'] / best['keys up front']:.1f}x")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
