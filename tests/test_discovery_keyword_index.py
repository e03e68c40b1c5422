"""The in-process keyword index (discovery.term_index, keyword_plan): BM25 scores equal to a
computation by hand on crafted accounts, filters + keyword exact, the two plans (filters drive,
words drive) agreeing, the index following inserts, edits and deletes made through this
engine or another one, hostile queries, and workspaces kept apart (also in the cache)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from discovery_support import NOW, Planter
from microfluence.discovery import keyword_plan, term_index, terms
from microfluence.discovery import search as search_module
from microfluence.discovery.query import SearchQuery
from microfluence.discovery.search import search
from microfluence.kernel.errors import InputError
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Post, Workspace
from microfluence.kernel.workspaces import ensure_workspace

FIELDS = {"handle": 30.0, "name": 15.0, "bio": 6.0, "posts": 1.0}  # 3 · (10, 5, 2), and 1


def _words(text: str | None) -> list[str]:
    """Words as the documentation says: runs of letters and digits, lower case, folded."""
    out = []
    for word in re.findall(r"[^\W_]+", (text or "").lower()):
        decomposed = unicodedata.normalize("NFKD", word)
        out += re.findall(
            r"[^\W_]+", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    return out


def bm25_by_hand(docs: dict[str, dict[str, str]], query: list[str]) -> dict[str, float]:
    """raw = Σ idf · tf (k1 + 1) / (tf + k1 (1 − b + b dl / avgdl)) over weighted fields, with
    the handle prefix match — written out from docs/discovery.md, independently of the code."""
    tf: dict[str, Counter] = {}
    handle_words: dict[str, Counter] = {}
    for key, doc in docs.items():
        counts: Counter = Counter()
        for field, weight in FIELDS.items():
            for word in _words(doc.get(field)):
                counts[word] += weight
        tf[key] = counts
        handle_words[key] = Counter(_words(doc.get("handle")))
    n_docs = len(docs)
    avgdl = sum(sum(c.values()) for c in tf.values()) / n_docs
    raw = dict.fromkeys(docs, 0.0)
    for q in query:
        per_doc = {}
        for key in docs:
            t = tf[key][q]
            if len(q) >= 3:
                t += sum(
                    30.0 * n for w, n in handle_words[key].items() if w != q and w.startswith(q)
                )
            if t:
                per_doc[key] = t
        idf = math.log(1 + (n_docs - len(per_doc) + 0.5) / (len(per_doc) + 0.5))
        for key, t in per_doc.items():
            dl = sum(tf[key].values())
            raw[key] += idf * t * 2.2 / (t + 1.2 * (0.25 + 0.75 * dl / avgdl))
    return {k: v for k, v in raw.items() if v > 0}


DOCS = {
    "kettlebellkate": {"bio": "Coach in Köln", "posts": "swing day kettlebell"},
    "manyposts": {"posts": " ".join(f"kettlebell session {i}" for i in range(6))},
    "veganlyon": {"name": "Vegan Lyon", "bio": "pâtisserie végane", "posts": "croissant vegan"},
    "runner_de": {"bio": "Läuferin aus Berlin", "posts": "marathon training vegan fuel"},
    "plain": {"bio": "morning coffee", "posts": "sunset walk"},
    "fruhstuck": {"posts": "Frühstück Brötchen"},
}
COUNTRIES = {"kettlebellkate": "DE", "runner_de": "DE", "veganlyon": "FR"}
FOLLOWERS = {"kettlebellkate": 5_000, "manyposts": 50_000, "veganlyon": 12_000}


def _plant(session, ws_id: int, docs=DOCS) -> dict[str, int]:
    p = Planter(session, ws_id)
    ids = {}
    for handle, doc in docs.items():
        posts = [{"caption": c, "hashtags": ["daily"]} for c in doc.get("posts", "").split(" ; ")]
        ids[handle] = p.account(
            handle,
            name=doc.get("name"),
            bio=doc.get("bio"),
            posts=posts,
            country=COUNTRIES.get(handle),
            followers=FOLLOWERS.get(handle, 1_000),
        ).id
    return ids


def _expected_docs(docs=DOCS) -> dict[str, dict[str, str]]:
    return {
        h: {
            "handle": h,
            **{k: v for k, v in d.items() if k != "posts"},
            "posts": d.get("posts", "") + " daily",
        }
        for h, d in docs.items()
    }


@pytest.fixture
def planted(store):
    term_index.forget()
    with store.transaction() as session:
        ws = ensure_workspace(session, "acme")
        ids = _plant(session, ws.id)
        other = ensure_workspace(session, "other")
        Planter(session, other.id).account(
            "kettlebellking", bio="kettlebell vegan", posts=[{"caption": "kettlebell"}]
        )
    return ws.id, ids, other.id


def _page(store, ws_id, **query):
    with store.session() as session:
        return search(session, ws_id, SearchQuery(limit=100, **query), now=NOW)


def _raw(store, ws_id, q):
    with store.session() as session:
        index = term_index.index_for(session, ws_id)
        ids, raw = index.scores(terms.query_terms(q.split()))
    return dict(zip(ids.tolist(), raw.tolist(), strict=True))


@pytest.mark.parametrize(
    "q",
    ["kettlebell", "vegan", "vegan kettlebell coach", "fruhstuck", "kettle", "patisserie", "zzz"],
)
def test_scores_are_bm25_as_documented(store, planted, q):
    ws, ids, _other = planted
    expected = bm25_by_hand(_expected_docs(), q.split())
    got = _raw(store, ws, q)
    assert {h: got[ids[h]] for h in expected} == pytest.approx(expected, rel=1e-5)
    assert set(got) == {ids[h] for h in expected}


def test_keyword_and_filters_are_exact_and_ranked_by_the_blend(store, planted):
    ws, ids, _other = planted
    by_hand = bm25_by_hand(_expected_docs(), ["vegan"])
    page = _page(store, ws, q="vegan", country="de")
    assert [r.handle for r in page.results] == ["runner_de"]
    page = _page(store, ws, q="vegan")
    assert {r.handle for r in page.results} == set(by_hand) == {"veganlyon", "runner_de"}
    top = max(by_hand.values())
    for r in page.results:
        relevance = next(p for p in r.why.parts if p.name == "relevance")
        assert relevance.value == pytest.approx(by_hand[r.handle] / top, rel=1e-5)
    page = _page(store, ws, q="kettlebell", min_followers=10_000)
    assert [r.handle for r in page.results] == ["manyposts"]
    assert page.count == 1


@pytest.mark.parametrize(
    "asked",
    [
        {"q": "vegan"},
        {"q": "kettlebell", "country": "de"},
        {"q": "daily", "min_followers": 1000, "max_followers": 12_000},
        {"q": "daily", "limit": 2},
        {"q": "daily", "limit": 2, "offset": 2},
        {"q": "daily", "country": "de", "limit": 1},
        {"q": "daily", "min_followers": 5_000, "limit": 2},
    ],
)
def test_filters_driven_and_words_driven_plans_agree(store, planted, monkeypatch, asked):
    ws, _ids, _other = planted
    query = {"limit": 100, **asked}

    def run():
        with store.session() as session:
            page = search(session, ws, SearchQuery(**query), now=NOW)
        return [(r.handle, round(r.score, 9)) for r in page.results], page.count

    by_filters = run()
    monkeypatch.setattr(keyword_plan, "CANDIDATE_CAP", 0)  # the filters "pass too many"
    by_words = run()
    assert by_words == by_filters  # the same page and count: both exact
    assert by_filters[0]


def test_a_search_reads_the_tier_scheme_once(store, planted, monkeypatch):
    """The tier scheme (a settings read) is resolved once per search, the words driving."""
    ws, _ids, _other = planted
    reads = []
    real = search_module.settings_of

    def counted(ws):  # type: ignore[no-untyped-def]
        reads.append(ws.id)
        return real(ws)

    monkeypatch.setattr(search_module, "settings_of", counted)
    monkeypatch.setattr(keyword_plan, "CANDIDATE_CAP", 0)  # the words drive
    with store.session() as session:
        query = SearchQuery(q="daily", min_followers=10_000, limit=2)
        page = search(session, ws, query, now=NOW)
    assert {r.handle for r in page.results} == {"manyposts", "veganlyon"}
    assert len(reads) == 1


def test_the_index_follows_writes_from_this_engine_and_another(store, store_url, planted):
    ws, ids, _other = planted
    assert [r.handle for r in _page(store, ws, q="zumba").results] == []
    other_engine = open_store(store_url)
    try:
        with other_engine.transaction() as session:  # a second engine writes
            Planter(session, ws).account("newcomer", posts=[{"caption": "zumba party"}])
            session.execute(
                update(Account).where(Account.id == ids["plain"]).values(bio="Zumba teacher")
            )
        assert [r.handle for r in _page(store, ws, q="zumba").results] == ["plain", "newcomer"]
        assert len(_cached(store, ws).blocks) == 2  # an overlay, no rebuild
        with store.transaction() as session:  # this engine writes; the other one searches
            session.execute(
                update(Post).where(Post.caption == "zumba party").values(caption="salsa night")
            )
            session.execute(
                update(Post).where(Post.account_id == ids["veganlyon"]).values(hashtags=["zumba"])
            )
        page = _page(other_engine, ws, q="zumba")
        assert [r.handle for r in page.results] == ["plain", "veganlyon"]
        assert page.results[1].why.posts["hashtags"] == {"zumba": 1}
        with other_engine.transaction() as session:
            session.execute(delete(Account).where(Account.handle == "plain"))
            session.execute(delete(Post).where(Post.account_id == ids["veganlyon"]))
        assert [r.handle for r in _page(store, ws, q="zumba").results] == []
        assert [r.handle for r in _page(store, ws, q="salsa").results] == ["newcomer"]
        assert {r.handle for r in _page(store, ws, q="vegan").results} == {"veganlyon", "runner_de"}
        docs, now_ids = _docs_now(store, ws)
        for q in ("vegan", "zumba salsa", "kettlebell"):
            by_hand = bm25_by_hand(docs, q.split())
            assert _raw(store, ws, q) == pytest.approx({now_ids[h]: v for h, v in by_hand.items()})
    finally:
        other_engine.dispose()


def _docs_now(store, ws) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Every account's document read back from the store, and its id, keyed by its handle."""
    with store.session() as session:
        accounts = session.scalars(select(Account).where(Account.workspace_id == ws)).all()
        out, ids = {}, {}
        for a in accounts:
            posts = session.scalars(select(Post).where(Post.account_id == a.id)).all()
            text = " ".join(f"{p.caption or ''} {' '.join(p.hashtags or [])}" for p in posts)
            out[a.handle] = {
                "handle": a.handle,
                "name": a.display_name,
                "bio": a.bio,
                "posts": text,
            }
            ids[a.handle] = a.id
    return out, ids


