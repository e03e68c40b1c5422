"""Matching a campaign's deliverables to its creators' posts (docs/campaigns.md#matching).

A post is a candidate when it belongs to one of the campaign's creators and was posted within
the campaign's dates (``ends_on`` + :data:`GRACE_DAYS`). It is **evidence** when it carries, in
this order of precedence (the first is the match reason stored):

1. one of the campaign's hashtags (in the caption, or in the post's hashtags);
2. one of the campaign's mentions (in the caption, the post's mentions or tagged users);
3. one of the creator's tracking links: its slug (``/r/{slug}``) or its destination's host and
   path (``shop.example.com/summer``), in the caption;
4. one of the creator's discount codes, in the caption (any case, as a whole word).

Captions are read as tokens (:data:`WORD_PATTERN` and its hashtag, mention and link forms), so
"#summerglowing" is not "#summerglow" and "XSARAH15-K7Q" is not "SARAH15-K7Q"; tokens are
compared in lower case.

Each matching post then fills one pending deliverable of the creator's deal, of the format its
post type maps to (:data:`FORMATS_BY_POST_TYPE`, falling back in the order listed), the deal's
own account first, the earliest post to the earliest due piece. A post fills at most one piece of
a campaign; a piece never gets a post it was rejected for; matched, confirmed and hand-assigned
pieces are never changed, so running the matcher again is idempotent.

Everything is vectorised: the candidate posts are read in one query into Polars, cut into
tokens by expressions, joined to the evidence on equality, and paired with the pieces by a greedy
assignment in rounds over whole frames (no Python loop over posts).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from microfluence.campaigns.campaigns import lock_campaign
from microfluence.campaigns.deliverables import list_deliverables
from microfluence.campaigns.schemas import MatchSummary
from microfluence.campaigns.tables import Campaign, Deal, Deliverable
from microfluence.kernel.store.tables import Account, Post, utcnow
from microfluence.tracking.tables import DiscountCode, TrackingLink

# Posts published up to this many days after the campaign's end still count (late posts).
GRACE_DAYS = 7
# Post type → the deliverable formats it may fill, the first preferred.
FORMATS_BY_POST_TYPE: dict[str, tuple[str, ...]] = {
    "image": ("feed_post",),
    "carousel": ("feed_post",),
    "reel": ("reel", "video", "short"),
    "video": ("video", "reel", "short"),  # a video where there are no reels fills a reel
    "short": ("short", "reel", "video"),
    "story": ("story",),
}
UNKNOWN_TYPE = ("feed_post",)  # a post without a known type counts as a feed post
REASON_MAX = 300
# What a caption is read as: words (codes, slugs), hashtags, mentions and links, each a whole
# token — starting and ending with a letter, digit or "_", with ".", "-" allowed inside — so a
# full stop or a comma after one is not part of it, and "#summerglowing" is not "#summerglow".
_TOKEN = r"[\w](?:[\w.\-]*[\w])?"
WORD_PATTERN = _TOKEN
HASHTAG_PATTERN = "#" + _TOKEN
MENTION_PATTERN = "@" + _TOKEN
# A link as written in a caption, scheme and "www." optional: host.tld/path (query and fragment
# aside); the host and path are compared in lower case.
LINK_PATTERN = r"(?i)(?:https?://)?(?:www\.)?([\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}/[^\s?#]*[\w/])"


def host_path(url: str) -> str | None:
    """``https://www.Shop.com/summer/?utm_source=x`` → ``shop.com/summer``; None when the link
    has no path (a bare host is too weak a sign that a post is about the campaign)."""
    text = re.sub(r"^[a-zA-Z][\w+.\-]*://", "", url.strip())
    text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    host, _, path = text.partition("/")
    host = host.lower().removeprefix("www.").split("@")[-1]
    if not host or not path:
        return None
    return f"{host}/{path}".lower()


# --- evidence -------------------------------------------------------------------------------
# Each kind of evidence is a small table of (creator_id or null, token, reason, rank) joined to
# the tokens of the posts on equality: no pattern is compiled per row, no loop runs over posts.
# rank orders the evidence: campaign hashtag, campaign mention, tracking link, discount code;
# within one, a caption before the post's own lists. Tokens are compared in lower case (a
# discount code is any case; a slug's case is not significant enough to tell two links apart).

TOKENS_SCHEMA = {"post_id": pl.Int64, "creator_id": pl.Int64, "kind": pl.String, "token": pl.String}
EVIDENCE_SCHEMA = {
    "creator_id": pl.Int64,  # null: for every creator (the campaign's hashtags and mentions)
    "kind": pl.String,  # the kind of token it is compared with
    "token": pl.String,
    "rank": pl.Int32,
    "reason": pl.String,
}


def _campaign_evidence(campaign: Campaign) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for tag in campaign.hashtags or []:
        rows.append(_evidence(None, "caption_tag", tag, 0, f"#{tag} in caption"))
        rows.append(_evidence(None, "listed_tag", tag, 1, f"#{tag} in hashtags"))
    for handle in campaign.mentions or []:
        rows.append(_evidence(None, "caption_mention", handle, 2, f"@{handle} in caption"))
        rows.append(_evidence(None, "listed_mention", handle, 3, f"@{handle} tagged"))
    return rows


def _evidence(
    creator_id: int | None, kind: str, token: str, rank: int, reason: str
) -> dict[str, Any]:
    return {
        "creator_id": creator_id,
        "kind": kind,
        "token": token,
        "rank": rank,
        "reason": reason[:REASON_MAX],
    }


def _creator_evidence(
    session: Session, workspace_id: int, campaign_id: int, creators: list[int]
) -> list[dict[str, Any]]:
    """The creators' tracking links and discount codes that are theirs for this campaign (or for
    no campaign in particular)."""
    rows: list[dict[str, Any]] = []
    links = session.execute(
        select(TrackingLink.creator_id, TrackingLink.slug, TrackingLink.destination).where(
            TrackingLink.workspace_id == workspace_id,
            TrackingLink.creator_id.in_(creators),
            or_(TrackingLink.campaign_id == campaign_id, TrackingLink.campaign_id.is_(None)),
        )
    )
    for creator_id, slug, destination in links:
        rows.append(_evidence(creator_id, "word", slug.lower(), 4, f"link /r/{slug} in caption"))
        where = host_path(destination or "")
        if where:
            rows.append(_evidence(creator_id, "link", where, 5, f"link to {where} in caption"))
    codes = session.execute(
        select(DiscountCode.creator_id, DiscountCode.code).where(
            DiscountCode.workspace_id == workspace_id,
            DiscountCode.creator_id.in_(creators),
            or_(DiscountCode.campaign_id == campaign_id, DiscountCode.campaign_id.is_(None)),
        )
    )
    for creator_id, code in codes:
        rows.append(_evidence(creator_id, "word", code.lower(), 6, f"code {code} in caption"))
    return rows


def _listed(column: str, sign: str) -> pl.Expr:
    """A post's own list of hashtags or handles, as tokens (lower case, no sign)."""
    return (
        pl.col(column)
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
        .list.eval(pl.element().str.strip_chars().str.strip_chars_start(sign).str.to_lowercase())
    )


