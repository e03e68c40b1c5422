"""The metric definitions, written once as Ibis expressions and run on DuckDB or Spark.

Inputs are three tables (see ``INPUT_SCHEMAS`` in ``inputs.py``); every time is an integer of
seconds since 1970-01-01 UTC, so no engine's time-zone rules can move a number. Nothing here
imports an engine: ``engines.py`` hands these functions tables and runs what they return.

Each formula, with its rationale and sources, is in docs/metrics.md; comments here say *why*.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from microfluence.metrics.inputs import (
    DAY,
    GROWTH_DAYS,
    HYPEAUDITOR_POSTS,
    MODASH_DAYS,
    MODASH_VIEW_PLATFORMS,
    NOT_VIDEO,
    POST_COLUMNS,
    UPFLUENCE_DAYS,
    Z95,
)
from microfluence.metrics.settings import REQUIRED_COMPONENTS, MetricsSettings
from microfluence.metrics.tiers import TierScheme


def _null(dtype: str | dt.DataType) -> ir.Value:
    return ibis.null().cast(dtype)


def _when(cond: ir.BooleanValue, value: ir.Value) -> ir.Value:
    """``value`` where ``cond`` holds, else NULL: a filtered aggregate every engine runs."""
    return cond.ifelse(value, _null(value.type()))


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, NULL when den is NULL or not positive (zero followers have no rate)."""
    return _when(den > 0, num.cast("float64") / den.cast("float64"))


def _index(i: ir.IntegerValue) -> ir.IntegerValue:
    """An array position as a 32-bit integer (Spark's ``element_at`` takes no other)."""
    return i.cast("int32")


def usable_snapshots(snapshots: ir.Table, now: int) -> ir.Table:
    s = snapshots
    return s.filter(s.followers.notnull(), s.t.notnull(), s.t <= now)


@ibis.udf.agg.builtin(name="max")
def _largest(arg: dt.int64, n: dt.int64) -> dt.Array(dt.int64):
    """DuckDB's ``max(arg, n)``: the n largest values, largest first (a heap per group)."""


def _place_by_lists(
    posts: ir.Table, snaps: ir.Table, now: int, counts: tuple[int, ...], native_top_n: bool
) -> ir.Table:
    """Each post with its neighbouring snapshots and ``last_{n}`` flags, by equi-joins only.

    An account has few snapshots, so each post is hash-joined to its account's whole sorted
    snapshot history (arrays of times and follower counts) and finds its place by counting the
    snapshots taken at or before it: k of them means the "before" snapshot is element k-1 and
    the "after" one element k. "Among the last n posts": the post's time is at least the n-th
    largest counted time of its account (every post tied at the edge stays in), or the account
    has fewer than n counted posts. No sort of the posts, no as-of join.
    """
    pairs = ibis.struct({"t": snaps.t, "f": snaps.followers}).collect().sort()
    history = snaps.group_by(h_id=snaps.account_id).aggregate(snaps=pairs)
    history = history.select(
        "h_id",
        snap_t=history.snaps.map(lambda x: x.t),
        snap_f=history.snaps.map(lambda x: x.f),
    )
    counted = posts.filter(posts.t.notnull(), posts.t <= now)
    if native_top_n:
        top = _largest(counted.t, max(counts))
        cutoffs = counted.group_by(c_id=counted.account_id).aggregate(
            **{f"cut_{n}": top[n - 1] for n in counts}
        )
    else:
        times = counted.group_by(c_id=counted.account_id).aggregate(
            times=counted.t.collect().sort(), n_counted=counted.count()
        )
        cutoffs = times.select(
            "c_id",
            **{
                f"cut_{n}": _when(times.n_counted >= n, times.times[_index(times.n_counted - n)])
                for n in counts
            },
        )
    p = posts.left_join(history, posts.account_id == history.h_id).drop("h_id")
    p = p.left_join(cutoffs, p.account_id == cutoffs.c_id).drop("c_id")
    p = p.mutate(k=_index(p.snap_t.filter(lambda x: x <= p.t).length()))
    has_before = p.k > 0
    has_after = p.k < p.snap_t.length()
    return p.select(
        *POST_COLUMNS,
        prev_t=_when(has_before, p.snap_t[_index(p.k - 1)]),
        prev_f=_when(has_before, p.snap_f[_index(p.k - 1)]),
        next_t=_when(has_after, p.snap_t[p.k]),
        next_f=_when(has_after, p.snap_f[p.k]),
        **{f"last_{n}": p[f"cut_{n}"].isnull() | (p.t >= p[f"cut_{n}"]) for n in counts},
    )


