"""Search: every filter exactly (boundaries inclusive), keyword ranking on crafted cases, the
index kept current by imports and edits, the ranking's explanations adding up, hostile queries."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from discovery_support import NICHES, NOW, Planter
from microfluence.discovery import filters
from microfluence.discovery.query import SearchQuery, Weights
from microfluence.discovery.search import resolve_scheme, search
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Post
from microfluence.kernel.workspaces import ensure_workspace

FILLER = "morning coffee walk sunset city friends weekend photo".split()


def handles(store, ws_id, **query):
    with store.session() as session:
        page = search(session, ws_id, SearchQuery(limit=100, **query), now=NOW)
    return [r.handle for r in page.results]


def _filler(p: Planter, n: int = 12) -> None:
    """Accounts that match no query word, so that words are rare and BM25's IDF positive."""
    for i in range(n):
        p.account(
            f"filler{i}",
            bio=f"{FILLER[i % 8]} {FILLER[(i + 3) % 8]}",
            posts=[{"caption": f"{FILLER[(i + 1) % 8]} day", "hashtags": ["daily"]}],
        )


@pytest.fixture
def crafted(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        p.account(
            "low",
            followers=999,
            er=0.0199,
            quality=59.9,
            tier="nano",
            country="FR",
            language="fr",
            email=" ",
            posts=[{"caption": "old", "posted_at": NOW - dt.timedelta(days=31)}],
            niches={"fitness": (0.49, "model")},
        )
        p.account(
            "edge",
            followers=1000,
            er=0.02,
            quality=60.0,
            tier="micro",
            country="fr",
            language="FR",
            email="edge@example.com",
            posts=[{"caption": "recent", "posted_at": NOW - dt.timedelta(days=30)}],
            niches={"fitness": (0.5, "model")},
        )
        p.account(
            "high",
            platform="tiktok",
            followers=50_000,
            er=0.05,
            quality=90.0,
            tier="mid",
            country="DE",
            creator_email="high@example.com",
            niches={"fitness": (0.99, "model"), "travel": (1.0, "user")},
        )
        p.account("unknown", followers=None, niches={"pets": (0.9, "model")})
        other = ensure_workspace(session, "other")
        Planter(session, other.id).account(
            "edge", followers=1000, er=0.02, quality=99, niches={"fitness": (1.0, "user")}
        )
    return ws.id


def test_follower_range_is_inclusive_and_unknown_is_out(store, crafted):
    assert set(handles(store, crafted, min_followers=1000, max_followers=50_000)) == {
        "edge",
        "high",
    }
    assert set(handles(store, crafted, max_followers=999)) == {"low"}
    assert set(handles(store, crafted, min_followers=1001)) == {"high"}


def test_engagement_and_quality_filters(store, crafted):
    assert set(handles(store, crafted, min_er=0.02)) == {"edge", "high"}
    assert set(handles(store, crafted, min_er=0.02, max_er=0.02)) == {"edge"}
    assert set(handles(store, crafted, max_er=0.0199)) == {"low"}
    assert set(handles(store, crafted, min_quality=60)) == {"edge", "high"}
    assert set(handles(store, crafted, min_quality=90.01)) == set()


def test_platform_tier_country_language_email(store, crafted):
    assert handles(store, crafted, platform="tiktok") == ["high"]
    assert handles(store, crafted, tier="micro") == ["edge"]
    assert set(handles(store, crafted, country="fr")) == {"low", "edge"}
    assert set(handles(store, crafted, language="fr")) == {"low", "edge"}
    assert set(handles(store, crafted, has_email=True)) == {"edge", "high"}
    assert set(handles(store, crafted, has_email=False)) == {"low", "unknown"}


def test_posted_within_days_counts_the_boundary(store, crafted):
    assert handles(store, crafted, posted_within_days=30) == ["edge"]
    assert set(handles(store, crafted, posted_within_days=31)) == {"low", "edge"}


def test_niche_reads_user_rows_first_then_model_rows_above_the_confidence(store, crafted):
    # high has a user row (travel): its model rows (fitness 0.99) no longer count.
    assert handles(store, crafted, niche="fitness") == ["edge"]
    assert set(handles(store, crafted, niche="fitness", niche_confidence=0.4)) == {"low", "edge"}
    assert handles(store, crafted, niche="travel") == ["high"]
    assert handles(store, crafted, niche="pets") == ["unknown"]
    for niche in NICHES:
        handles(store, crafted, niche=niche)


def test_candidate_ids_are_the_filters_accounts_or_none_past_the_cap(store, crafted):
    """filters.candidate_ids gives what search's filters pass (ids, sorted), and None past
    its cap; the other workspace's "edge" is never among them."""
    cases = [
        {"country": "fr"},
        {"min_followers": 1000},
        {"niche": "fitness", "niche_confidence": 0.4},
        {"platform": "tiktok", "has_email": True},
        {"tier": "micro"},
        {"posted_within_days": 30},
        {},
    ]
    with store.session() as session:
        scheme = resolve_scheme(session, crafted, None)[0]
        for filters_asked in cases:
            query = SearchQuery(limit=100, **filters_asked)
            page = search(session, crafted, query, now=NOW)
            expected = sorted(r.account_id for r in page.results)
            ids = filters.candidate_ids(session, crafted, query, scheme, NOW, cap=10)
            assert ids is not None and ids.tolist() == expected, filters_asked
            if expected:
                exactly = filters.candidate_ids(
                    session, crafted, query, scheme, NOW, cap=len(expected)
                )
                assert exactly is not None and exactly.tolist() == expected
                too_few = len(expected) - 1
                assert (
                    filters.candidate_ids(session, crafted, query, scheme, NOW, cap=too_few) is None
                )


def test_bad_filters_are_named(store, crafted):
    for bad, field in [
        ({"min_followers": 10, "max_followers": 5}, "min_followers"),
        ({"platform": "myspace"}, "platform"),
        ({"min_quality": 101}, "min_quality"),
        ({"niche": "Fit ness"}, "niche"),
        ({"limit": 0}, "limit"),
    ]:
        with pytest.raises(InputError) as err:
            SearchQuery(**bad)
        assert err.value.field == field
    with store.session() as session, pytest.raises(InputError) as err:
        search(session, crafted, SearchQuery(tier="giant"))
    assert err.value.field == "tier"


@pytest.fixture
def texts(store):
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        _filler(p)
        p.account("kettlebellkate", bio="coach")
        p.account("manyposts", posts=[{"caption": f"kettlebell session {i}"} for i in range(6)])
        p.account("onepost", posts=[{"caption": "a kettlebell once"}, {"caption": "lunch"}])
        p.account("tagged", posts=[{"caption": "workout", "hashtags": ["swingfit", "gym"]}])
        p.account("german", bio="Trainerin", posts=[{"caption": "Frühstück nach dem Training"}])
    return ws.id


def test_keyword_ranking_on_crafted_cases(store, texts):
    found = handles(store, texts, q="kettlebell")
    # the handle (weighted 10, the profile x3) first, then six captions, then one
    assert found == ["kettlebellkate", "manyposts", "onepost"]
    assert handles(store, texts, q="#swingfit") == ["tagged"]
    assert handles(store, texts, q="frühstück") == ["german"]


def test_explanations_name_the_words_and_add_up(store, texts):
    with store.session() as session:
        page = search(
            session, texts, SearchQuery(q="kettlebell coach", prefer_tier="micro"), now=NOW
        )
    kate = page.results[0]
    assert kate.handle == "kettlebellkate"
    assert kate.why.matched == {"handle": ["kettlebell"], "bio": ["coach"]}
    many = next(r for r in page.results if r.handle == "manyposts")
    assert many.why.posts["caption"] == {"kettlebell": 6}
    for r in page.results:
        assert sum(p.contribution for p in r.why.parts) == pytest.approx(r.score)
        assert {p.name for p in r.why.parts} == {"relevance", "engagement", "authenticity", "tier"}


def test_weights_are_settable_per_query(store, crafted):
    only_quality = Weights(relevance=0, engagement=0, authenticity=1, tier=0)
    assert handles(store, crafted, weights=only_quality)[:2] == ["high", "edge"]
    with pytest.raises(InputError):
        Weights.parse("relevance=x")
    assert Weights.parse("engagement=1, tier=0").engagement == 1


def test_the_index_follows_inserts_edits_and_deletes(store, texts):
    with store.transaction() as session:
        Planter(session, texts).account("newcomer", posts=[{"caption": "zumba party"}])
    assert handles(store, texts, q="zumba") == ["newcomer"]
    with store.transaction() as session:
        session.execute(
            update(Account).where(Account.handle == "german").values(bio="Yogalehrerin")
        )
        session.execute(update(Post).where(Post.caption == "zumba party").values(caption="salsa"))
    assert handles(store, texts, q="yogalehrerin") == ["german"]
    assert handles(store, texts, q="trainerin") == []
    assert handles(store, texts, q="zumba") == []
    with store.transaction() as session:
        session.query(Account).filter(Account.handle == "newcomer").delete()
    assert handles(store, texts, q="salsa") == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=60)
    | st.sampled_from(
        ['"', "*", "NEAR", "a:b", "(", "'", "-x", "^", "OR AND", "\\", "col : x", "&|!<->"]
    )
)
def test_hostile_queries_never_break_the_engine(store, texts, q):
    try:
        handles(store, texts, q=q)
    except InputError as err:
        assert err.field == "q"


