"""The baseline for bench.metrics_pipeline: issue 4's metrics written plainly with pandas.

Same definitions as src/microfluence/metrics/pipeline.py (docs/metrics.md), the way one would
write them without an engine: merge_asof for the nearest snapshot, groupby for the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from microfluence.metrics.engines import finish
from microfluence.metrics.inputs import (
    DAY,
    GROWTH_DAYS,
    HYPEAUDITOR_POSTS,
    MODASH_DAYS,
    MODASH_VIEW_PLATFORMS,
    NOT_VIDEO,
    UPFLUENCE_DAYS,
    Z95,
)
from microfluence.metrics.references import add_reference_bands
from microfluence.metrics.tiers import DEFAULT_SCHEME, PRESETS


def _ratio(num, den):  # type: ignore[no-untyped-def]
    num = pd.Series(num, dtype="float64") if not isinstance(num, pd.Series) else num
    den = den.astype("float64")
    return (num.astype("float64") / den).where(den > 0)


def pandas_metrics(data, *, now: int, window_posts: int = 30) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    accounts = data.accounts.to_pandas()
    snaps = data.snapshots.to_pandas()
    posts = data.posts.to_pandas()  # nullable counts become float64 with NaN

    snaps = snaps[snaps.followers.notna() & snaps.t.notna() & (snaps.t <= now)]
    snaps = snaps.sort_values("t")
    dated = posts[posts.t.notna()].copy()
    dated["t"] = dated.t.astype("int64")
    dated = dated.sort_values("t")
    s = snaps.rename(columns={"t": "snapshot_t", "followers": "followers_at_post"})
    s["snapshot_t"] = s.snapshot_t.astype("int64")
    p = pd.merge_asof(
        dated, s, left_on="t", right_on="snapshot_t", by="account_id", direction="nearest"
    )

    inter = p.likes + p.comments + p.shares.fillna(0) + p.saves.fillna(0)
    p["interactions"] = inter.where(p.likes.notna() & p.comments.notna())
    p["likes_comments"] = p.likes + p.comments
    viewable = p.post_type.isna() | ~p.post_type.isin(NOT_VIDEO)
    p["er"] = _ratio(p.interactions, p.followers_at_post)
    p["er_views"] = _ratio(p.interactions, p.views).where(viewable)
    p["er_reach"] = _ratio(p.interactions, p.reach)
    p["v2f"] = _ratio(p.views, p.followers_at_post).where(viewable)
    p = p[p.t <= now]
    # rank = number of strictly newer posts (ties at the window's edge all stay in)
    p["rank"] = p.groupby("account_id").t.rank(method="min", ascending=False) - 1
    w = p[p["rank"] < window_posts]

    # engagement rate by followers: mean, median, sd and the median's order statistics
    e = w[w.er.notna()].sort_values(["account_id", "er", "post_id"])
    g = e.groupby("account_id").er
    n = g.transform("count")
    rank = g.cumcount() + 1
    half = Z95 * np.sqrt(n) / 2
    lo = np.floor(n / 2 - half + 0.5)
    hi = np.floor(1 + n / 2 + half + 0.5)
    er = pd.DataFrame(
        {
            "n_er": g.count(),
            "er_mean": g.mean(),
            "er_median": g.median(),
            "er_sd": g.std(),
            "er_median_lo": e.er.where((rank == lo) & (lo >= 1)).groupby(e.account_id).max(),
            "er_median_hi": e.er.where((rank == hi) & (hi <= n)).groupby(e.account_id).max(),
            "er_as_of_snapshot": e.groupby("account_id").snapshot_t.max(),
        }
    )

    both = w.likes.notna() & w.comments.notna()
    sponsored = w.is_sponsored.fillna(False).astype(bool)
    organic = w.is_sponsored.notna() & ~w.is_sponsored.fillna(True).astype(bool)
    gw = w.groupby("account_id")
    win = pd.DataFrame(
        {
            "n_posts": gw.size(),
            "window_start_t": gw.t.min(),
            "window_end_t": gw.t.max(),
            "er_views_mean": gw.er_views.mean(),
            "er_views_median": gw.er_views.median(),
            "er_reach_mean": gw.er_reach.mean(),
            "er_reach_median": gw.er_reach.median(),
            "likes_sum": w.likes.where(both).groupby(w.account_id).sum(min_count=1),
            "comments_sum": w.comments.where(both).groupby(w.account_id).sum(min_count=1),
            "views_to_followers": gw.v2f.mean(),
            "n_sponsored": sponsored.groupby(w.account_id).sum(),
            "n_sponsor_known": gw.is_sponsored.count(),
            "er_sponsored_median": w.er.where(sponsored).groupby(w.account_id).median(),
            "er_organic_median": w.er.where(organic).groupby(w.account_id).median(),
            "grin_lc_mean": gw.likes_comments.mean(),
        }
    )

    recent = p["rank"] < HYPEAUDITOR_POSTS
    modash_span = p.t > now - MODASH_DAYS * DAY
    pair = modash_span & p.likes.notna() & p.views.notna()
    ga = p.groupby("account_id")
    allp = pd.DataFrame(
        {
            "last_post_t": ga.t.max(),
            "hype_lc_median": p.likes_comments.where(recent).groupby(p.account_id).median(),
            "modash_likes_median": p.likes.where(modash_span).groupby(p.account_id).median(),
            "modash_likes_mean": p.likes.where(pair).groupby(p.account_id).mean(),
            "modash_views_mean": p.views.where(pair).groupby(p.account_id).mean(),
            "upfluence_lc_mean": p.likes_comments.where(p.t > now - UPFLUENCE_DAYS * DAY)
            .groupby(p.account_id)
            .mean(),
        }
    )

    latest = snaps.sort_values("t").groupby("account_id").tail(1)
    latest = latest.set_index("account_id").rename(columns={"t": "followers_t"})
    growth = latest.copy()
    j = snaps.join(latest, on="account_id", rsuffix="_now")
    for k in GROWTH_DAYS:
        ok = (j.t <= j.followers_t - k * DAY) & (j.t >= j.followers_t - 2 * k * DAY)
        base = j[ok].sort_values("t").groupby("account_id").tail(1).set_index("account_id")
        growth[f"base_followers_{k}"] = base.followers
        diff = growth.followers - growth[f"base_followers_{k}"]
        growth[f"growth_{k}d"] = diff
        growth[f"growth_{k}d_pct"] = _ratio(diff, growth[f"base_followers_{k}"])

    out = accounts.set_index("account_id").join([er, win, allp, growth])
    out["n_posts"] = out.n_posts.fillna(0)
    out["n_er"] = out.n_er.fillna(0)
    f = out.followers
    span = (now - out.window_start_t) / DAY
    out["posts_per_week"] = _ratio(out.n_posts * 7, span).where(out.n_posts > 0)
    out["likes_to_comments"] = _ratio(out.likes_sum, out.comments_sum)
    out["sponsored_share"] = _ratio(out.n_sponsored, out.n_sponsor_known)
    out["days_since_last_post"] = (now - out.last_post_t) / DAY
    out["er_hypeauditor"] = _ratio(out.hype_lc_median, f)
    views_platform = out.platform.isin(MODASH_VIEW_PLATFORMS)
    out["er_modash"] = np.where(
        views_platform,
        _ratio(out.modash_likes_mean, out.modash_views_mean),
        _ratio(out.modash_likes_median, f).where(out.platform == "instagram"),
    )
    out["er_upfluence"] = _ratio(out.upfluence_lc_mean, f)
    out["er_grin"] = _ratio(out.grin_lc_mean, f)
    for name, scheme in PRESETS.items():
        out[f"tier__{name}"] = scheme.classify(f.to_numpy(dtype="float64"), out.platform.to_numpy())
    out["cohort_tier"] = out[f"tier__{DEFAULT_SCHEME}"]
    ranked = out[out.er_median.notna() & out.cohort_tier.notna()]
    cohort = ranked.groupby(["platform", "cohort_tier"]).er_median
    out["cohort_percentile"] = cohort.rank(method="max", pct=True) * 100
    out["cohort_size"] = cohort.transform("count")
    out = out.reset_index()
    table = finish(
        __import__("pyarrow").Table.from_pandas(
            out[
                [
                    "account_id",
                    "platform",
                    "n_er",
                    "er_mean",
                    "er_sd",
                    f"tier__{DEFAULT_SCHEME}",
                    "er_median",
                    "er_views_median",
                ]
            ],
            preserve_index=False,
        )
    )
    for column in (
        "er_mean_lo",
        "er_mean_hi",
        "reference_low",
        "reference_high",
        "reference_position",
    ):
        out[column] = table[column].to_numpy(zero_copy_only=False)
    keep = [
        c
        for c in out.columns
        if not c.startswith(("base_", "hype_", "modash_", "upfluence_", "grin_"))
    ]
    return out[keep]


__all__ = ["pandas_metrics", "add_reference_bands"]
