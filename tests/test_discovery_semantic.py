"""Semantic search and lookalikes: account vectors kept current by fingerprint, lookalikes find
planted twins, a brief finds on-brief creators (captions in other languages too) planted in the
demo population, filters combine with vectors, the HNSW index keeps its measured recall, the
pgvector detection says what the server has, and workspaces never see each other's vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from discovery_support import NOW, Planter
from microfluence.demo.account_texts import synthetic_texts
from microfluence.demo.load import build_demo
from microfluence.demo.population import PopulationSpec
from microfluence.discovery import vector_index
from microfluence.discovery.embedding import embed_texts
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountVector
from microfluence.discovery.vector_index import VectorIndex
from microfluence.discovery.vectors import recompute_vectors
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Post
from microfluence.kernel.workspaces import ensure_workspace

BAKER = dict(
    bio="Vegan pastry chef in Lyon. Plant-based croissants, eggless cakes, dairy-free baking.",
    posts=[
        {"caption": "Vegan croissants, no butter, all flaky", "hashtags": ["veganbaking"]},
        {"caption": "Dairy-free chocolate cake for the weekend", "hashtags": ["plantbased"]},
    ],
)
OTHERS = {
    "gearhead": "Classic cars, engine rebuilds and track days. Horsepower every weekend.",
    "pixelqueen": "Streaming video games nightly: speedruns, RPGs and esports commentary.",
    "trailmum": "Mum of three sharing family routines, school runs and toddler meals.",
    "codecraft": "Software engineer writing about Python, databases and cloud servers.",
    "yogaflow": "Yoga teacher: breathing, stretching and mindful morning flows.",
}


def _vector_rows(store, ws_id):
    with store.session() as session:
        return dict(
            session.execute(
                select(AccountVector.account_id, AccountVector.fingerprint).where(
                    AccountVector.workspace_id == ws_id
                )
            ).all()
        )


@pytest.fixture
def twins(store):
    """Two vegan bakers (one writes in French) among unrelated creators, in workspace acme;
    workspace rival holds one more baker that acme must never see."""
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        p = Planter(session, ws.id)
        p.account("veganlyon", **BAKER, country="FR")
        p.account(
            "patisserievegetale",
            bio="Pâtisserie végétale à Lyon : croissants sans beurre, gâteaux sans œufs.",
            posts=[{"caption": "Gâteau au chocolat végan", "hashtags": ["patisserievegane"]}],
            country="FR",
        )
        for handle, bio in OTHERS.items():
            p.account(handle, bio=bio, posts=[{"caption": bio, "hashtags": [handle]}])
        rival = ensure_workspace(session, "rival")
        Planter(session, rival.id).account("rivalbaker", **BAKER)
        ids = {"acme": ws.id, "rival": rival.id}
    with store.transaction() as session:
        for ws_id in ids.values():
            recompute_vectors(session, ws_id)
    return ids


def _handles(store, ws_id, **query):
    with store.session() as session:
        page = search(session, ws_id, SearchQuery(**{"limit": 20, **query}), now=NOW)
    return page


def test_lookalikes_find_the_planted_twin_and_leave_out_the_seed(store, twins):
    page = _handles(store, twins["acme"], like=("instagram:veganlyon",))
    handles = [r.handle for r in page.results]
    assert handles[0] == "patisserievegetale"
    assert "veganlyon" not in handles and "rivalbaker" not in handles
    top = page.results[0].why
    assert top.similarity is not None and top.similarity > page.results[-1].why.similarity
    semantic = next(p for p in top.parts if p.name == "semantic")
    assert semantic.value == pytest.approx(top.similarity, abs=1e-4)
    assert page.results[0].score == pytest.approx(sum(p.contribution for p in top.parts))


def test_a_brief_finds_the_on_brief_creators_first(store, twins):
    page = _handles(store, twins["acme"], q="plant-based pastry and eggless cakes", semantic=True)
    assert {r.handle for r in page.results[:2]} == {"veganlyon", "patisserievegetale"}
    assert page.query["semantic"] is True
    # The brief's words are not a keyword filter: accounts without them are ranked too.
    assert len(page.results) == 7


def test_filters_combine_with_the_vectors(store, twins):
    page = _handles(store, twins["acme"], q="vegan baking", semantic=True, country="FR")
    assert {r.handle for r in page.results} == {"veganlyon", "patisserievegetale"}
    page = _handles(store, twins["acme"], like=("instagram:veganlyon",), country="FR")
    assert [r.handle for r in page.results] == ["patisserievegetale"]


def test_only_changed_accounts_are_embedded_again(store, twins):
    acme = twins["acme"]
    before = _vector_rows(store, acme)
    with store.transaction() as session:
        assert recompute_vectors(session, acme).embedded == 0
        session.execute(
            update(Account)
            .where(Account.workspace_id == acme, Account.handle == "gearhead")
            .values(bio="Now a vegan pastry chef: croissants and cakes without butter.")
        )
        run = recompute_vectors(session, acme)
    assert (run.embedded, run.unchanged) == (1, 6)
    after = _vector_rows(store, acme)
    changed = {a for a in after if after[a] != before[a]}
    assert len(changed) == 1
    page = _handles(store, acme, like=("instagram:veganlyon",), limit=3)
    assert "gearhead" in [r.handle for r in page.results[:3]]


def test_lookalikes_of_another_workspace_are_not_found(store, twins):
    with pytest.raises(NotFoundError):
        _handles(store, twins["acme"], like=("instagram:rivalbaker",))
    rival = _handles(store, twins["rival"], q="vegan croissants", semantic=True)
    assert [r.handle for r in rival.results] == ["rivalbaker"]


def test_bad_semantic_queries_are_refused_with_the_field(store, twins):
    for bad in (
        dict(semantic=True),
        dict(like="instagram:veganlyon"),
        dict(like=("x",) * 21),
        dict(like=("",)),
    ):
        with pytest.raises(InputError) as err:
            SearchQuery(**bad)
        assert err.value.field in ("q", "like")
    with store.transaction() as session:
        fresh = Planter(session, twins["acme"]).account("novector", bio="new")
        assert fresh.id
    with pytest.raises(InputError, match="no vector yet"):
        _handles(store, twins["acme"], like=("instagram:novector",))


def test_saved_search_round_trip_keeps_the_semantic_parameters():
    q = SearchQuery(q="vegan", semantic=True, like=["instagram:a", "instagram:a"], country="FR")
    again = SearchQuery.from_dict(q.to_dict())
    assert again == q and again.like == ("instagram:a",)


def test_pgvector_detection_says_what_the_server_has(store):
    with store.session() as session:
        dialect = session.get_bind().dialect.name
        backend = vector_index.backend(session)
        if dialect == "postgresql":
            available = session.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            ).scalar_one()
            assert backend == ("pgvector" if available else "in-process")
        else:
            assert backend == "in-process"


def test_hnsw_keeps_its_measured_recall():
    vectors = embed_texts(synthetic_texts(4_000))
    ids = np.arange(1, len(vectors) + 1) * 3
    exact = VectorIndex.build(ids, vectors, approximate=False)
    approximate = VectorIndex.build(ids, vectors, approximate=True)
    assert approximate.approximate and not exact.approximate
    queries = embed_texts(synthetic_texts(100, seed=11))
    hits = 0
    for q in queries:
        truth, _ = exact.nearest(q, 10)
        found, sims = approximate.nearest(q, 10)
        hits += len(set(truth) & set(found))
        assert np.all(np.diff(sims) <= 1e-6)
    assert hits / (10 * len(queries)) >= 0.95
    assert VectorIndex.build(ids[:100], vectors[:100]).approximate is False


ON_BRIEF = {
    "lyonveganbakes": BAKER,
    # Creators who write in German or Spanish, with the English hashtags such creators use.
    "backstubevegan": dict(
        bio="Vegane Konditorei in Berlin: Kuchen ohne Eier, Croissants ohne Butter.",
        posts=[
            {"caption": "Veganer Schokoladenkuchen", "hashtags": ["vegan", "veganbaking"]},
            {"caption": "Croissants ohne Butter", "hashtags": ["plantbased", "pastry"]},
        ],
    ),
    "reposteriavegana": dict(
        bio="Repostería vegana en Madrid: pasteles sin huevo ni lácteos.",
        posts=[
            {"caption": "Tarta de chocolate vegana", "hashtags": ["vegan", "dairyfree"]},
            {"caption": "Cruasanes sin mantequilla", "hashtags": ["veganbaking", "cake"]},
        ],
    ),
}


@pytest.fixture
def demo_with_bakers(sqlite_store):
    """A small demo population (every niche's creators, captions and hashtags) with three
    on-brief vegan bakers planted in it, vectors computed by the demo build and the recompute."""
    store = sqlite_store
    spec = PopulationSpec(n_creators=40, seed=5, posts_scale=0.5, sample_share=0.0)
    build_demo(store, spec, workspace="acme")
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        assert session.scalar(select(Post.id).where(Post.workspace_id == ws.id).limit(1))
        p = Planter(session, ws.id)
        for handle, content in ON_BRIEF.items():
            p.account(handle, **content)
        run = recompute_vectors(session, ws.id)
    assert run.embedded == len(ON_BRIEF) and run.unchanged > 40
    return store, ws.id


def test_semantic_search_finds_bakers_planted_in_the_demo_population(demo_with_bakers):
    store, ws_id = demo_with_bakers
    brief = "vegan pastry chef: cakes without eggs or butter"
    page = _handles(store, ws_id, q=brief, semantic=True)
    handles = [r.handle for r in page.results]
    assert handles[0] == "lyonveganbakes" and set(ON_BRIEF) <= set(handles)
    last = max(handles.index(h) for h in ON_BRIEF)
    # Above the last planted baker: bakers and the demo's food creators only (the demo's food
    # captions are near the brief too); every other niche ranks below them.
    above = page.results[:last]
    assert all(r.handle in ON_BRIEF or "food_drink" in r.why.niches for r in above)
    assert last < 10 and page.count > 40


def test_the_index_follows_a_recompute_without_a_rebuild(store, twins):
    acme = twins["acme"]
    with store.session() as session:
        before = vector_index.index_for(session, acme)
    with store.transaction() as session:
        session.execute(
            update(Account)
            .where(Account.workspace_id == acme, Account.handle == "codecraft")
            .values(bio="Vegan croissants and eggless cakes, plant-based pastry every day.")
        )
        recompute_vectors(session, acme)
    with store.session() as session:
        after = vector_index.index_for(session, acme)
        page = search(session, acme, SearchQuery(like=("instagram:veganlyon",), limit=2), now=NOW)
    assert after is before and len(after) == 7 and len(set(after.ids.tolist())) == 7
    assert "codecraft" in [r.handle for r in page.results]


def test_an_hnsw_index_is_updated_in_place():
    vectors = embed_texts(synthetic_texts(600, seed=3))
    index = VectorIndex.build(np.arange(500), vectors[:500], approximate=True)
    moved = vectors[500:510]
    index.updated(np.arange(10), moved)  # ten accounts' texts changed
    index.updated(np.arange(500, 590), vectors[510:600])  # ninety new accounts
    assert len(index) == 590 and len(index.graph) == 590
    for i in range(10):
        ids, _ = index.nearest(moved[i], 1)
        assert ids[0] == i


def test_cli_recomputes_vectors_with_the_niches_and_searches_by_meaning(
    store, store_url, monkeypatch
):
    from typer.testing import CliRunner

    from microfluence.cli.main import app
    from microfluence.kernel import console
    from store_support import flat

    monkeypatch.setattr(console.console, "_width", 250)
    monkeypatch.setattr(console.err_console, "_width", 250)

    with store.transaction() as session:
        p = Planter(session, ensure_workspace(session, "acme").id)
        p.account("veganbaker", **BAKER)
        for handle, bio in OTHERS.items():
            p.account(handle, bio=bio)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "-w", "acme", "--database-url", store_url])
        return result.exit_code, flat(result.output)

    code, out = run("niches")
    assert code == 0 and "6 account vectors embedded" in out, out
    code, out = run("search", "eggless cakes and croissants", "--semantic", "--limit", "2")
    assert code == 0 and "instagram:veganbaker" in out and "similarity" in out, out
    code, out = run("search", "eggless cakes and croissants", "--semantic", "--json")
    assert code == 0 and json.loads(out)["results"][0]["handle"] == "veganbaker"
    code, out = run("search", "--like", "instagram:yogaflow", "--json")
    page = json.loads(out)
    assert code == 0 and page["query"]["like"] == ["instagram:yogaflow"]
    assert "yogaflow" not in [r["handle"] for r in page["results"]] and page["results"]
    code, out = run("search", "--like", "instagram:nobody")
    assert code == 1 and "nobody" in out


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(brief=st.text(max_size=80), ref=st.text(max_size=40))
def test_hostile_briefs_and_references_get_clear_errors(sqlite_store, brief, ref):
    with sqlite_store.session() as session:
        ws = ensure_workspace(session, "acme")
        for query in (dict(q=brief, semantic=True), dict(like=(ref,))):
            try:
                search(session, ws.id, SearchQuery(**query), now=NOW)
            except (InputError, NotFoundError) as err:
                assert str(err)


def test_the_pool_grows_by_the_pass_rate_until_the_page_is_full(store, twins, monkeypatch):
    from microfluence.discovery import semantic

    assert semantic.next_pool(100, 0, 20) == 800
    assert semantic.next_pool(100, 5, 20) == 600  # 1.5 · 20 / (5 / 100)
    assert semantic.next_pool(100, 90, 20) == 200  # at least twice the last
    monkeypatch.setattr(semantic, "MIN_POOL", 1)
    monkeypatch.setattr(semantic, "OVERSAMPLE", 1)
    monkeypatch.setattr(semantic, "PREFILTER_CAP", 0)  # the pool path, whatever passes
    pools = []
    nearest = semantic.nearest
    monkeypatch.setattr(
        semantic, "nearest", lambda s, w, p, pool: pools.append(pool) or nearest(s, w, p, pool)
    )
    page = _handles(store, twins["acme"], q="engines and track days", semantic=True, limit=2)
    assert pools == [2]
    page = _handles(
        store, twins["acme"], q="engines and track days", semantic=True, country="FR", limit=2
    )
    assert {r.handle for r in page.results} == {"veganlyon", "patisserievegetale"}
    assert pools[1] == 2 and len(pools) > 2 and pools == sorted(pools)
