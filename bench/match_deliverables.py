"""Benchmark: matching a campaign's deliverables to its creators' posts (issue 12).

    .venv/bin/python -m bench.match_deliverables [--creators 500] [--posts 40] [--repeat 3]

Builds a SQLite store with ``--creators`` creators, one Instagram account each and ``--posts``
posts per account inside the campaign's dates (a quarter of them carry one of the campaign's
hashtags, mentions, the creator's tracking link or discount code; the rest are plain), one
tracking link and one discount code per creator, and a campaign with a deal per creator asking
for 3 feed posts, a reel and a story. Then times ``tracking.deliverables.match_deliverables``
(one query into Polars, the posts' tokens joined to the evidence, the greedy assignment in
rounds, one batched update) from the same pending state ``--repeat`` times.

Baseline in the same run: the same rules written the obvious way — a Python loop over the
posts, ``re.findall`` of the same token patterns looked up in a dictionary of the evidence, then
over the posts again filling each deal's pieces — on the same rows (read once, not timed, no
write), checked to fill the same number of pieces.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import insert, update

from microfluence.campaigns.campaigns import create_campaign
from microfluence.campaigns.deals import add_deal
from microfluence.campaigns.schemas import CampaignCreate, DealCreate
from microfluence.campaigns.tables import Deliverable
from microfluence.kernel.store import open_store
from microfluence.kernel.store.tables import Account, Creator, Post
from microfluence.kernel.workspaces import ensure_workspace
from microfluence.tracking import deliverables as matcher
from microfluence.tracking.tables import DiscountCode, TrackingLink

TYPES = ["image", "carousel", "reel", "video", "story"]


def build(url: str, creators: int, posts: int, seed: int = 7) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    store = open_store(url)
    with store.transaction() as session:
        ws = ensure_workspace(session, "bench").id
        session.execute(
            insert(Creator), [{"workspace_id": ws, "name": f"c{i}"} for i in range(creators)]
        )
        creator_ids = [c.id for c in session.query(Creator).order_by(Creator.id)]
        session.execute(
            insert(Account),
            [
                {"workspace_id": ws, "creator_id": c, "platform": "instagram", "handle": f"h{i}"}
                for i, c in enumerate(creator_ids)
            ],
        )
        accounts = [a.id for a in session.query(Account).order_by(Account.id)]
        session.execute(
            insert(TrackingLink),
            [
                {
                    "workspace_id": ws,
                    "slug": f"s{i:06d}x",
                    "destination": f"https://shop.example/p{i}?utm_source=ig",
                    "creator_id": c,
                    "utm": {},
                }
                for i, c in enumerate(creator_ids)
            ],
        )
        session.execute(
            insert(DiscountCode),
            [
                {"workspace_id": ws, "code": f"C{i}-K7Q", "code_key": f"C{i}-K7Q", "creator_id": c}
                for i, c in enumerate(creator_ids)
            ],
        )
        start = dt.datetime(2026, 6, 1)
        evidence = ["#summerglow", "@glowbrand", "/r/s{i:06d}x", "code c{i}-k7q"]
        rows = []
        for i, account in enumerate(accounts):
            kinds = rng.integers(0, 16, size=posts)  # 0-3: evidence, else plain
            for n in range(posts):
                tail = evidence[kinds[n]].format(i=i) if kinds[n] < 4 else "just a day out"
                rows.append(
                    {
                        "workspace_id": ws,
                        "account_id": account,
                        "platform_post_id": f"{i}-{n}",
                        "post_type": TYPES[int(rng.integers(0, len(TYPES)))],
                        "posted_at": start + dt.timedelta(minutes=int(rng.integers(0, 40_000))),
                        "caption": f"post {n} of a long day, coffee and sun {tail} and more words",
                    }
                )
        session.execute(insert(Post), rows)
        campaign = create_campaign(
            session,
            ws,
            CampaignCreate(
                name="Summer",
                starts_on=dt.date(2026, 6, 1),
                ends_on=dt.date(2026, 6, 30),
                hashtags=["summerglow", "glow"],
                mentions=["glowbrand"],
            ),
        ).id
        for i in range(creators):
            add_deal(
                session,
                ws,
                campaign,
                DealCreate(
                    creator=f"instagram:h{i}", package={"feed_post": 3, "reel": 1, "story": 1}
                ),
            )
    store.dispose()
    return ws, campaign


def reset(store, campaign: int) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        session.execute(
            update(Deliverable).values(
                status="pending", post_id=None, matched_by=None, matched_at=None, match_reason=None
            )
        )


def naive(session, ws: int, campaign_id: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """The same rules as a Python loop over the rows (read before the clock starts): each
    post's tokens found with ``re.findall``, looked up in dictionaries of the evidence, then each
    post in time order given the earliest free piece of its deal."""
    campaign = matcher.lock_campaign(session, ws, campaign_id)
    deals, pending, _used = matcher._frames(session, ws, campaign_id)
    creators = deals.get_column("creator_id").to_list()
    posts = matcher._candidate_posts(session, ws, campaign, creators).rows(named=True)
    evidence: dict[tuple, tuple[int, str]] = {}
    rows = matcher._campaign_evidence(campaign)
    rows += matcher._creator_evidence(session, ws, campaign_id, creators)
    for row in rows:
        evidence[(row["creator_id"], row["kind"], row["token"])] = (row["rank"], row["reason"])
    deal_of = {c: d for d, c, _a in deals.rows()}
    pieces: dict[int, list[tuple]] = {}
    for piece_id, deal_id, fmt, due, _rejected in pending.rows():
        pieces.setdefault(deal_id, []).append((due or dt.date.max, piece_id, fmt))
    word, tag = re.compile(matcher.WORD_PATTERN), re.compile(matcher.HASHTAG_PATTERN)
    mention, link = re.compile(matcher.MENTION_PATTERN), re.compile(matcher.LINK_PATTERN)
    started = time.perf_counter()
    found = []
    for post in posts:
        text, creator = post["caption"] or "", post["creator_id"]
        words = word.findall(text)
        tokens = [("caption_tag", t[1:].lower()) for t in tag.findall(text)]
        tokens += [("caption_mention", m[1:].lower()) for m in mention.findall(text)]
        tokens += [("word", w) for w in words] + [("code", w.upper()) for w in words]
        tokens += [("link", u.lower().rstrip("/")) for u in link.findall(text)]
        hits = [
            evidence.get((owner, kind, token))
            for kind, token in tokens
            for owner in (None, creator)
            if (owner, kind, token) in evidence
        ]
        if hits:
            found.append((post["posted_at"], post["post_id"], post, min(hits)[1]))
    filled = 0
    for _when, _pid, post, _reason in sorted(found, key=lambda f: (f[0], f[1])):
        formats = matcher.FORMATS_BY_POST_TYPE.get(post["post_type"] or "", matcher.UNKNOWN_TYPE)
        free = pieces.get(deal_of[post["creator_id"]], [])
        for fmt in formats:
            choice = min((p for p in free if p[2] == fmt), default=None)
            if choice is not None:
                free.remove(choice)
                filled += 1
                break
    return filled, time.perf_counter() - started


def vectorised_in_memory(session, ws: int, campaign_id: int) -> float:  # type: ignore[no-untyped-def]
    """The matcher's in-memory part alone, on the same rows as the baseline."""
    campaign = matcher.lock_campaign(session, ws, campaign_id)
    deals, pending, used = matcher._frames(session, ws, campaign_id)
    creators = deals.get_column("creator_id").to_list()
    posts = matcher._candidate_posts(session, ws, campaign, creators)
    rows = matcher._campaign_evidence(campaign)
    rows += matcher._creator_evidence(session, ws, campaign_id, creators)
    evidence = pl.DataFrame(rows, schema=matcher.EVIDENCE_SCHEMA, orient="row")
    started = time.perf_counter()
    reasons = matcher.evidence_of(posts, evidence)
    matcher.assign(matcher._edges(posts.join(reasons, on="post_id"), deals, pending, used))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=500)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        ws, campaign = build(url, args.creators, args.posts)
        store = open_store(url)
        times = []
        for _ in range(args.repeat):
            reset(store, campaign)
            with store.transaction() as session:
                started = time.perf_counter()
                summary = matcher.match_deliverables(session, ws, campaign)
                times.append(time.perf_counter() - started)
        reset(store, campaign)
        with store.session() as session:
            filled, baseline = naive(session, ws, campaign)
            in_memory = vectorised_in_memory(session, ws, campaign)
        store.dispose()
    posts = args.creators * args.posts
    print(f"{args.creators} creators, {posts} posts in the dates, {args.creators * 5} pieces")
    print(f"matched: {summary.matched} pieces (the Python loop: {filled})")
    median = statistics.median(times)
    print(f"match_deliverables: {median:.3f} s median of {args.repeat} (read, match, write)")
    print(f"  of which matching and assignment, in memory: {in_memory:.3f} s")
    print(f"Python loop over posts: {baseline:.3f} s (matching and assignment only, no I/O)")


if __name__ == "__main__":
    main()