def test_facets_count_the_whole_result(store, crafted):
    from microfluence.discovery.search import facets

    with store.session() as session:
        all_ = facets(session, crafted, SearchQuery())
        fr = facets(session, crafted, SearchQuery(country="FR"))
    assert dict(all_["country"]) == {"FR": 2, "DE": 1}
    assert dict(all_["niche"]) == {"travel": 1, "fitness": 1, "pets": 1}
    assert dict(all_["tier"]) == {"nano": 1, "micro": 1, "mid": 1}
    assert dict(fr["niche"]) == {"fitness": 1}


def test_search_plans_for_its_values_in_its_own_transaction(pg_server):
    """PostgreSQL: a search's transaction plans every query for its own values and without
    parallel workers (search.search_plans); the connection's next transaction is back to the
    server's settings, so the app's other statements keep their plans."""
    name = "search_plans_check"
    pg_server.create_database(name, template="template_microfluence")
    store = open_store(pg_server.url(name))
    try:
        with store.transaction() as session:
            ws = ensure_workspace(session, "acme").id
            Planter(session, ws).account("vegan_lyon", bio="vegan baker", followers=5_000)
        show = {
            "plan_cache_mode": sa.text("SHOW plan_cache_mode"),
            "workers": sa.text("SHOW max_parallel_workers_per_gather"),
        }
        with store.session() as session:
            before = {k: session.execute(q).scalar() for k, q in show.items()}
            session.commit()
            page = search(session, ws, SearchQuery(q="vegan", min_followers=1_000), now=NOW)
            assert [r.handle for r in page.results] == ["vegan_lyon"]
            during = {k: session.execute(q).scalar() for k, q in show.items()}
            session.commit()
            after = {k: session.execute(q).scalar() for k, q in show.items()}
        assert during == {"plan_cache_mode": "force_custom_plan", "workers": "0"}
        assert before == after == {"plan_cache_mode": "auto", "workers": "2"}
    finally:
        store.dispose()
        pg_server.drop_database(name)