def post_tokens(posts: pl.DataFrame, wanted: pl.DataFrame | None = None) -> pl.DataFrame:
    """The tokens of the posts, one row each: (post_id, creator_id, kind, token), all in lower
    case; with ``wanted`` (kind, token), only those that some evidence could match."""
    caption = pl.col("caption").fill_null("")

    def found(pattern: str, skip: int = 0) -> pl.Expr:
        return caption.str.extract_all(pattern).list.eval(
            pl.element().str.slice(skip).str.to_lowercase()
        )

    kinds = {
        "caption_tag": found(HASHTAG_PATTERN, 1),
        "listed_tag": _listed("hashtags", "#"),
        "caption_mention": found(MENTION_PATTERN, 1),
        "listed_mention": pl.concat_list(_listed("mentions", "@"), _listed("tagged", "@")),
        "word": found(WORD_PATTERN),  # slugs and codes
        "link": caption.str.extract_all(LINK_PATTERN).list.eval(
            pl.element()
            .str.replace(r"(?i)^(?:https?://)?(?:www\.)?", "")
            .str.strip_chars_end("/")
            .str.to_lowercase()
        ),
    }
    frames = []
    for kind, tokens in kinds.items():  # six kinds of token, each over every post at once
        frame = posts.select("post_id", "creator_id", kind=pl.lit(kind), token=tokens)
        frame = frame.explode("token")
        if wanted is not None:
            useful = wanted.filter(pl.col("kind") == kind).get_column("token").unique()
            frame = frame.filter(pl.col("token").is_in(useful.implode()))
        frames.append(frame.drop_nulls("token"))
    return pl.concat(frames).cast(TOKENS_SCHEMA)  # type: ignore[arg-type]


