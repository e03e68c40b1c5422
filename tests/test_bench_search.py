"""bench/search.py's PostgreSQL load: ``COPY`` (the benchmark's fast path for a million accounts)
writes the rows, search rows included, that the SQLAlchemy inserts write — the rows the
product's own triggers make — so the timings run on what an import would have stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from bench import search as bench_search

from microfluence.discovery.tables import AccountSearch
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.metrics.tables import AccountMetric
from pg_server import PostgresServer

# created_at / updated_at: the time of each load; ids of posts and metrics: the same sequence
# order either way, so compared.
MOMENTS = {"created_at", "updated_at"}


@pytest.fixture(scope="module")
def population() -> tuple:
    accounts, posts = bench_search._population(300, 3)
    # a blank e-mail, a missing bio, a quote and a comma: what CSV must carry as they are
    accounts = accounts.with_columns(
        accounts["email"].scatter([0], [""]),
        accounts["bio"].scatter([1, 2], [None, 'a "quoted", bio\nover two lines']),
    )
    return accounts, posts


def _rows(url: str) -> dict[str, list[tuple[str, ...]]]:
    store = open_store(url)
    out = {}
    with store.connection() as conn:
        for table in (Creator, Account, Post, AccountMetric, AccountSearch):
            t = table.__table__
            cols = [c for c in t.columns if c.name not in MOMENTS]
            out[t.name] = sorted(
                tuple(repr(v) for v in row) for row in conn.execute(sa.select(*cols))
            )
    store.dispose()
    return out


def test_copy_load_writes_what_inserts_write(pg_server: PostgresServer, population: tuple) -> None:
    accounts, posts = population
    urls = {}
    for way in ("copy", "insert"):
        name = f"bench_load_{way}"
        pg_server.create_database(name, template="template_microfluence")
        urls[way] = pg_server.url(name)
    try:
        for way, url in urls.items():
            bench_search.load(url, accounts, posts, copy=way == "copy")
        copied, inserted = _rows(urls["copy"]), _rows(urls["insert"])
        assert len(copied["account_search"]) == accounts.height
        assert sum(1 for r in copied["account_search"] if r[-1] != "None") > 0  # last posts
        assert copied == inserted
    finally:
        for url in urls.values():
            pg_server.drop_database(url.rsplit("/", 1)[1])