def _cached(store, ws) -> term_index.TermIndex:
    with store.session() as session:
        index = term_index.cached(session, ws)
    assert index is not None
    return index


def test_many_changes_rebuild_the_index(store, planted, monkeypatch):
    ws, ids, _other = planted
    _page(store, ws, q="vegan")
    monkeypatch.setattr(term_index, "OVERLAY_FLOOR", 0)
    with store.transaction() as session:
        session.execute(update(Account).where(Account.workspace_id == ws).values(bio="yoga"))
    assert {r.handle for r in _page(store, ws, q="yoga").results} == set(DOCS)
    assert len(_cached(store, ws).blocks) == 1  # rebuilt whole


def test_workspaces_never_see_each_other(store, planted):
    ws, ids, other = planted
    for q in ("kettlebell", "vegan", "kettle"):
        assert "kettlebellking" not in {r.handle for r in _page(store, ws, q=q).results}
    assert [r.handle for r in _page(store, other, q="kettlebell").results] == ["kettlebellking"]
    with store.transaction() as session:  # a write in one workspace leaves the other's as it is
        Planter(session, other).account("kettlebellqueen", bio="kettlebell")
    assert "kettlebellqueen" not in {r.handle for r in _page(store, ws, q="kettlebell").results}
    assert {r.handle for r in _page(store, other, q="kettlebell").results} == {
        "kettlebellking",
        "kettlebellqueen",
    }
    with store.transaction() as session:  # deleting a workspace is not stopped by its stamps
        session.execute(delete(Workspace).where(Workspace.id == other))
    assert [r.handle for r in _page(store, ws, q="kettlebell").results][:1] == ["kettlebellkate"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=20), max_size=14))