def evidence_of(posts: pl.DataFrame, evidence: pl.DataFrame) -> pl.DataFrame:
    """``post_id`` → ``reason``: the first evidence (by rank) each post carries."""
    tokens = post_tokens(posts, evidence.select("kind", "token"))
    shared = evidence.filter(pl.col("creator_id").is_null()).drop("creator_id")
    own = evidence.filter(pl.col("creator_id").is_not_null())
    hits = pl.concat(
        [
            tokens.join(shared, on=["kind", "token"]),
            tokens.join(own, on=["creator_id", "kind", "token"]),
        ],
        how="diagonal",
    )
    return (
        hits.sort("rank", "reason")
        .group_by("post_id", maintain_order=True)
        .agg(pl.col("reason").first())
    )


# --- candidates -----------------------------------------------------------------------------

POST_SCHEMA = {
    "post_id": pl.Int64,
    "account_id": pl.Int64,
    "creator_id": pl.Int64,
    "post_type": pl.String,
    "posted_at": pl.Datetime("us"),
    "caption": pl.String,
    "hashtags": pl.List(pl.String),
    "mentions": pl.List(pl.String),
    "tagged": pl.List(pl.String),
}


def _window(campaign: Campaign) -> list[Any]:
    where: list[Any] = []
    if campaign.starts_on is not None:
        where.append(Post.posted_at >= dt.datetime.combine(campaign.starts_on, dt.time()))
    if campaign.ends_on is not None:
        end = campaign.ends_on + dt.timedelta(days=1 + GRACE_DAYS)
        where.append(Post.posted_at < dt.datetime.combine(end, dt.time()))
    return where


def _candidate_posts(
    session: Session, workspace_id: int, campaign: Campaign, creators: list[int]
) -> pl.DataFrame:
    """The posts of the campaign's creators within its dates, in one query."""
    rows = session.execute(
        select(
            Post.id,
            Post.account_id,
            Account.creator_id,
            Post.post_type,
            Post.posted_at,
            Post.caption,
            Post.hashtags,
            Post.mentions,
            Post.tagged_handles,
        )
        .join(Account, Account.id == Post.account_id)
        .where(
            Post.workspace_id == workspace_id,
            Account.workspace_id == workspace_id,
            Account.creator_id.in_(creators),
            *_window(campaign),
        )
    ).all()
    return pl.DataFrame(rows, schema=POST_SCHEMA, orient="row")


# --- assignment -----------------------------------------------------------------------------


def _format_levels() -> pl.DataFrame:
    rows = [
        (post_type, fmt, level)
        for post_type, formats in {**FORMATS_BY_POST_TYPE, "": UNKNOWN_TYPE}.items()
        for level, fmt in enumerate(formats)
    ]
    return pl.DataFrame(
        rows, schema={"type_key": pl.String, "format": pl.String, "level": pl.Int32}, orient="row"
    )


def assign(edges: pl.DataFrame) -> pl.DataFrame:
    """Greedy assignment of posts to pieces: the edges taken in order of ``order`` (lower
    first), each post and each piece used once. Done in rounds over the whole frame: in each
    round every edge that is the first of both its post and its piece is taken (the first
    remaining edge always is, so every round takes at least one)."""
    taken: list[pl.DataFrame] = []
    remaining = edges.select("order", "post_id", "piece_id", "reason")
    for _ in range(len(remaining)):  # bounded: each round takes at least one edge
        if remaining.is_empty():
            break
        best = remaining.filter(
            (pl.col("order") == pl.col("order").min().over("post_id"))
            & (pl.col("order") == pl.col("order").min().over("piece_id"))
        )
        taken.append(best)
        remaining = remaining.join(best.select("post_id"), on="post_id", how="anti").join(
            best.select("piece_id"), on="piece_id", how="anti"
        )
    if not taken:
        return remaining.clear()
    return pl.concat(taken)


def _edges(
    matched: pl.DataFrame, deals: pl.DataFrame, pieces: pl.DataFrame, used: set[int]
) -> pl.DataFrame:
    """Every (post, pending piece) pair that may go together, with its place in the order."""
    known = set(FORMATS_BY_POST_TYPE)
    edges = (
        matched.filter(~pl.col("post_id").is_in(list(used)))
        .with_columns(
            type_key=pl.when(pl.col("post_type").is_in(list(known)))
            .then(pl.col("post_type"))
            .otherwise(pl.lit(""))
        )
        .join(deals, on="creator_id")
        .join(pieces, on="deal_id")
        .join(_format_levels(), on=["type_key", "format"])
        .filter(~pl.col("rejected").list.contains(pl.col("post_id")).fill_null(False))
        .with_columns(
            other_account=(
                pl.col("deal_account_id").is_not_null()
                & (pl.col("account_id") != pl.col("deal_account_id"))
            ).cast(pl.Int8)
        )
        .sort(
            "other_account",
            "level",
            "posted_at",
            "due_on",
            "piece_id",
            "post_id",
            nulls_last=True,
        )
    )
    return edges.with_row_index("order")


