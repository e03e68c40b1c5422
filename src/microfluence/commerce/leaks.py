"""Leaked codes (docs/measurement.md#leaked-codes): a code order without a click from the
creator in the window, one referred by a coupon site, and bursts of coupon-referred code
orders of one creator; computed for all the orders at once (Polars, and NumPy for the bursts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from microfluence.commerce.attribution_load import STORED

COUPON_SITES = (
    "retailmenot.com",
    "honey.com",
    "joinhoney.com",
    "coupons.com",
    "couponfollow.com",
    "couponcabin.com",
    "dealspotr.com",
    "knoji.com",
    "wethrift.com",
    "slickdeals.net",
    "groupon.com",
    "vouchercodes.co.uk",
    "myvouchercodes.co.uk",
    "vouchercloud.com",
    "hotukdeals.com",
    "dealabs.com",
    "mydealz.de",
    "savings.com",
    "offers.com",
    "brandsoff.com",
    "couponbirds.com",
    "promocodes.com",
    "capitaloneshopping.com",
    "karmanow.com",
    "rakuten.com",
)


@dataclass(frozen=True)
class LeakRules:
    burst_orders: int = 3
    burst_hours: float = 24.0
    coupon_sites: tuple[str, ...] = COUPON_SITES


def coupon_referred(ref_host: pl.Expr, sites: tuple[str, ...]) -> pl.Expr:
    pattern = r"(^|\.)(" + "|".join(s.replace(".", r"\.") for s in sites) + r")$"
    return ref_host.fill_null("").str.to_lowercase().str.contains(pattern)


def burst_flags(creators: np.ndarray, times: np.ndarray, orders: int, seconds: float) -> np.ndarray:
    """True for each event in a burst: ``orders`` or more events of one creator whose first and
    last are at most ``seconds`` apart. ``times`` in seconds; any order."""
    n = len(times)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((times, creators))
    group = np.unique(creators[order], return_inverse=True)[1].astype(np.int64)
    t = times[order].astype(np.int64)
    stride = int(t.max() - t.min()) + int(seconds) + 2
    key = group * stride + (t - t.min())
    counts = np.searchsorted(key, key + int(seconds), side="right") - np.arange(n)
    starts = np.flatnonzero(counts >= orders)
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, starts + counts[starts], -1)
    flags = np.empty(n, dtype=bool)
    flags[order] = np.cumsum(diff)[:n] > 0
    return flags


def flag_leaks(result: pl.DataFrame, rules: LeakRules) -> pl.DataFrame:
    """``leak`` and ``leak_reason`` for each attributed order (``method``, ``creator_id``,
    ``click_id``, ``days``, ``t``, ``ref_host``): the reasons of the module docstring."""
    code = pl.col("method") == "code"
    coupon = code & coupon_referred(pl.col("ref_host"), rules.coupon_sites)
    result = result.with_columns(coupon=coupon)
    burst_rows = result.filter(pl.col("coupon"))
    flags = burst_flags(
        burst_rows["creator_id"].to_numpy(),
        burst_rows["t"].dt.epoch("s").to_numpy(),
        rules.burst_orders,
        rules.burst_hours * 3600,
    )
    bursts = burst_rows.select("oid").with_columns(burst=pl.Series(flags, dtype=pl.Boolean))
    result = result.join(bursts, on="oid", how="left").with_columns(
        pl.col("burst").fill_null(False)
    )
    reasons = pl.concat_list(
        pl.when(code & pl.col("click_id").is_null()).then(
            pl.format("no click from the creator in the {} days before", pl.col("days"))
        ),
        pl.when(pl.col("coupon")).then(
            pl.format("referred by the coupon site {}", pl.col("ref_host"))
        ),
        pl.when(pl.col("burst")).then(
            pl.lit(
                f"a burst of {rules.burst_orders}+ code orders from coupon sites "
                f"within {rules.burst_hours:g} h"
            )
        ),
    ).list.drop_nulls()
    return result.with_columns(
        leak=reasons.list.len() > 0,
        leak_reason=pl.when(reasons.list.len() > 0).then(reasons.list.join("; ")),
    ).select(
        "oid",
        "method",
        "creator_id",
        "deal_id",
        "campaign_id",
        "code_id",
        "link_id",
        "click_id",
        "leak",
        "leak_reason",
        *STORED,
    )
