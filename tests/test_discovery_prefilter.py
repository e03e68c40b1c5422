"""Pre-filtering of semantic search (discovery.semantic.prefiltered, VectorIndex.among): when
the filters pass few accounts, exactly the nearest of those come back — the brute-force best over
planted vectors — through the pre-filter and through the pool path alike; accounts without
vectors, the seeds of a lookalike query and other workspaces' accounts never do."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from discovery_support import NOW, Planter
from microfluence.discovery import filters, semantic, vector_index
from microfluence.discovery.embedding import DIMENSIONS
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.discovery.tables import AccountVector
from microfluence.discovery.vector_index import VectorIndex
from microfluence.discovery.vectors import from_bytes, to_bytes
from microfluence.kernel.workspaces import ensure_workspace

FR, DE, NO_VECTOR = 24, 16, 3  # acme's accounts in France (with vectors), in Germany, without


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def _brute(ids: np.ndarray, matrix: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    sims = matrix @ q
    order = np.lexsort((ids, -sims))[:k]
    return ids[order].tolist()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 60),
    picks=st.lists(st.integers(-5, 200), max_size=80),
    k=st.integers(0, 30),
    seed=st.integers(0, 2**16),
)
def test_among_is_the_brute_force_best_of_the_candidates_it_holds(n, picks, k, seed):
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(n) * 3 + 1)  # unsorted, with gaps: not row numbers
    matrix = _unit(rng.normal(size=(n, DIMENSIONS))).astype(np.float32)
    index = VectorIndex.build(ids, matrix, approximate=False)
    q = _unit(rng.normal(size=DIMENSIONS)).astype(np.float32)
    candidates = np.unique(np.asarray(picks, dtype=np.int64))
    exclude = candidates[::3]
    got, sims = index.among(q, candidates, k, exclude)
    held = np.isin(ids, candidates) & ~np.isin(ids, exclude)
    assert got.tolist() == _brute(ids[held], matrix[held], q, k)
    by_id = dict(zip(ids.tolist(), matrix @ q, strict=True))
    assert np.allclose(sims, [by_id[a] for a in got.tolist()], atol=1e-5)


def test_rows_of_skips_ids_the_index_does_not_hold_and_follows_updates():
    rng = np.random.default_rng(1)
    matrix = _unit(rng.normal(size=(5, DIMENSIONS))).astype(np.float32)
    index = VectorIndex.build(np.array([50, 10, 40, 20, 30]), matrix, approximate=False)
    rows, held = index.rows_of(np.array([60, 10, 0, 30, 35]))
    assert held.tolist() == [10, 30]
    assert np.array_equal(index.matrix[rows], matrix[[1, 4]])
    moved = _unit(rng.normal(size=(2, DIMENSIONS))).astype(np.float32)
    index.updated(np.array([25, 10]), moved)  # one new account, one changed
    assert index.ids.tolist() == [10, 20, 25, 30, 40, 50]
    rows, held = index.rows_of(np.array([10, 25]))
    assert np.array_equal(index.matrix[rows], moved[[1, 0]])
    empty = VectorIndex.build(np.zeros(0), np.zeros((0, DIMENSIONS)), approximate=False)
    assert empty.rows_of(np.array([1]))[1].size == 0
    assert empty.among(moved[0], np.array([1, 2]), 5)[0].size == 0


@pytest.fixture
def planted(store):
    """acme: a seed account and, around its vector, accounts in France and Germany at known
    similarities — the nearest of all are German, so a filter on France must reach past them —
    and French accounts without vectors; rival: French accounts nearer the seed than any of
    acme's, which acme must never see."""
    rng = np.random.default_rng(7)
    seed_vector = _unit(rng.normal(size=DIMENSIONS))
    with store.transaction() as session:
        acme = ensure_workspace(session, "acme").id
        rival = ensure_workspace(session, "rival").id
        p, r = Planter(session, acme), Planter(session, rival)
        seed = p.account("seed", country="FR").id
        fr = [p.account(f"fr{i}", country="FR").id for i in range(FR)]
        de = [p.account(f"de{i}", country="DE").id for i in range(DE)]
        for i in range(NO_VECTOR):
            p.account(f"novector{i}", country="FR")
        theirs = [r.account(f"rival{i}", country="FR").id for i in range(4)]
        rows, vectors = {}, {}

        def plant(ws: int, ids: list[int], closeness: np.ndarray) -> None:
            noise = _unit(rng.normal(size=(len(ids), DIMENSIONS)))
            planted = _unit(closeness[:, None] * seed_vector + noise).astype(np.float32)
            stored = from_bytes(to_bytes(planted))  # what the index reads: float16
            vectors.update(zip(ids, stored, strict=True))
            rows.setdefault(ws, []).extend(
                {"account_id": a, "workspace_id": ws, "model": "m", "fingerprint": "f", "vector": v}
                for a, v in zip(ids, to_bytes(planted), strict=True)
            )

        plant(acme, [seed], np.array([1e6]))
        plant(acme, fr, rng.uniform(0.2, 1.5, FR))
        plant(acme, de, rng.uniform(2.0, 4.0, DE))
        plant(rival, theirs, np.full(4, 50.0))
        for batch in rows.values():
            session.execute(insert(AccountVector), batch)
    return dict(acme=acme, rival=rival, seed=seed, fr=fr, de=de, rival_ids=theirs, vectors=vectors)