def post_frame(
    posts: ir.Table,
    snapshots: ir.Table,
    *,
    now: int,
    settings: MetricsSettings,
    native_top_n: bool = False,
) -> ir.Table:
    """One row per post: interactions, followers at the time of the post, rates, window flags.

    Followers at the time of a post come from the snapshot *nearest in time* (ties → the earlier
    one); a post older than every snapshot therefore takes the first snapshot after it.
    ``native_top_n``: the engine has an "n largest values" aggregate (DuckDB's ``max(x, n)``),
    used for the recency cut-offs instead of sorting each account's post times; both give the
    same numbers.
    """
    snaps = usable_snapshots(snapshots, now)
    window_posts = settings.window_posts
    counts = tuple(sorted({HYPEAUDITOR_POSTS, window_posts or HYPEAUDITOR_POSTS}))
    p = _place_by_lists(posts, snaps, now, counts, native_top_n)

    dated = p.t.notnull()
    use_prev = p.prev_f.notnull() & (p.next_f.isnull() | ((p.t - p.prev_t) <= (p.next_t - p.t)))
    followers_at_post = ibis.cases((~dated, _null("int64")), (use_prev, p.prev_f), else_=p.next_f)
    snapshot_t = ibis.cases((~dated, _null("int64")), (use_prev, p.prev_t), else_=p.next_t)

    components = settings.components
    required = [c for c in components if c in REQUIRED_COMPONENTS]
    total = p[components[0]].fill_null(0)
    for c in components[1:]:
        total = total + p[c].fill_null(0)
    if required:
        known = p[required[0]].notnull()
        for c in required[1:]:
            known = known & p[c].notnull()
    else:
        known = p[components[0]].notnull()
        for c in components[1:]:
            known = known | p[c].notnull()
    interactions = _when(known, total)

    viewable = p.post_type.isnull() | ~p.post_type.isin(NOT_VIDEO)
    eligible = dated & (p.t <= now)
    if settings.window_posts is not None:
        in_window = eligible & p[f"last_{window_posts}"]
    else:
        in_window = eligible & (p.t > now - settings.window_days * DAY)

    return p.select(
        "post_id",
        "account_id",
        "t",
        "likes",
        "comments",
        "views",
        "is_sponsored",
        followers_at_post=followers_at_post,
        snapshot_t=snapshot_t,
        interactions=interactions,
        er_followers=_ratio(interactions, followers_at_post),
        er_views=_when(viewable, _ratio(interactions, p.views)),
        er_reach=_ratio(interactions, p.reach),
        views_to_followers=_when(viewable, _ratio(p.views, followers_at_post)),
        eligible=eligible,
        recent12=eligible & p[f"last_{HYPEAUDITOR_POSTS}"],
        in_window=in_window,
    )


def _followers_and_growth(snapshots: ir.Table, now: int) -> ir.Table:
    """Latest followers per account and growth over 7/30/90 days.

    Growth over k days compares the latest snapshot with the latest one at least k days older
    — but no more than 2k days older, so a stale base is not passed off as k-day growth.
    """
    s = usable_snapshots(snapshots, now)
    newest = s.mutate(
        rn=ibis.row_number().over(group_by="account_id", order_by=ibis.desc("t"))
    ).filter(lambda x: x.rn == 0)
    latest = newest.select(
        la_id=newest.account_id, followers_t=newest.t, followers=newest.followers
    )
    j = s.inner_join(latest, s.account_id == latest.la_id)
    bases = j.group_by(j.account_id).aggregate(
        **{
            f"base_t_{k}": _when(
                (j.t <= j.followers_t - k * DAY) & (j.t >= j.followers_t - 2 * k * DAY), j.t
            ).max()
            for k in GROWTH_DAYS
        }
    )
    out = latest.left_join(bases, latest.la_id == bases.account_id).select(
        account_id=latest.la_id,
        followers_t=latest.followers_t,
        followers=latest.followers,
        **{f"base_t_{k}": bases[f"base_t_{k}"] for k in GROWTH_DAYS},
    )
    for k in GROWTH_DAYS:
        b = s.select(b_id=s.account_id, b_t=s.t, **{f"base_followers_{k}": s.followers})
        out = out.left_join(b, [out.account_id == b.b_id, out[f"base_t_{k}"] == b.b_t]).drop(
            "b_id", "b_t"
        )
    growth = {}
    for k in GROWTH_DAYS:
        base = out[f"base_followers_{k}"]
        growth[f"growth_{k}d"] = out.followers - base
        growth[f"growth_{k}d_pct"] = _ratio(out.followers - base, base)
    return out.mutate(**growth)


