"""The vetting report: one account's Audience Quality Score with every component explained.

``vet_account(store, workspace, platform, handle)`` is the service the CLI, the API and the
pages call. The report is a plain dataclass; ``to_dict()`` gives JSON-ready data (times as ISO
8601 strings), ``vetting.html.render_report`` a standalone HTML page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.model import load_shipped_model
from microfluence.authenticity.signals import brand_safety, comments, engagement, growth, sponsored
from microfluence.authenticity.signals.fake_share import MIN_SAMPLE, SCHEMA, row_from_estimate
from microfluence.authenticity.signals.frames import (
    AccountFrames,
    load_account_frames,
)
from microfluence.authenticity.vetting.score import (
    COMPONENTS,
    REVIEW_BAND,
    ComponentSpec,
    verdict,
)
from microfluence.authenticity.vetting.scoring import (
    engagement_cohort,
    score_frames,
    scoring_context,
)
from microfluence.catalog.accounts import find_account_by_handle
from microfluence.catalog.validation import parse_account_reference
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store import Store
from microfluence.kernel.store.tables import Account, Workspace, utcnow
from microfluence.kernel.workspaces import get_workspace

MAX_EVIDENCE = 12


@dataclass
class ComponentReport:
    """One component of the score: its value, its weight, its contribution and its evidence."""

    key: str
    label: str
    what: str
    available: bool
    score: float | None
    weight: float  # the configured weight
    effective_weight: float  # after renormalising over the available components
    contribution: float  # points of the final score
    points_lost: float
    summary: str
    value: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None  # why it is not available


@dataclass
class VettingReport:
    workspace: str
    account_id: int
    platform: str
    handle: str
    display_name: str | None
    url: str | None
    followers: int | None
    generated_at: dt.datetime
    quality_score: float | None
    verdict: str
    threshold: float
    components: list[ComponentReport]
    charts: dict[str, Any]
    weighted_mean: float | None = None  # before the red-flag cap
    capped_by: str | None = None  # the red-flag component that capped the score
    notes: list[str] = field(default_factory=list)

    @property
    def review_below(self) -> float:
        """Scores from the threshold up to here read "review" (see :func:`score.verdict`)."""
        return self.threshold + REVIEW_BAND

    @property
    def reference(self) -> str:
        return f"{self.platform}:{self.handle}"

    def component(self, key: str) -> ComponentReport:
        for c in self.components:
            if c.key == key:
                return c
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _fake_share(session: Session, workspace: str, account: Account) -> tuple[pl.DataFrame, str]:
    """The fake-share component row of one account, and why it is missing when it is."""
    from microfluence.authenticity.followers.audit import audit_stored_sample

    try:
        audit = audit_stored_sample(session, workspace, f"{account.platform}:{account.handle}")
    except NotFoundError:
        return pl.DataFrame([row_from_estimate(account.id, None)], schema=SCHEMA), (
            "no follower sample stored for this account"
        )
    except InputError as exc:
        return pl.DataFrame([row_from_estimate(account.id, None)], schema=SCHEMA), (
            f"the follower sample could not be scored: {exc}"
        )
    row = row_from_estimate(account.id, audit.estimate)
    reason = (
        "" if row["fake_share_available"] else f"sample of {audit.estimate.n}; needs {MIN_SAMPLE}"
    )
    frame = pl.DataFrame([row], schema=SCHEMA)
    extra = getattr(audit.estimate, "notes", ())
    return frame, reason + ("; " if reason and extra else "") + "; ".join(extra)


def vet_account(
    store: Store,
    workspace: str,
    platform: str,
    handle: str,
    *,
    brand_safety_overrides: Mapping[str, Any] | None = None,
) -> VettingReport:
    """The vetting report of ``platform:handle`` in ``workspace``."""
    platform, handle = parse_account_reference(f"{platform}:{handle}")
    with store.session() as session:
        ws = get_workspace(session, workspace)
        account = find_account_by_handle(session, ws.id, platform, handle)
        return _report(session, ws.name, ws.id, ws.settings or {}, account, brand_safety_overrides)


def vet_account_id(session: Session, workspace_id: int, account_id: int) -> VettingReport:
    """The vetting report of an account by id; NotFoundError when it is not in the workspace
    (the API answers 404 for another workspace's ids, never revealing that they exist)."""
    ws = session.get(Workspace, workspace_id)
    account = session.get(Account, account_id)
    if ws is None or account is None or account.workspace_id != ws.id:
        raise NotFoundError(f"no account with id {account_id} in this workspace")
    return _report(session, ws.name, ws.id, ws.settings or {}, account, None)


def _report(
    session: Session,
    workspace: str,
    workspace_id: int,
    settings: Mapping[str, Any],
    account: Account,
    overrides: Mapping[str, Any] | None,
) -> VettingReport:
    context = scoring_context(session, workspace, settings, overrides)
    score_settings, lists = context.settings, context.word_lists
    conn = session.connection()
    frames = load_account_frames(conn, workspace_id, [account.id])
    cohort = engagement_cohort(
        conn, workspace_id, context.tier_scheme, platform=account.platform, account_id=account.id
    )
    stored = cohort.stored
    notes = []
    if stored is not None:
        notes.append(
            "Engagement cohort: the stored metrics of the last `microfluence score` run "
            f"(finished {stored.computed_at:%Y-%m-%d %H:%M} UTC, tier scheme {stored.scheme})."
        )
    else:
        notes.append(
            "Engagement cohort: computed from every account's posts (no stored metrics for this "
            "account; run `microfluence score` for faster reports)."
        )
    fake, fake_reason = _fake_share(session, workspace, account)
    row = score_frames(frames, cohort, fake, context).row(0, named=True)
    evidence = _Evidence(frames, row, lists, fake_reason)
    components = [evidence.component(spec, score_settings.weights[spec.key]) for spec in COMPONENTS]
    score = row["quality_score"]
    missing = [c.label for c in components if not c.available and c.weight > 0]
    if missing:
        notes.append(
            "Not available, their weight shared out over the others: " + ", ".join(missing) + "."
        )
    capped_by = row.get("capped_by")
    if capped_by is not None and score is not None:
        label = next(c.label for c in components if c.key == capped_by)
        where = " at its interval's lower bound" if capped_by == "fake_share" else ""
        notes.append(
            f"Red flag: {label} scores {_flag_score(row, capped_by):.0f}{where}, which caps the "
            f"score at {score:.1f} (the weighted mean is {row['quality_mean']:.1f})."
        )
    invalid = row.get("growth_invalid_snapshots") or 0
    if invalid:
        notes.append(
            f"{invalid} snapshot(s) with a missing, negative or absurd follower count ignored."
        )
    return VettingReport(
        workspace=workspace,
        account_id=account.id,
        platform=account.platform,
        handle=account.handle,
        display_name=account.display_name,
        url=account.url,
        followers=row.get("latest_followers"),
        generated_at=utcnow(),
        quality_score=None if score is None else round(float(score), 1),
        verdict=verdict(score, score_settings.threshold),
        threshold=score_settings.threshold,
        components=components,
        weighted_mean=None if row["quality_mean"] is None else round(float(row["quality_mean"]), 1),
        capped_by=capped_by,
        charts=evidence.charts(),
        notes=notes,
    )


def _flag_score(row: Mapping[str, Any], key: str) -> float:
    """The score a red-flag component caps with (see ComponentSpec.flag_column)."""
    spec = next(spec for spec in COMPONENTS if spec.key == key)
    value = row.get(spec.flag_column)
    return float(row[spec.score_column] if value is None else value)


def _r(value: Any, digits: int = 4) -> Any:
    return None if value is None else round(float(value), digits)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


class _Evidence:
    """Builds each component's value, summary and evidence from the account's frames."""

    def __init__(
        self,
        frames: AccountFrames,
        row: Mapping[str, Any],
        lists: Mapping[str, tuple[str, ...]],
        fake_reason: str,
    ) -> None:
        self.frames = frames
        self.row = row
        self.lists = lists
        self.fake_reason = fake_reason
        posts = frames.posts.select("post_id", "platform_post_id", "url", "posted_at")
        self.posts = posts
        self.anomalies = growth.growth_anomalies(frames.snapshots, frames.posts).join(
            posts.rename({"post_id": "peak_post_id", "url": "peak_post_url"}).drop("posted_at"),
            on="peak_post_id",
            how="left",
        )
        self.flagged = comments.flag_comments(frames.comments).join(
            posts.select("post_id", "platform_post_id"), on="post_id", how="left"
        )

    def component(self, spec: ComponentSpec, weight: float) -> ComponentReport:
        row = self.row
        available = bool(row.get(spec.available_column)) and row.get(spec.score_column) is not None
        share = float(row.get(f"{spec.key}_weight") or 0.0)
        score = _r(row.get(spec.score_column), 1) if available else None
        value, summary, evidence, reason = getattr(self, f"_{spec.key}")()
        return ComponentReport(
            key=spec.key,
            label=spec.label,
            what=spec.what,
            available=available,
            score=score,
            weight=weight,
            effective_weight=round(share, 4),
            contribution=round(float(row.get(f"{spec.key}_contribution") or 0.0), 2),
            points_lost=round(share * (100.0 - score), 2) if score is not None else 0.0,
            summary=summary,
            value=value,
            evidence=evidence[:MAX_EVIDENCE],
            reason=None if available else (reason or "not enough data"),
        )

    # -- one method per component: (value, summary, evidence, reason-if-missing) ---------------
    def _fake_share(self):
        r = self.row
        value = {
            "fake_share": _r(r.get("fake_share")),
            "low": _r(r.get("fake_share_low")),
            "high": _r(r.get("fake_share_high")),
            "sample": r.get("fake_share_sample") or 0,
            "flagged": r.get("fake_share_flagged") or 0,
        }
        if r.get("fake_share") is None:
            return value, "No follower sample to audit.", [], self.fake_reason
        summary = (
            f"About {_pct(r['fake_share'])} fake (95 % interval {_pct(r['fake_share_low'])} to "
            f"{_pct(r['fake_share_high'])}) in a sample of {value['sample']} followers."
        )
        accuracy = load_shipped_model().measured_accuracy()
        if accuracy:
            value["model_accuracy"] = accuracy
            summary += " " + accuracy
        notes = [{"note": self.fake_reason}] if self.fake_reason else []
        return value, summary, notes, self.fake_reason

    def _growth(self):
        r = self.row
        rows = self.anomalies.to_dicts()
        evidence = [
            {
                "kind": a["anomaly"],
                "episode": a["episode"],
                "from": a["start_at"],
                "to": a["end_at"],
                "followers_before": a["start_followers"],
                "followers_after": a["end_followers"],
                "change": a["change"],
                "excess_over_trend": round(a["excess"]),
                "modified_z": round(a["modified_z"], 1),
                "explained_by_engagement": a["explained_by_engagement"],
                "peak_post": a.get("platform_post_id"),
                "peak_post_url": a.get("peak_post_url"),
                "peak_engagement_vs_median": _r(a["engagement_ratio"], 2),
            }
            for a in rows
        ]
        intervals = r.get("growth_intervals") or 0
        value = {
            "intervals": intervals,
            "unexplained_jumps": r.get("growth_jumps") or 0,
            "viral_jumps": r.get("growth_viral_jumps") or 0,
            "drops": r.get("growth_drops") or 0,
            "suspicious_change": _r(r.get("growth_suspicious_change"), 0),
            "suspicious_share": _r(r.get("growth_suspicious_share")),
            "median_daily_growth": _r(r.get("growth_median_daily_rate"), 6),
            "from": r.get("growth_first_at"),
            "to": r.get("growth_last_at"),
        }
        reason = f"{intervals} interval(s) between valid snapshots; needs {growth.MIN_INTERVALS}"
        if not rows:
            summary = f"No jump or drop against the account's own history ({intervals} intervals)."
        else:
            summary = (
                f"{value['unexplained_jumps']} unexplained jump(s), {value['drops']} drop(s), "
                f"{value['viral_jumps']} jump(s) explained by an engagement spike; "
                f"suspicious change {_pct(value['suspicious_share'])} of followers."
            )
        return value, summary, evidence, reason

    def _engagement_rate(self):
        r = self.row
        value = {
            "engagement_rate": _r(r.get("engagement_rate"), 6),
            "posts": r.get("engagement_posts") or 0,
            "cohort": r.get("cohort"),
            "cohort_size": r.get("cohort_size"),
            "cohort_median": _r(r.get("cohort_engagement_rate"), 6),
            "modified_z": _r(r.get("engagement_z"), 2),
        }
        per_post = engagement.post_engagement(self.frames.posts, self.frames.snapshots).filter(
            pl.col("recency_rank") < engagement.WINDOW_POSTS
        )
        median = r.get("cohort_engagement_rate")
        evidence = []
        if per_post.height:
            extremes = pl.concat(
                [
                    per_post.sort("engagement_rate", descending=True).head(3),
                    per_post.sort("engagement_rate").head(3),
                ]
            ).unique(subset="post_id", maintain_order=True)
            evidence = [
                {
                    "post": p["platform_post_id"],
                    "posted_at": p["posted_at"],
                    "likes": p["likes"],
                    "comments": p["comments"],
                    "followers_then": p["followers"],
                    "engagement_rate": round(p["engagement_rate"], 6),
                    "vs_cohort_median": round(p["engagement_rate"] / median, 2) if median else None,
                }
                for p in extremes.to_dicts()
            ]
        if r.get("engagement_rate") is None:
            return (
                value,
                "No post with both likes and a follower count.",
                evidence,
                ("no post with likes and a follower count at its time"),
            )
        summary = f"Median engagement {_pct(r['engagement_rate'])} over {value['posts']} posts" + (
            f" vs {_pct(median)} in its cohort ({value['cohort']}, {value['cohort_size']} "
            f"accounts): modified z {value['modified_z']}."
            if median is not None
            else "; no cohort large enough to compare with."
        )
        reason = (
            f"{value['posts']} post(s); needs {engagement.MIN_POSTS}"
            if value["posts"] < engagement.MIN_POSTS
            else f"cohort smaller than {engagement.MIN_COHORT} accounts"
        )
        return value, summary, evidence, reason

    def _likes_comments(self):
        r = self.row
        value = {
            "likes_per_comment": _r(r.get("likes_comments_ratio"), 2),
            "cohort_median": _r(r.get("cohort_likes_comments_ratio"), 2),
            "modified_z": _r(r.get("likes_comments_z"), 2),
        }
        if r.get("likes_comments_ratio") is None:
            return value, "No comments counted on the posts.", [], "no post with comments"
        summary = f"{value['likes_per_comment']} likes per comment" + (
            f" vs {value['cohort_median']} in the cohort: modified z {value['modified_z']}."
            if value["cohort_median"] is not None
            else "; no cohort large enough to compare with."
        )
        reason = f"fewer than {engagement.MIN_COMMENTED_POSTS} posts with comments, or " + (
            f"a cohort smaller than {engagement.MIN_COHORT} accounts"
        )
        return value, summary, [], reason

    def _comment_quality(self):
        r = self.row
        n = r.get("comments_sampled") or 0
        value = {
            "comments": n,
            "posts": r.get("commented_posts") or 0,
            "flagged_share": _r(r.get("comment_flagged_share")),
            **{f"{f}_share": _r(r.get(f"comment_{f}_share")) for f in comments.FLAGS},
        }
        examples = self.flagged.filter(pl.col("flagged")).head(MAX_EVIDENCE)
        evidence = [
            {
                "post": c["platform_post_id"],
                "author": c["author_handle"],
                "text": c["text"],
                "posted_at": c["posted_at"],
                "flags": [f for f in comments.FLAGS if c[f]],
            }
            for c in examples.to_dicts()
        ]
        reason = (
            f"{n} comment(s) on {value['posts']} post(s); needs {comments.MIN_COMMENTS} on "
            f"{comments.MIN_POSTS}"
        )
        if not n:
            return value, "No comment sample stored.", [], reason
        summary = (
            f"{_pct(value['flagged_share'])} of {n} sampled comments flagged: "
            + ", ".join(
                f"{f.replace('_', '-')} {_pct(value[f + '_share'])}" for f in comments.FLAGS
            )
            + "."
        )
        return value, summary, evidence, reason

    def _engagement_pods(self):
        r = self.row
        members = comments.pod_members(self.flagged)
        value = {
            "recurrent_commenters": r.get("pod_recurrent_commenters") or 0,
            "pod_share": _r(r.get("pod_share")),
            "posts_with_comments": r.get("commented_posts") or 0,
        }
        evidence = [
            {
                "author": m["author_handle"],
                "posts_commented": m["posts_commented"],
                "of_posts": m["posts"],
                "comments": m["comments"],
            }
            for m in members.to_dicts()
        ]
        reason = (
            f"comments on {value['posts_with_comments']} post(s); needs {comments.POD_MIN_POSTS}"
        )
        summary = (
            f"{value['recurrent_commenters']} commenter(s) under at least "
            f"{comments.POD_RECURRENCE:.0%} of the posts; they wrote {_pct(value['pod_share'])} "
            "of the comments."
            if value["recurrent_commenters"] >= comments.POD_MIN_MEMBERS
            else f"{value['recurrent_commenters']} recurrent commenter(s): no pod pattern."
        )
        return value, summary, evidence, reason

    def _following_ratio(self):
        r = self.row
        value = {
            "following": r.get("following_ratio_following"),
            "followers": r.get("following_ratio_followers"),
            "ratio": _r(r.get("following_ratio"), 3),
            "at": r.get("following_ratio_at"),
        }
        if value["ratio"] is None:
            return value, "No snapshot with both counts.", [], "no snapshot with both counts"
        summary = (
            f"Follows {value['following']:,} accounts for {value['followers']:,} followers "
            f"(ratio {value['ratio']})."
        )
        return value, summary, [], None

    def _sponsored(self):
        r = self.row
        classified = sponsored.classify_posts(self.frames.posts).filter(
            pl.col("recency_rank") < sponsored.WINDOW_POSTS
        )
        value = {
            "posts": r.get("sponsored_posts_seen") or 0,
            "ads": r.get("sponsored_posts") or 0,
            "share": _r(r.get("sponsored_share")),
        }
        evidence = [
            {
                "post": p["platform_post_id"],
                "posted_at": p["posted_at"],
                "url": p["url"],
                "evidence": p["ad_evidence"],
            }
            for p in classified.filter(pl.col("is_ad")).to_dicts()
        ]
        reason = f"{value['posts']} post(s); needs {sponsored.MIN_POSTS}"
        summary = (
            f"{value['ads']} of the last {value['posts']} posts are ads ({_pct(value['share'])})."
        )
        return value, summary, evidence, reason

    def _brand_safety(self):
        r = self.row
        screened = brand_safety.screen_posts(self.frames.posts, self.lists).filter(
            pl.col("brand_safety_matches").list.len() > 0
        )
        bio = list(r.get("brand_safety_bio_matches") or [])
        value = {
            "posts": r.get("brand_safety_posts_seen") or 0,
            "posts_flagged": r.get("brand_safety_posts_flagged") or 0,
            "bio_matches": bio,
            "categories": sorted(self.lists),
        }
        evidence = [{"where": "bio", "matches": bio}] if bio else []
        evidence += [
            {
                "where": "post",
                "post": p["platform_post_id"],
                "posted_at": p["posted_at"],
                "matches": p["brand_safety_matches"],
            }
            for p in screened.to_dicts()
        ]
        summary = (
            f"{value['posts_flagged']} of {value['posts']} recent captions match the word lists"
            + (f"; the bio matches {', '.join(bio)}." if bio else "; the bio is clean.")
        )
        return value, summary, evidence, "no posts to screen"

    # -- charts --------------------------------------------------------------------------------
    def charts(self) -> dict[str, Any]:
        snaps = growth.valid_snapshots(self.frames.snapshots)
        counts = (
            {f: int(self.flagged[f].sum()) for f in comments.FLAGS} if self.flagged.height else {}
        )
        return {
            "growth": {
                "at": snaps["captured_at"].to_list(),
                "followers": snaps["followers"].to_list(),
                "anomalies": [
                    {
                        "at": a["end_at"],
                        "followers": a["end_followers"],
                        "kind": a["anomaly"],
                        "explained": a["explained_by_engagement"],
                    }
                    for a in self.anomalies.to_dicts()
                ],
            },
            "comments": {
                "total": self.flagged.height,
                "clean": int((~self.flagged["flagged"]).sum()) if self.flagged.height else 0,
                "flags": counts,
            },
            "fake_share": {
                "share": _r(self.row.get("fake_share")),
                "low": _r(self.row.get("fake_share_low")),
                "high": _r(self.row.get("fake_share_high")),
                "sample": self.row.get("fake_share_sample") or 0,
            },
        }