def _truth(planted: dict, among: list[int], k: int) -> list[int]:
    ids = np.array(among, dtype=np.int64)
    matrix = np.stack([planted["vectors"][a] for a in among])
    q = _unit(planted["vectors"][planted["seed"]])
    return _brute(ids, matrix, q, k)


def _search(store, planted, monkeypatch, *, cap: int, limit: int, country: str = "FR"):
    pools: list[int] = []
    nearest = semantic.nearest
    monkeypatch.setattr(semantic, "PREFILTER_CAP", cap)
    monkeypatch.setattr(
        semantic, "nearest", lambda s, w, p, pool: pools.append(pool) or nearest(s, w, p, pool)
    )
    query = SearchQuery(like=("instagram:seed",), country=country, limit=limit)
    with store.session() as session:
        page = search(session, planted["acme"], query, now=NOW)
    return page, pools


@pytest.mark.parametrize("cap", [1_000, 0], ids=["pre-filter", "pool"])
def test_a_selective_filter_gets_exactly_the_brute_force_nearest(store, planted, monkeypatch, cap):
    monkeypatch.setattr(semantic, "MIN_POOL", 1)
    monkeypatch.setattr(semantic, "OVERSAMPLE", 1)  # a pool of exactly the page
    page, pools = _search(store, planted, monkeypatch, cap=cap, limit=5)
    truth = _truth(planted, planted["fr"], 5)
    assert sorted(r.account_id for r in page.results) == sorted(truth)
    q = _unit(planted["vectors"][planted["seed"]])
    for result in page.results:
        want = float(planted["vectors"][result.account_id] @ q)
        assert result.why.similarity == pytest.approx(want, abs=1e-3)
    if cap:  # after the first pool (the Germans), the French only, all weighed: no new pool
        assert pools == [5] and page.count == 5
    else:  # the pool path grows past the Germans, nearer the seed than any French account
        assert pools[0] == 5 and len(pools) > 1 and page.count >= 5


def test_the_pre_filter_weighs_every_passing_account_with_a_vector_and_no_other(
    store, planted, monkeypatch
):
    monkeypatch.setattr(semantic, "MIN_POOL", 1)
    monkeypatch.setattr(semantic, "OVERSAMPLE", 1)
    page, pools = _search(store, planted, monkeypatch, cap=1_000, limit=30)
    got = {r.account_id for r in page.results}
    assert pools == [30] and got == set(planted["fr"])  # not the seed, vectorless, rival's
    assert page.count == FR
    with store.session() as session:
        index = vector_index.index_for(session, planted["acme"])
        rivals = np.array(planted["rival_ids"], dtype=np.int64)
        assert index.among(index.matrix[0], rivals, 10)[0].size == 0
    page, pools = _search(store, planted, monkeypatch, cap=1_000, limit=10, country="IT")
    assert (page.results, page.count, pools) == ([], 0, [10])  # none pass: no pool grows


def test_more_accounts_than_the_cap_take_the_pool_path(store, planted, monkeypatch):
    page, pools = _search(store, planted, monkeypatch, cap=FR - 1, limit=5)
    assert pools and sorted(r.account_id for r in page.results) == sorted(
        _truth(planted, planted["fr"], len(page.results))
    )
    # A filter the nearest accounts pass fills the page from the first pool: its ids are not read.
    monkeypatch.setattr(semantic, "MIN_POOL", 1)
    monkeypatch.setattr(semantic, "OVERSAMPLE", 1)
    read = []
    candidate_ids = filters.candidate_ids
    monkeypatch.setattr(
        filters, "candidate_ids", lambda *a, **k: read.append(1) or candidate_ids(*a, **k)
    )
    page, pools = _search(store, planted, monkeypatch, cap=1_000, limit=5, country="DE")
    assert read == [] and pools == [5] and len(page.results) == 5
    # No filter at all: the pool path, over every account with a vector but the seed.
    monkeypatch.setattr(semantic, "MIN_POOL", 100)
    monkeypatch.setattr(semantic, "PREFILTER_CAP", 1_000)
    asked = len(pools)
    with store.session() as session:
        page = search(session, planted["acme"], SearchQuery(like=("instagram:seed",)), now=NOW)
    assert len(pools) == asked + 1 and page.count == FR + DE