def test_hostile_words_never_break_the_index(store, planted, words):
    ws, _ids, _other = planted
    with store.session() as session:
        index = term_index.index_for(session, ws)
        found, raw = index.scores(terms.query_terms(words))
        assert np.all(np.isfinite(raw)) and np.all(raw > 0)
        assert len(set(found.tolist())) == len(found)
        try:
            search(session, ws, SearchQuery(q=" ".join(words)), now=NOW)
        except InputError as err:
            assert err.field == "q"


@settings(max_examples=200, deadline=None)
@given(
    # characters of Python's Unicode tables (14.0 for 3.11; Polars' may be newer)
    st.text(st.characters(exclude_categories=("Cn", "Cs")), max_size=80)
    | st.sampled_from(
        [
            "Frühstück fit² ＦＵＬＬ Ⓐbc ΟΔΟΣ e\u0301te",
            "ﬁt 😀_x",
            "vegan😍bakes ✨ in Lyon",  # emoji past U+FFFF cut words (the BMP-only pattern)
            "𝐁old 🅰bc 𐐀deseret 😍",  # letters past U+FFFF: the whole pattern
            "mañana_CAFÉ 12h",
        ]
    )
)
def test_query_words_are_cut_as_the_documents_are(text):
    """A query's words (Python) and a document's (Polars) are cut and folded alike (for the
    characters Python's Unicode tables know)."""
    frame = pl.DataFrame(
        {"id": [1], "handle": [""], "name": [None], "bio": [text], "posts": [None]},
        schema={
            "id": pl.Int64,
            "handle": pl.String,
            "name": pl.String,
            "bio": pl.String,
            "posts": pl.String,
        },
    )
    assert set(terms.count(frame).vocab.tolist()) == set(terms.words_of(text))


