"""The in-process search columns (discovery.columns, column_labels) and the NumPy ranking over
them (discovery.column_rank): the same pages as the database's ranking query over every match,
for any query of filters and words; kept current by the stamps of revision 0034 through every
kind of write, from this engine and another; workspace-isolated."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery_support import NOW, Planter
from microfluence.discovery import (
    column_facets,
    columns,
    keyword,
    keyword_plan,
    term_index,
    terms,
)
from microfluence.discovery import search as search_module
from microfluence.discovery.query import SearchQuery, Weights
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountNiche, AccountQuality, AccountSearchChange
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Creator, Post, Workspace
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.metrics.tables import AccountMetric, AccountTier

WORDS = "vegan kettlebell coach daily yoga lyon".split()
COUNTRIES = ["FR", "fr", "de", "DE", "Österreich", "ÖSTERREICH", None]
FOLLOWERS = [None, 999, 1000, 5000, 12_000, 50_000]
LABELLED = ["fitness", "travel", "pets", "food_drink"]


@pytest.fixture
def population(store):
    """60 accounts whose every filtered value is drawn from a few, boundaries and NULLs
    included, in one workspace; a twin of some in another."""
    columns.forget()
    term_index.forget()
    rng = np.random.default_rng(7)

    def pick(values):  # type: ignore[no-untyped-def]
        return values[int(rng.integers(len(values)))]

    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        for i in range(60):
            words = " ".join(rng.choice(WORDS, size=int(rng.integers(0, 4))).tolist())
            account = p.account(
                f"acct{i}",
                platform=pick(["instagram", "tiktok"]),
                bio=words or None,
                followers=pick(FOLLOWERS),
                country=pick(COUNTRIES),
                language=pick(["fr", "EN", None]),
                email=pick([None, " ", f"a{i}@example.com"]),
                er=pick([None, 0.0199, 0.02, 0.05]),
                percentile=pick([None, 0.0, 37.5, 100.0, 120.0]),
                quality=pick([None, 59.9, 60.0, 90.0]),
                posts=[
                    {
                        "caption": " ".join(rng.choice(WORDS, size=2).tolist()),
                        "posted_at": NOW - dt.timedelta(days=pick([1, 30, 31, 400])),
                    }
                    for _ in range(int(rng.integers(0, 3)))
                ],
            )
            creator = session.get(Creator, account.creator_id)
            creator.country = pick(COUNTRIES)
            creator.language = pick(["de", "fr", None])
            for scheme in ("mediakix", "influence-co"):
                tier = pick(["nano", "micro", "mid", "macro", "celebrity", "gone", None])
                if tier is not None:
                    session.add(
                        AccountTier(
                            workspace_id=ws.id,
                            account_id=account.id,
                            run_id=p.run.id,
                            scheme=scheme,
                            tier=tier,
                        )
                    )
            for niche in rng.choice(LABELLED, size=int(rng.integers(0, 3)), replace=False):
                session.add(
                    AccountNiche(
                        workspace_id=ws.id,
                        account_id=account.id,
                        niche=str(niche),
                        confidence=pick([0.3, 0.5, 0.9]),
                        source=pick(["model", "model", "user"]),
                    )
                )
        p.account(  # corrected by hand: its model rows no longer count
            "corrected", niches={"travel": (1.0, "user"), "fitness": (0.95, "model")}
        )
        other = ensure_workspace(session, "other")
        Planter(session, other.id).account("acct0", bio="vegan", followers=1000, country="fr")
    return ws.id, other.id


def _page(store, ws, query: SearchQuery):
    with store.session() as session:
        page = search(session, ws, query, now=NOW)
    rows = [
        (r.account_id, r.score, [(p.name, p.value) for p in r.why.parts], r.why.matched)
        for r in page.results
    ]
    return rows, page.count


def _by_database(store, ws, query: SearchQuery):
    """The database's ranking query (``search._rank``, the SQL filters and blend) over every
    account the words match, as ``_page`` explains it."""
    with store.session() as session:
        tiers = search_module._scheme(session, ws, query)
        matched = None
        if words := keyword.terms(query.q):
            index = term_index.index_for(session, ws)
            ids, raw = index.scores(terms.query_terms(words))
            matched = keyword_plan.subquery(session, ids, raw)
        ranked = search_module._rank(session, ws, query, tiers, now=NOW, matched=matched)
        page = search_module._page(session, ws, query, ranked)
    rows = [
        (r.account_id, r.score, [(p.name, p.value) for p in r.why.parts], r.why.matched)
        for r in page.results
    ]
    return rows, page.count


QUERIES = st.builds(
    SearchQuery,
    q=st.sampled_from([None, "vegan", "kettlebell coach", "daily", "lyon yoga", "zzz"]),
    platform=st.sampled_from([None, "instagram", "tiktok", "youtube"]),
    min_followers=st.sampled_from([None, 999, 1000, 5000]),
    max_followers=st.sampled_from([None, 5000, 12_000]),
    min_er=st.sampled_from([None, 0.02]),
    max_er=st.sampled_from([None, 0.02, 0.05]),
    min_quality=st.sampled_from([None, 60.0]),
    country=st.sampled_from([None, "fr", " FR ", "de", "österreich", "ÖSTERREICH", "xx"]),
    language=st.sampled_from([None, "fr", "en", "De"]),
    has_email=st.sampled_from([None, True, False]),
    posted_within_days=st.sampled_from([None, 30, 365]),
    tier=st.sampled_from([None, None, "micro", "nano"]),
    tier_scheme=st.sampled_from([None, "influence-co"]),
    prefer_tier=st.sampled_from([None, None, "micro", "macro"]),
    niche=st.sampled_from([None, None, "fitness", "travel", "pets"]),
    niche_confidence=st.sampled_from([0.5, 0.9]),
    weights=st.sampled_from(
        [Weights(), Weights(relevance=1, engagement=0.3, authenticity=0, tier=0.7)]
    ),
    limit=st.sampled_from([1, 5, 100]),
    offset=st.sampled_from([0, 3]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERIES)
def test_the_columns_give_the_databases_page_exactly(store, population, query):
    ws, _other = population
    in_process = _page(store, ws, query)
    _same_pages(in_process, _by_database(store, ws, query))
    with pytest.MonkeyPatch.context() as mp:  # the words drive: every match, masked
        mp.setattr(keyword_plan, "CANDIDATE_CAP", 0)
        assert _page(store, ws, query) == in_process
    for share in (0.0, 1.0):  # a filter's rows never drive the mask; always do
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(columns, "DRIVE_SHARE", share)
            assert _page(store, ws, query) == in_process


@pytest.mark.parametrize(
    "asked",
    [
        {"prefer_tier": "micro"},
        {"prefer_tier": "macro", "tier_scheme": "influence-co", "q": "vegan"},
        {"tier": "micro"},
        {"tier": "nano", "tier_scheme": "influence-co", "q": "daily yoga"},
        {"niche": "fitness"},
        {"niche": "fitness", "niche_confidence": 0.9, "country": "fr"},
        {"niche": "travel", "prefer_tier": "nano", "q": "coach"},
    ],
)
def test_tiers_and_niches_give_the_databases_page(store, population, asked):
    """Every account, so that each tier and niche case is on the page."""
    ws, _other = population
    query = SearchQuery(limit=100, **asked)
    in_process = _page(store, ws, query)
    assert in_process[1] > 0
    _same_pages(in_process, _by_database(store, ws, query))


def _same_pages(got, want) -> None:
    """The same accounts in the same order, the same count and explanations; the scores equal
    as floats (PostgreSQL's ``CASE`` of the SQL clamp passes a double through ``numeric``, which
    can move its last two digits: 0.9952248027841186 against …201)."""
    assert got[1] == want[1]
    assert [r[0] for r in got[0]] == [r[0] for r in want[0]]
    assert [r[3] for r in got[0]] == [r[3] for r in want[0]]
    for mine, theirs in zip(got[0], want[0], strict=True):
        assert mine[1] == pytest.approx(theirs[1], rel=1e-12, abs=1e-15)
        assert [p[0] for p in mine[2]] == [p[0] for p in theirs[2]]
        assert [p[1] for p in mine[2]] == pytest.approx([p[1] for p in theirs[2]], rel=1e-12)


def _same_as_stored(store, ws) -> columns.Columns:
    """The cached columns, followed, equal to the rows read whole now."""
    with store.session() as session:
        held = columns.columns_for(session, ws)
        fresh = columns.build(session, ws)
    assert held.ids.tolist() == fresh.ids.tolist()
    for name in columns.TEXT:
        got = [held.vocab[c] if c >= 0 else None for c in held.codes[name].tolist()]
        want = [fresh.vocab[c] if c >= 0 else None for c in fresh.codes[name].tolist()]
        assert got == want, name
    for name in columns.NUMBERS:
        np.testing.assert_array_equal(held.numbers[name], fresh.numbers[name], err_msg=name)
    np.testing.assert_array_equal(held.has_email, fresh.has_email)
    np.testing.assert_array_equal(held.last_post_at, fresh.last_post_at)
    assert _tiers(held) == _tiers(fresh)
    assert _niches(held) == _niches(fresh)
    return held


def _tiers(cols: columns.Columns) -> dict[str, list]:
    labels = cols.labels
    return {
        scheme: [labels.tier_vocab[c] if c >= 0 else None for c in codes.tolist()]
        for scheme, codes in labels.tiers.items()
        if (codes >= 0).any()
    }


def _niches(cols: columns.Columns) -> list[tuple]:
    labels = cols.labels
    entries = zip(
        labels.niche_ids.tolist(),
        [labels.niche_vocab[c] for c in labels.niche_codes.tolist()],
        labels.niche_confidence.tolist(),
        labels.niche_source.tolist(),
        strict=True,
    )
    return sorted(entries)


def _stamps(store, ws) -> dict[int, int]:
    with store.session() as session:
        rows = session.execute(
            sa.select(AccountSearchChange.account_id, AccountSearchChange.stamp).where(
                AccountSearchChange.workspace_id == ws
            )
        )
        return {int(a): int(s) for a, s in rows}


def test_the_columns_follow_every_kind_of_write(store, store_url, population):
    ws, other = population
    first = _same_as_stored(store, ws)
    other_engine = open_store(store_url)
    try:
        with store.session() as session:
            ids = session.scalars(
                sa.select(Account.id).where(Account.workspace_id == ws).order_by(Account.id)
            ).all()
        a, b, c, d = ids[:4]
        writes = [
            lambda s: s.execute(sa.update(Account).where(Account.id == a).values(followers=77)),
            lambda s: s.execute(
                sa.update(Creator)
                .where(
                    Creator.id
                    == sa.select(Account.creator_id).where(Account.id == b).scalar_subquery()
                )
                .values(country="Narnia", email="x@example.com")
            ),
            lambda s: s.execute(
                sa.update(AccountMetric)
                .where(AccountMetric.account_id == c, AccountMetric.metric == "er_median")
                .values(value=0.5)
            ),
            lambda s: (
                s.add(AccountQuality(workspace_id=ws, account_id=d, aqs=12.5))
                if s.get(AccountQuality, d) is None
                else s.execute(
                    sa.update(AccountQuality).where(AccountQuality.account_id == d).values(aqs=12.5)
                )
            ),
            lambda s: s.add(
                Post(workspace_id=ws, account_id=a, platform_post_id="new", posted_at=NOW)
            ),
            lambda s: Planter(s, ws).account(
                "newcomer",
                country="Narnia",
                quality=70.0,
                tier="mega",
                niches={"pets": (0.7, "model")},
            ),
            lambda s: s.execute(  # a tier changes, another scheme's goes
                sa.update(AccountTier).where(AccountTier.account_id == c).values(tier="mega")
            ),
            lambda s: s.execute(sa.delete(AccountTier).where(AccountTier.account_id == d)),
            lambda s: s.add(  # a hand correction
                AccountNiche(
                    workspace_id=ws, account_id=a, niche="gaming", confidence=1.0, source="user"
                )
            ),
            lambda s: s.execute(
                sa.update(AccountNiche).where(AccountNiche.account_id == c).values(confidence=0.99)
            ),
            lambda s: s.execute(sa.delete(AccountNiche).where(AccountNiche.account_id == d)),
            lambda s: s.execute(sa.delete(Account).where(Account.id == b)),
        ]
        for i, write in enumerate(writes):
            engine = store if i % 2 else other_engine
            with engine.transaction() as session:
                write(session)
            held = _same_as_stored(store, ws)
        assert held is not first
        assert "narnia" in held.vocab.tolist()
        assert "gaming" in held.labels.niche_vocab.tolist()
        assert "mega" in held.labels.tier_vocab.tolist()
        assert b not in held.ids.tolist() and b in _stamps(store, ws)  # a deleted one keeps it
        page = _page(store, ws, SearchQuery(country="narnia"))
        assert [row[0] for row in page[0]] == [held.ids[-1]]  # the newcomer, not the deleted
    finally:
        other_engine.dispose()
    with store.transaction() as session:  # deleting a workspace takes its stamps with it
        session.execute(sa.delete(Workspace).where(Workspace.id == other))
    assert _stamps(store, other) == {}


def test_a_write_that_changes_no_value_stamps_nothing(store, population):
    ws, _other = population
    before = _stamps(store, ws)
    with store.transaction() as session:
        session.execute(  # a re-score with the same values
            sa.update(AccountMetric)
            .where(AccountMetric.workspace_id == ws)
            .values(value=AccountMetric.value)
        )
    assert _stamps(store, ws) == before
    with store.transaction() as session:
        session.execute(
            sa.update(AccountMetric)
            .where(AccountMetric.workspace_id == ws, AccountMetric.metric == "er_median")
            .values(value=AccountMetric.value + 1)
        )
    changed = {k for k, v in _stamps(store, ws).items() if before.get(k) != v}
    with store.session() as session:
        scored = set(
            session.scalars(
                sa.select(AccountMetric.account_id).where(
                    AccountMetric.workspace_id == ws, AccountMetric.metric == "er_median"
                )
            )
        )
    assert changed == scored


def test_many_changes_read_the_workspace_again(store, population, monkeypatch):
    ws, _other = population
    _same_as_stored(store, ws)
    with store.transaction() as session:
        session.execute(sa.update(Account).where(Account.workspace_id == ws).values(followers=5))
    held = _same_as_stored(store, ws)
    assert set(held.numbers["followers"].tolist()) == {5.0}


def test_workspaces_never_see_each_others_columns(store, population):
    ws, other = population
    with store.session() as session:
        mine = columns.columns_for(session, ws)
        theirs = columns.columns_for(session, other)
        owned = set(
            session.scalars(sa.select(Account.id).where(Account.workspace_id == other)).all()
        )
    assert set(theirs.ids.tolist()) == owned
    assert not owned & set(mine.ids.tolist())
    rows, count = _page(store, other, SearchQuery(q="vegan"))
    assert count == 1 and {r[0] for r in rows} == owned
    query = dataclasses.replace(SearchQuery(), country="fr", min_followers=1000)
    rows, _count = _page(store, ws, query)
    assert not owned & {r[0] for r in rows}


def test_a_pages_niches_are_the_user_rows_else_the_models_best_first(store, population):
    """``Labels.niches_of`` (a page's niches, from the columns) against the rows, by hand."""
    ws, _other = population
    with store.session() as session:
        rows = session.execute(
            sa.select(
                AccountNiche.account_id,
                AccountNiche.niche,
                AccountNiche.confidence,
                AccountNiche.source,
            ).where(AccountNiche.workspace_id == ws)
        ).all()
        ids = session.scalars(sa.select(Account.id).where(Account.workspace_id == ws)).all()
        got = columns.columns_for(session, ws).labels.niches_of(list(ids))
    expected: dict[int, list[str]] = {}
    for account in ids:
        own = [r for r in rows if r.account_id == account]
        users = [r for r in own if r.source == "user"]
        chosen = users or [r for r in own if r.source == "model"]
        if chosen:
            ranked = sorted(chosen, key=lambda r: (-r.confidence, r.niche))
            expected[account] = [r.niche for r in ranked]
    assert got == expected
    assert any(len(v) > 1 for v in got.values())


@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"q": "vegan"},
        {"country": "fr", "niche_confidence": 0.9},
        {"niche": "fitness", "tier_scheme": "influence-co"},
        {"tier": "micro", "q": "daily yoga", "min_followers": 1000},
    ],
)
def test_facets_count_every_account_found_as_the_rows_say(store, population, asked):
    """search.facets (column_facets) against the accounts the search finds, counted by hand
    from their rows: niches as the niche filter reads them, the tier under the query's scheme,
    the country (the account's, else its creator's) upper-cased by the database."""
    ws, _other = population
    query = SearchQuery(limit=100, **asked)
    with store.session() as session:
        got = search_module.facets(session, ws, query, now=NOW)
        page = search(session, ws, query, now=NOW, with_facets=True)
        assert page.facets == got  # the page's own accounts counted, the same
        found = [r.account_id for r in page.results]
        assert page.count == len(found)  # every account on the one page
        scheme = query.tier_scheme or "mediakix"
        tiers = session.execute(
            sa.select(AccountTier.account_id, AccountTier.tier).where(
                AccountTier.scheme == scheme, AccountTier.account_id.in_(found)
            )
        ).all()
        niches = session.execute(
            sa.select(
                AccountNiche.account_id,
                AccountNiche.niche,
                AccountNiche.confidence,
                AccountNiche.source,
            ).where(AccountNiche.account_id.in_(found))
        ).all()
        places = (
            session.execute(
                sa.select(sa.func.upper(sa.func.coalesce(Account.country, Creator.country)))
                .join(Creator, Creator.id == Account.creator_id)
                .where(Account.id.in_(found))
            )
            .scalars()
            .all()
        )
    assert found
    corrected = {r.account_id for r in niches if r.source == "user"}
    counted = [
        r.niche
        for r in niches
        if r.source == "user"
        or (
            r.source == "model"
            and r.confidence >= query.niche_confidence
            and r.account_id not in corrected
        )
    ]
    assert dict(got["niche"]) == dict(Counter(counted))
    assert dict(got["tier"]) == dict(Counter(t for _a, t in tiers if t is not None))
    assert dict(got["country"]) == dict(Counter(p for p in places if p is not None))
    for facet in got.values():
        assert [n for _v, n in facet] == sorted((n for _v, n in facet), reverse=True)


def test_facets_of_many_free_text_countries_and_of_an_empty_workspace(store, monkeypatch):
    """Imported countries can be free text: more distinct values than one statement's columns
    (upper-cased in batches); an empty workspace has empty facets."""
    columns.forget()
    monkeypatch.setattr(column_facets, "UPPER_BATCH", 7)
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme").id
        empty = ensure_workspace(session, "empty").id
        p = Planter(session, ws)
        for i in range(30):
            p.account(f"a{i}", country=f"Town {i % 20}, Freedonia")
    with store.session() as session:
        got = search_module.facets(session, ws, SearchQuery(), now=NOW)
        assert search_module.facets(session, empty, SearchQuery(), now=NOW) == {
            "niche": [],
            "tier": [],
            "country": [],
        }
    assert dict(got["country"]) == {f"TOWN {i}, FREEDONIA": 2 if i < 10 else 1 for i in range(20)}