def tier_expr(scheme: TierScheme, followers: ir.IntegerValue, platform: ir.StringValue):
    """The tier label of ``followers`` under ``scheme``: the same segments ``tiers.py`` uses."""

    def by_segments(platform_key: str | None) -> ir.StringValue:
        segs = scheme.segments_for(platform_key)
        cases = [(followers < seg.end, seg.label) for seg in segs if seg.end is not None]
        return ibis.cases(*cases, else_=segs[-1].label) if cases else ibis.literal(segs[-1].label)

    value = by_segments(None)
    if scheme.platform_bands:
        value = ibis.cases(
            *[(platform == key, by_segments(key)) for key in scheme.platform_bands],
            else_=value,
        )
    return _when(followers.notnull(), value)


def _window_statistics(pf: ir.Table) -> ir.Table:
    """One grouped scan of the window's posts: engagement rate by followers (mean, median and the
    order statistics that bound the median, Campbell & Gardner 1988: ranks n/2 ∓ 1.96·√n/2,
    the upper one plus 1, rounded, read from each account's rates sorted once as an array)
    and the other window statistics."""
    w = pf.filter(pf.in_window)
    er_ = w.er_followers
    both = w.likes.notnull() & w.comments.notnull()
    sponsored = w.is_sponsored.fill_null(False)
    organic = w.is_sponsored.notnull() & ~w.is_sponsored.fill_null(True)
    win = w.group_by(w.account_id).aggregate(
        n_posts=w.count(),
        window_start_t=w.t.min(),
        window_end_t=w.t.max(),
        n_er=er_.count(),
        er_mean=er_.mean(),
        er_median=er_.median(),
        er_sd=er_.std(how="sample"),
        er_sorted=er_.collect().sort(),
        er_as_of_snapshot=_when(er_.notnull(), w.snapshot_t).max(),
        er_views_mean=w.er_views.mean(),
        er_views_median=w.er_views.median(),
        n_er_views=w.er_views.count(),
        er_reach_mean=w.er_reach.mean(),
        er_reach_median=w.er_reach.median(),
        n_er_reach=w.er_reach.count(),
        likes_sum=_when(both, w.likes).sum(),
        comments_sum=_when(both, w.comments).sum(),
        views_to_followers=w.views_to_followers.mean(),
        n_sponsored=sponsored.cast("int64").sum(),
        n_sponsor_known=w.is_sponsored.count(),
        er_sponsored_median=_when(sponsored, er_).median(),
        er_organic_median=_when(organic, er_).median(),
        grin_lc_mean=(w.likes + w.comments).mean(),
    )
    half_width = Z95 * win.n_er.cast("float64").sqrt() / 2
    lo_rank = (win.n_er / 2 - half_width).round().cast("int64")
    hi_rank = (1 + win.n_er / 2 + half_width).round().cast("int64")
    return win.mutate(
        er_median_lo=_when(lo_rank >= 1, win.er_sorted[_index(lo_rank - 1)]),
        er_median_hi=_when(hi_rank <= win.n_er, win.er_sorted[_index(hi_rank - 1)]),
    ).drop("er_sorted")