def _post_hits_by_hand(posts, words):
    """account → field → query word → posts whose field has the word: a post's text cut and
    folded one post at a time in Python (``terms.words_of``, the query's own cutting, checked
    against the documents' Polars cutting above), each query word's own terms."""
    out: dict = {}
    for account, caption, tags in posts:
        for field, text in (("caption", caption), ("hashtags", tags)):
            have = set(terms.words_of(text))
            for word in dict.fromkeys(words):
                if set(terms.words_of(word)) & have:
                    counts = out.setdefault(account, {}).setdefault(field, {})
                    counts[word] = counts.get(word, 0) + 1
    return out


_TEXT = st.text(st.characters(exclude_categories=("Cn", "Cs")), max_size=40) | st.sampled_from(
    ["Frühstück #vegan 💛", "VEGAN_baker vegan", "ﬁt fit² e\u0301te ete", "Ⓐbc #abc"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3), st.none() | _TEXT, st.none() | _TEXT), max_size=8),
    st.lists(
        st.sampled_from(["vegan", "fruhstuck", "Frühstück", "fit", "ete", "abc", "baker"])
        | st.text(max_size=8),
        min_size=1,
        max_size=4,
    ),
)
def test_a_pages_post_hits_count_posts_as_documented(posts, words):
    """The page's explanations (terms.post_hits: cut by Polars in one pass, or for a few posts
    one by one in Python) count, per field and query word, the posts whose words hold the
    word's folded terms."""
    frame = pl.DataFrame(
        posts,
        schema={"account": pl.Int64, "caption": pl.String, "hashtags": pl.String},
        orient="row",
    )
    got = terms._counted(terms._post_words(frame), terms.word_terms(words))
    assert got == _post_hits_by_hand(posts, words)
    assert terms._counted_each(posts, words) == got  # a small page's way, in Python


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 3_000), max_size=60),
    st.lists(st.integers(1, 3_000), max_size=40),
    st.sampled_from([1, 50, 1 << 24]),
)
def test_postings_are_kept_by_their_account_ids(ids, wanted, span):
    """The scoring keeps a word's rows whose account is among those asked for: a lookup table
    over the asked ids' span, or a sort past ``TABLE_SPAN``, the same as a set lookup."""
    asked = np.unique(np.array(wanted, dtype=np.int64))
    old, term_index.TABLE_SPAN = term_index.TABLE_SPAN, span
    try:
        got = term_index._among(np.array(ids, dtype=np.int64), asked)
    finally:
        term_index.TABLE_SPAN = old
    assert got.tolist() == [i in set(wanted) for i in ids]
