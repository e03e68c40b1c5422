"""Search: the filters, keyword relevance and the ranking blend, then the page's explanations
(docs/discovery.md, "Search" and "Ranking").

``search(session, workspace_id, query)`` is the service every face calls. Filters and words
are served in the process (``_in_process``: the search columns, the keyword index, the blend
in NumPy); a brief or lookalikes by the vector index, filtered and ranked by one database
query per round (``_rank`` with ``semantic``: a subquery (``account_id``, ``similarity`` in
[0, 1]) for the blend's ``semantic`` part). ``_rank`` is the blend in SQL; given ``matched``
(a subquery (``account_id``, ``raw``) of keyword matches) it ranks them as the in-process path
does, which the tests hold that path to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.discovery import (
    column_facets,
    column_rank,
    columns,
    filters,
    keyword,
    keyword_plan,
    ranking,
    term_index,
    terms,
)
from microfluence.discovery import semantic as by_meaning
from microfluence.discovery.query import SearchQuery
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account, Creator, Workspace, utcnow
from microfluence.metrics.settings import settings_of

PERCENTILE_METRIC = "cohort_percentile"


@dataclass
class Why:
    matched: dict[str, list[str]] = field(default_factory=dict)  # field → words
    posts: dict[str, dict[str, int]] = field(default_factory=dict)  # caption|hashtags → word → n
    niches: list[str] = field(default_factory=list)
    parts: list[ranking.Part] = field(default_factory=list)
    similarity: float | None = None  # semantic search and lookalikes: the cosine to the query


@dataclass
class Result:
    account_id: int
    creator_id: int
    platform: str
    handle: str
    display_name: str | None
    creator_name: str | None
    country: str | None
    followers: int | None
    tier: str | None
    er: float | None
    er_percentile: float | None
    quality: float | None
    score: float
    why: Why

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchPage:
    results: list[Result]
    count: int
    scheme: str
    query: dict[str, Any]
    facets: dict[str, list[tuple[str, int]]] | None = None  # when asked for (facets())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_scheme(session: Session, workspace_id: int, name: str | None) -> tuple[str, list[str]]:
    """The tier scheme a query uses (its own or the workspace's chosen one) and its tiers."""
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise InputError(f"no workspace with id {workspace_id}", field="workspace")
    settings = settings_of(ws)
    scheme = name or settings.tier_scheme
    if scheme not in settings.schemes:
        raise InputError(
            f"no tier scheme {scheme!r}: use one of {', '.join(settings.schemes)}",
            field="tier_scheme",
        )
    return scheme, settings.schemes[scheme].tier_names()


def _candidates(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    scheme: str,
    now: dt.datetime,
    semantic: sa.Subquery | None,
    *,
    tier: bool,
    matched: sa.Subquery | None = None,
) -> sa.Subquery:
    """The accounts that pass the filters, from their ``account_search`` rows (one index range,
    no seek into another table unless a tier or a niche is asked for), with what the ranking
    reads; ``tier``: also each one's tier (the ranking's tier preference, the tier facet);
    ``matched``: the accounts the words match (keyword_plan), required with words."""
    s = filters.S
    words = keyword.terms(query.q)
    columns: list[Any] = [s.account_id, s.er_percentile, s.aqs]
    if tier:
        columns.append(filters.tier_value(workspace_id, scheme).label("tier"))
    if words:  # the matches drive: one seek per match, the country an OR on its row
        if matched is None:
            raise ValueError("a query with words needs its matches (keyword_plan)")
        where = filters.row_conditions(workspace_id, query, scheme, now)
        source = keyword_plan.driving_join(
            matched, s.__table__, matched.c.account_id == s.account_id
        )
        columns.append(matched.c.raw)
        rows = select(*columns).select_from(source).where(*where).subquery("rows")
    else:
        where = filters.conditions(workspace_id, query, scheme, now)
        alternatives = [select(*columns).where(*where, *alt) for alt in filters.branches(query)]
        rows = (
            alternatives[0] if len(alternatives) == 1 else sa.union_all(*alternatives)
        ).subquery("rows")
    stmt = select(
        rows.c.account_id,
        rows.c.er_percentile,
        rows.c.aqs.label("quality"),
        *([rows.c.tier] if tier else []),
    )
    if words:
        stmt = stmt.add_columns(rows.c.raw.label("raw"), func.max(rows.c.raw).over().label("top"))
    if semantic is not None:
        stmt = stmt.join(semantic, semantic.c.account_id == rows.c.account_id)
        stmt = stmt.add_columns(semantic.c.similarity.label("similarity"))
    return stmt.subquery("candidates")


def _part_values(c: Any, query: SearchQuery, order: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "engagement": ranking.clamp01(c.er_percentile / 100.0),
        "authenticity": ranking.clamp01(c.quality / 100.0),
    }
    if "raw" in c:
        values["relevance"] = ranking.clamp01(c.raw / func.nullif(c.top, 0))
    if "similarity" in c:
        values["semantic"] = ranking.clamp01(c.similarity)
    if query.prefer_tier:
        values["tier"] = ranking.tier_preference(c.tier, query.prefer_tier, order)
    return values


def search(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    *,
    now: dt.datetime | None = None,
    with_facets: bool = False,
) -> SearchPage:
    """One page of the accounts ``query`` finds, best first, each with why it is there;
    ``with_facets``: and the counts of ``facets`` (from the same accounts found, not found
    again)."""
    search_plans(session)
    if by_meaning.wanted(query):
        page = _semantic(session, workspace_id, query, now)
        if with_facets:
            page.facets = facets(session, workspace_id, query, now=now)
        return page
    return _in_process(session, workspace_id, query, now or utcnow(), with_facets=with_facets)


def search_plans(session: Session) -> None:
    """PostgreSQL, for the rest of this transaction (``set_config(…, true)``: ``SET LOCAL``):

    * every query planned for its own values (``plan_cache_mode = force_custom_plan``):
      psycopg prepares a statement run five times on a connection, and PostgreSQL may then
      plan it once for any values. Search's parameters are arrays of ids and ranges whose size
      is the whole question: a generic plan of the ranking query assumed 10 matches and one
      account in a follower range and looped over the matches once per account of the range,
      1.6–5.7 s a query at a million accounts instead of 10–40 ms. Planning each time costs
      well under a millisecond here. Only search's transaction: the app's other statements
      (a short link's lookup) keep their plans;
    * no parallel workers (``max_parallel_workers_per_gather = 0``): a search's queries read a
      few thousand index entries each; when the planner gave one (a country's wide follower
      range) two workers, starting them and gathering their rows cost more than they saved
      on 2 cores, 68–76 ms where one process read the same range in 20–25 ms.

    docs/benchmarks.md, "PostgreSQL at 100,000 and 1,000,000 accounts"."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                "set_config('max_parallel_workers_per_gather', '0', true)"
            )
        )


def _scheme(session: Session, workspace_id: int, query: SearchQuery) -> tuple[str, list[str]]:
    """The query's tier scheme and its tiers; the asked tier must be one of them."""
    scheme, order = resolve_scheme(session, workspace_id, query.tier_scheme)
    if query.tier and query.tier not in order:
        raise InputError(
            f"tier {query.tier!r} is not in scheme {scheme}: use one of {', '.join(order)}",
            field="tier",
        )
    return scheme, order


@dataclass
class _Ranked:
    """One page's rows from the ranking query, before their explanations (``_page``): a pool
    that grows runs the query again, and only the last page is explained."""

    rows: Any
    count: int
    scheme: str
    parts: dict[str, float]
    words: list[str]


def _rank(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    tiers: tuple[str, list[str]],
    *,
    now: dt.datetime | None = None,
    semantic: sa.Subquery | None = None,
    matched: sa.Subquery | None = None,
) -> _Ranked:
    """One ranking query in the database; ``tiers``: the query's (scheme, its tiers) from
    ``_scheme``, resolved once per search (a settings read), not once per round of a growing
    pool."""
    scheme, order = tiers
    words = keyword.terms(query.q)
    parts = ranking.active_parts(
        query.weights,
        words=bool(words),
        semantic=semantic is not None,
        tier=bool(query.prefer_tier),
    )
    c = _candidates(
        session,
        workspace_id,
        query,
        scheme,
        now or utcnow(),
        semantic,
        tier=bool(query.prefer_tier),
        matched=matched,
    ).c
    values = _part_values(c, query, order)
    score = ranking.blend(parts, values).label("score")
    labelled = [values[name].label(f"part_{name}") for name in parts]
    stmt = (
        select(c.account_id, c.er_percentile, c.quality, score, *labelled)
        .add_columns(func.count().over().label("total"))
        .order_by(score.desc(), c.account_id)
        .limit(query.limit)
        .offset(query.offset)
    )
    rows = session.execute(stmt).mappings().all()
    count = rows[0]["total"] if rows else _count(session, stmt, query)
    return _Ranked(rows, count, scheme, parts, words)


def _page(session: Session, workspace_id: int, query: SearchQuery, ranked: _Ranked) -> SearchPage:
    results = _results(
        session, workspace_id, ranked.scheme, ranked.rows, ranked.parts, ranked.words
    )
    return SearchPage(
        results=results, count=ranked.count, scheme=ranked.scheme, query=query.to_dict()
    )


def _found(
    session: Session, workspace_id: int, query: SearchQuery, scheme: str, now: dt.datetime
) -> tuple[columns.Columns, np.ndarray, np.ndarray | None]:
    """(the workspace's search columns, the rows of the accounts ``query``'s filters and words
    find, their raw relevance when it has words): the filters a mask over the columns
    (discovery.columns), the words scored by the keyword index — every match among the
    accounts that pass: the filters' accounts when few pass, else every match, masked."""
    cols = columns.columns_for(session, workspace_id)
    rows = columns.passing(cols, query, columns.asked(session, query, scheme), now)
    words = keyword.terms(query.q)
    if not words:
        return cols, rows, None
    index = term_index.index_for(session, workspace_id)
    wanted = terms.query_terms(words)
    if len(rows) <= keyword_plan.CANDIDATE_CAP:  # score the few that pass
        ids, raw = index.scores(wanted, cols.ids[rows])
        at, _there = cols.rows_of(ids)  # every one is there: they came from the columns
        return cols, at, raw
    ids, raw = index.scores(wanted)  # score every match, keep those that pass
    at, found = cols.rows_of(ids)
    keep = np.zeros(len(cols), dtype=bool)
    keep[rows] = True
    found[found] = keep[at[found]]
    return cols, at[found], raw[found]


def _in_process(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    now: dt.datetime,
    *,
    with_facets: bool = False,
) -> SearchPage:
    """Filters and words (not a brief, not lookalikes): the accounts found in the process
    (``_found``), the blend and the page in NumPy (discovery.column_rank). Exact: every
    account that passes is ranked and counted."""
    scheme, order = _scheme(session, workspace_id, query)
    cols, rows, raw = _found(session, workspace_id, query, scheme, now)
    words = keyword.terms(query.q)
    parts = ranking.active_parts(
        query.weights, words=bool(words), semantic=False, tier=bool(query.prefer_tier)
    )
    tier = column_rank.Wanted(query.prefer_tier, scheme, order) if query.prefer_tier else None
    page, count = column_rank.ranked(
        cols, rows, parts, raw=raw, wanted=tier, limit=query.limit, offset=query.offset
    )
    out = _page(session, workspace_id, query, _Ranked(page, count, scheme, parts, words))
    if with_facets:
        out.facets = _counted(session, query, scheme, cols, rows)
    return out


def _semantic(
    session: Session, workspace_id: int, query: SearchQuery, now: dt.datetime | None
) -> SearchPage:
    """Semantic search and lookalikes (discovery.semantic): the nearest accounts, filtered and
    ranked like any search. When the filters leave the first pool short and pass few accounts,
    the nearest of exactly those (pre-filtering); else the pool of nearest grows by the filters'
    pass rate until the page is full or it holds every account with a vector."""
    probe = by_meaning.probe(session, workspace_id, query)
    inner = query.replace(q=None, semantic=False, like=())
    needed = query.offset + query.limit
    now = now or utcnow()
    pool = probe.first_pool(needed)
    found = by_meaning.nearest(session, workspace_id, probe, pool)
    tiers = _scheme(session, workspace_id, inner)  # once: the rounds and the prefilter share it
    first = True
    while True:
        nearest, similarity, exhausted = found
        ranked = _rank(session, workspace_id, inner, tiers, now=now, semantic=nearest)
        if ranked.count >= needed or exhausted:
            break
        if first:  # short: do the filters pass few accounts? Then rank exactly those, last.
            found = by_meaning.prefiltered(
                session, workspace_id, probe, inner, tiers[0], now, needed
            )
            first = False
            if found is not None:
                continue
        pool = by_meaning.next_pool(pool, ranked.count, needed)
        found = by_meaning.nearest(session, workspace_id, probe, pool)
    page = _page(session, workspace_id, query, ranked)
    for result in page.results:
        result.why.similarity = similarity.get(result.account_id)
    return page


def _count(session: Session, stmt: Any, query: SearchQuery) -> int:
    if query.offset == 0:
        return 0
    inner = stmt.limit(None).offset(None).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def _results(
    session: Session,
    workspace_id: int,
    scheme: str,
    rows: Any,
    parts: dict[str, float],
    words: list[str],
) -> list[Result]:
    ids = [r["account_id"] for r in rows]
    if not ids:
        return []
    info = {
        r.id: r
        for r in session.execute(
            select(
                Account.id,
                Account.creator_id,
                Account.platform,
                Account.handle,
                Account.display_name,
                Account.bio,
                Account.followers,
                func.coalesce(Account.country, Creator.country).label("country"),
                Creator.name.label("creator_name"),
                filters.metric_value(workspace_id, filters.ER_METRIC).label("er"),
                filters.tier_value(workspace_id, scheme, Account.id).label("tier"),
            )
            .join(Creator, Creator.id == Account.creator_id)
            .where(Account.id.in_(ids))
        )
    }
    niches = columns.columns_for(session, workspace_id).labels.niches_of(ids)
    posts = terms.post_hits(session, workspace_id, ids, words)
    out = []
    for row in rows:
        a = info[row["account_id"]]
        fields_ = {"handle": a.handle, "name": a.display_name, "bio": a.bio}
        why = Why(
            matched=keyword.profile_hits(fields_, words) if words else {},
            posts={k: dict(v) for k, v in posts.get(a.id, {}).items()},
            niches=niches.get(a.id, []),
            parts=ranking.explain(parts, {n: row[f"part_{n}"] for n in parts}),
        )
        out.append(
            Result(
                account_id=a.id,
                creator_id=a.creator_id,
                platform=a.platform,
                handle=a.handle,
                display_name=a.display_name,
                creator_name=a.creator_name,
                country=a.country,
                followers=a.followers,
                tier=a.tier,
                er=a.er,
                er_percentile=row["er_percentile"],
                quality=row["quality"],
                score=float(row["score"]),
                why=why,
            )
        )
    return out


FACETS = ("niche", "tier", "country")
FACET_SIZE = 20


def facets(
    session: Session,
    workspace_id: int,
    query: SearchQuery,
    *,
    now: dt.datetime | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Counts per niche, tier and country of the accounts ``query`` finds (every page), each
    the largest ``FACET_SIZE`` first, counted over the search columns (discovery.column_facets).
    A semantic query counts what its filters find: a brief or lookalikes rank accounts, they
    do not narrow them."""
    if by_meaning.wanted(query):
        query = query.replace(q=None, semantic=False, like=())
    scheme, _order = resolve_scheme(session, workspace_id, query.tier_scheme)
    cols, rows, _raw = _found(session, workspace_id, query, scheme, now or utcnow())
    return _counted(session, query, scheme, cols, rows)


def _counted(
    session: Session, query: SearchQuery, scheme: str, cols: columns.Columns, rows: np.ndarray
) -> dict[str, list[tuple[str, int]]]:
    """The facets of the accounts found (``_found``)."""
    return {
        "niche": column_facets.niches(cols, rows, query.niche_confidence, FACET_SIZE),
        "tier": column_facets.tiers(cols, rows, scheme, FACET_SIZE),
        "country": column_facets.countries(session, cols, rows, FACET_SIZE),
    }