# --- the matcher ----------------------------------------------------------------------------


def _frames(
    session: Session, workspace_id: int, campaign_id: int
) -> tuple[pl.DataFrame, pl.DataFrame, set[int]]:
    """The campaign's deals, its pending pieces, and the posts its pieces already hold."""
    deals = pl.DataFrame(
        session.execute(
            select(Deal.id, Deal.creator_id, Deal.account_id).where(
                Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id
            )
        ).all(),
        schema={"deal_id": pl.Int64, "creator_id": pl.Int64, "deal_account_id": pl.Int64},
        orient="row",
    )
    rows = session.execute(
        select(
            Deliverable.id,
            Deliverable.deal_id,
            Deliverable.format,
            Deliverable.due_on,
            Deliverable.status,
            Deliverable.post_id,
            Deliverable.rejected_post_ids,
        )
        .join(Deal, Deal.id == Deliverable.deal_id)
        .where(Deliverable.workspace_id == workspace_id, Deal.campaign_id == campaign_id)
    ).all()
    pieces = pl.DataFrame(
        rows,
        schema={
            "piece_id": pl.Int64,
            "deal_id": pl.Int64,
            "format": pl.String,
            "due_on": pl.Date,
            "status": pl.String,
            "held_post_id": pl.Int64,
            "rejected": pl.List(pl.Int64),
        },
        orient="row",
    )
    used = set(pieces.get_column("held_post_id").drop_nulls().to_list())
    pending = pieces.filter(pl.col("status") == "pending").drop("status", "held_post_id")
    return deals, pending, used


def _release_orphans(session: Session, workspace_id: int, campaign_id: int) -> None:
    """A matched or confirmed piece whose post was deleted (the store set ``post_id`` to
    NULL) is pending again."""
    deals = select(Deal.id).where(
        Deal.workspace_id == workspace_id, Deal.campaign_id == campaign_id
    )
    session.execute(
        update(Deliverable)
        .where(
            Deliverable.workspace_id == workspace_id,
            Deliverable.deal_id.in_(deals),
            Deliverable.status != "pending",
            Deliverable.post_id.is_(None),
        )
        .values(status="pending", matched_by=None, matched_at=None, match_reason=None)
    )


def _write(session: Session, chosen: pl.DataFrame) -> None:
    if chosen.is_empty():
        return
    table = Deliverable.__table__
    now = utcnow()
    statement = (
        update(table)
        .where(and_(table.c.id == bindparam("b_id"), table.c.status == "pending"))
        .values(
            post_id=bindparam("b_post"),
            match_reason=bindparam("b_reason"),
            status="matched",
            matched_by="auto",
            matched_at=now,
            updated_at=now,
        )
    )
    session.execute(
        statement,
        chosen.select(
            b_id=pl.col("piece_id"), b_post=pl.col("post_id"), b_reason=pl.col("reason")
        ).to_dicts(),
    )


def match_deliverables(session: Session, workspace_id: int, campaign_id: int) -> MatchSummary:
    """Match the campaign's pending deliverables to its creators' posts (see the module's
    docstring for the rules); returns what this run matched."""
    campaign = lock_campaign(session, workspace_id, campaign_id)
    _release_orphans(session, workspace_id, campaign.id)
    deals, pending, used = _frames(session, workspace_id, campaign.id)
    creators = deals.get_column("creator_id").to_list()
    posts = _candidate_posts(session, workspace_id, campaign, creators)
    evidence = pl.DataFrame(
        _campaign_evidence(campaign)
        + _creator_evidence(session, workspace_id, campaign.id, creators),
        schema=EVIDENCE_SCHEMA,
        orient="row",
    )
    reasons = evidence_of(posts, evidence)
    matched = posts.join(reasons, on="post_id")
    chosen = assign(_edges(matched, deals, pending, used))
    _write(session, chosen)
    session.flush()
    ids = chosen.get_column("piece_id").to_list()
    return MatchSummary(
        campaign_id=campaign.id,
        candidates=posts.height,
        matched=len(ids),
        pending=pending.height - len(ids),
        deliverables=list_deliverables(session, workspace_id, campaign.id, ids=ids) if ids else [],
    )
