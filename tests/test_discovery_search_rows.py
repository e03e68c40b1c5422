"""The search rows (``account_search``, revision 0030) stay exact after every kind of write: each
step below changes one source table the way a write path does, and the table must then equal
the rows recomputed from the sources, here in Python, independently of the triggers' SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from discovery_support import NOW, Planter
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountQuality, AccountSearch
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.metrics.tables import AccountMetric


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def expected(session) -> dict[int, tuple]:
    """Every account's search row, from the source tables, in Python."""
    metrics: dict[tuple[int, str], float] = {
        (m.account_id, m.metric): m.value for m in session.scalars(select(AccountMetric))
    }
    quality = {q.account_id: q.aqs for q in session.scalars(select(AccountQuality))}
    last: dict[int, dt.datetime] = {}
    for p in session.scalars(select(Post).where(Post.posted_at.is_not(None))):
        last[p.account_id] = max(last.get(p.account_id, p.posted_at), p.posted_at)
    out = {}
    for a, c in session.execute(select(Account, Creator).join(Creator)):
        out[a.id] = (
            a.workspace_id,
            a.platform,
            a.followers,
            a.country and a.country.lower(),
            c.country and c.country.lower(),
            a.language and a.language.lower(),
            c.language and c.language.lower(),
            not (_blank(a.email) and _blank(c.email)),
            metrics.get((a.id, "er_median")),
            metrics.get((a.id, "cohort_percentile")),
            quality.get(a.id),
            last.get(a.id),
        )
    return out


def stored(session) -> dict[int, tuple]:
    s = AccountSearch
    rows = session.execute(
        select(
            s.account_id,
            s.workspace_id,
            s.platform,
            s.followers,
            s.country,
            s.creator_country,
            s.language,
            s.creator_language,
            s.has_email,
            s.er,
            s.er_percentile,
            s.aqs,
            s.last_post_at,
        )
    )
    return {r[0]: (*r[1:8], bool(r[8]), *r[9:]) for r in rows}


def _account(session, handle: str):
    return session.scalar(select(Account).where(Account.handle == handle))


def _steps():  # each: (what it does, a function of the session)
    def edit_account(s, ws):
        s.execute(
            update(Account)
            .where(Account.handle == "anna")
            .values(followers=12_345, country="De", email="anna@example.com")
        )

    def edit_creator(s, ws):
        creator = _account(s, "ben").creator_id
        s.execute(
            update(Creator)
            .where(Creator.id == creator)
            .values(country="FR", language="Fr", email="  ")
        )

    def metrics(s, ws):
        ben = _account(s, "ben").id
        run = s.scalar(select(AccountMetric.run_id).limit(1))
        s.add(
            AccountMetric(
                workspace_id=ws, account_id=ben, run_id=run, metric="er_median", value=0.07
            )
        )
        s.add(AccountMetric(workspace_id=ws, account_id=ben, run_id=run, metric="likes", value=9.0))
        s.flush()
        s.execute(
            update(AccountMetric)
            .where(AccountMetric.metric == "cohort_percentile")
            .values(value=AccountMetric.value / 2)
        )
        s.execute(delete(AccountMetric).where(AccountMetric.account_id == _account(s, "anna").id))

    def quality(s, ws):
        s.execute(update(AccountQuality).values(aqs=AccountQuality.aqs + 1))
        s.execute(delete(AccountQuality).where(AccountQuality.account_id == _account(s, "cleo").id))
        s.add(AccountQuality(workspace_id=ws, account_id=_account(s, "ben").id, aqs=33.0))

    def posts(s, ws):
        cleo = _account(s, "cleo").id
        for i, days in enumerate((40, 2, 10)):
            s.add(
                Post(
                    workspace_id=ws,
                    account_id=cleo,
                    platform_post_id=f"cleo-new-{i}",
                    posted_at=NOW - dt.timedelta(days=days),
                )
            )
        s.flush()
        newest = s.scalar(select(Post).where(Post.platform_post_id == "cleo-new-1"))
        s.delete(newest)
        s.flush()
        s.execute(
            update(Post)
            .where(Post.platform_post_id == "cleo-new-0")
            .values(posted_at=NOW - dt.timedelta(days=1))
        )
        s.execute(delete(Post).where(Post.account_id == _account(s, "anna").id))

    def remove(s, ws):
        s.delete(_account(s, "ben"))

    return [edit_account, edit_creator, metrics, quality, posts, remove]


@pytest.fixture
def planted(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        p.account(
            "anna",
            country="AT",
            er=0.03,
            percentile=70,
            quality=50,
            posts=[{"caption": "a", "posted_at": NOW - dt.timedelta(days=5)}],
        )
        p.account("ben", platform="tiktok", followers=None, creator_email="ben@example.com")
        p.account("cleo", language="IT", quality=80, percentile=20)
    return ws.id


def test_rows_equal_a_recompute_after_each_kind_of_write(store, planted):
    with store.session() as session:
        assert len(stored(session)) == 3
        assert stored(session) == expected(session)
    for step in _steps():
        with store.transaction() as session:
            step(session, planted)
        with store.session() as session:
            assert stored(session) == expected(session), step.__name__
    with store.session() as session:
        assert len(stored(session)) == 2


def test_a_search_sees_writes_at_once(store, planted):
    def found(**query):
        with store.session() as session:
            page = search(session, planted, SearchQuery(limit=100, **query), now=NOW)
        return sorted(r.handle for r in page.results)

    assert found(country="fr") == []
    assert found(posted_within_days=3) == []
    with store.transaction() as session:
        for step in _steps()[:5]:
            step(session, planted)
    assert found(country="fr") == ["ben"]
    assert found(country="de", has_email=True) == ["anna"]
    assert found(min_er=0.05) == ["ben"]
    assert found(min_quality=51) == ["anna"]
    assert found(posted_within_days=3) == ["cleo"]
    assert found(has_email=False) == ["ben", "cleo"]


def test_country_is_the_accounts_or_its_creators_counted_once(store, planted):
    with store.transaction() as session:
        anna = _account(session, "anna")
        session.execute(update(Creator).where(Creator.id == anna.creator_id).values(country="at"))
        ben = _account(session, "ben")
        session.execute(update(Creator).where(Creator.id == ben.creator_id).values(country="AT"))
        session.execute(update(Account).where(Account.id == ben.id).values(country="CH"))
    for q, handles_ in ((None, ["anna", "ben"]), ("a", ["anna"])):
        with store.session() as session:
            page = search(session, planted, SearchQuery(country=" At ", q=q, limit=100), now=NOW)
            assert sorted(r.handle for r in page.results) == handles_
            assert page.count == len(handles_)
    with store.session() as session:
        page = search(session, planted, SearchQuery(country="ch"), now=NOW)
        assert [r.handle for r in page.results] == ["ben"]