def _vendor_spans(pf: ir.Table, now: int) -> ir.Table:
    """The vendor definitions with their own spans (all posts, 12 latest, 60/90 days), in a
    second, narrow scan."""
    a = pf.filter(pf.eligible)
    likes_comments = a.likes + a.comments
    modash_span = a.t > now - MODASH_DAYS * DAY
    modash_pair = modash_span & a.likes.notnull() & a.views.notnull()
    upfluence_span = a.t > now - UPFLUENCE_DAYS * DAY
    return a.group_by(a.account_id).aggregate(
        last_post_t=a.t.max(),
        n_posts_total=a.count(),
        hype_lc_median=_when(a.recent12, likes_comments).median(),
        modash_likes_median=_when(modash_span, a.likes).median(),
        modash_likes_mean=_when(modash_pair, a.likes).mean(),
        modash_views_mean=_when(modash_pair, a.views).mean(),
        upfluence_lc_mean=_when(upfluence_span, likes_comments).mean(),
    )


def _account_values(
    out: ir.Table, *, now: int, settings: MetricsSettings, schemes: Mapping[str, TierScheme]
) -> ir.Table:
    """The per-account values from the joined statistics: rates, shares, each vendor's
    engagement rate, as-of times and the tier under every scheme."""
    f = out.followers
    days_window = (
        ibis.literal(float(settings.window_days))
        if settings.window_days is not None
        else (now - out.window_start_t).cast("float64") / DAY
    )
    modash = ibis.cases(
        (
            out.platform.isin(MODASH_VIEW_PLATFORMS),
            _ratio(out.modash_likes_mean, out.modash_views_mean),
        ),
        (out.platform == "instagram", _ratio(out.modash_likes_median, f)),
        else_=_null("float64"),
    )
    return out.mutate(
        n_posts=out.n_posts.fill_null(0),
        n_er=out.n_er.fill_null(0),
        posts_per_week=_when(out.n_posts > 0, _ratio(out.n_posts * 7, days_window)),
        likes_to_comments=_ratio(out.likes_sum, out.comments_sum),
        sponsored_share=_ratio(out.n_sponsored, out.n_sponsor_known),
        days_since_last_post=(now - out.last_post_t).cast("float64") / DAY,
        er_hypeauditor=_ratio(out.hype_lc_median, f),
        er_modash=modash,
        er_upfluence=_ratio(out.upfluence_lc_mean, f),
        er_grin=_ratio(out.grin_lc_mean, f),
        as_of_posts=out.window_end_t,
        as_of_er=ibis.greatest(out.window_end_t, out.er_as_of_snapshot),
        as_of_vendor=ibis.greatest(out.last_post_t, out.followers_t),
        **{f"tier__{name}": tier_expr(s, f, out.platform) for name, s in schemes.items()},
    )


def _with_cohort(out: ir.Table, tier_scheme: str) -> ir.Table:
    """Each account's cohort (platform × tier under the chosen scheme) and its percentile of
    the median engagement rate in it."""
    out = out.mutate(cohort_tier=out[f"tier__{tier_scheme}"])
    ranked = out.filter(out.er_median.notnull() & out.cohort_tier.notnull())
    cohort = ibis.window(group_by=["platform", "cohort_tier"], order_by="er_median")
    ranked = ranked.select(
        c_id=ranked.account_id,
        cohort_percentile=ibis.cume_dist().over(cohort) * 100,
        cohort_size=ranked.account_id.count().over(
            ibis.window(group_by=["platform", "cohort_tier"])
        ),
    )
    return out.left_join(ranked, out.account_id == ranked.c_id).drop("c_id")


def account_frame(
    pf: ir.Table,
    accounts: ir.Table,
    snapshots: ir.Table,
    *,
    now: int,
    settings: MetricsSettings,
    schemes: Mapping[str, TierScheme] | None = None,
) -> ir.Table:
    """One row per account: window statistics, vendor definitions, growth, tiers, cohort."""
    schemes = dict(schemes if schemes is not None else settings.schemes)
    parts = (_window_statistics(pf), _vendor_spans(pf, now), _followers_and_growth(snapshots, now))
    out = accounts.select("account_id", "platform")
    for part in parts:
        renamed = part.rename(part_id="account_id")
        out = out.left_join(renamed, out.account_id == renamed.part_id).drop("part_id")
    out = _account_values(out, now=now, settings=settings, schemes=schemes)
    return _with_cohort(out, settings.tier_scheme)
