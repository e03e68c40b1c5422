"""Evaluation labels: what was planted in which account, when and how much."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from microfluence.demo.model import (
    AUTHENTIC,
    BOTS,
    BOUGHT,
    POD,
    bought_followers,
    organic_followers,
)

if TYPE_CHECKING:
    from microfluence.demo.population import Population


def planted_labels(pop: Population) -> pl.DataFrame:
    """One row per (account, label): what was planted, when and how much (``detail``)."""
    spec, a = pop.spec, pop._arrays
    start = spec.start_at
    m = pop.n_accounts
    idx = np.arange(m)

    def day_text(day: np.ndarray) -> pl.Series:
        finite = np.isfinite(day)
        offset = (np.where(finite, day, 0) * 86_400_000_000).astype("timedelta64[us]")
        at = pl.Series(np.datetime64(start, "us") + offset).dt.strftime("%Y-%m-%d %H:%M:%S")
        frame = pl.DataFrame({"at": at, "ok": finite})
        return frame.select(pl.when("ok").then(pl.col("at")).alias("at"))["at"]

    rows: list[pl.DataFrame] = []
    bought = idx[a["bought"]]
    if bought.size:
        base = organic_followers(a, bought, a["bought_day"][bought])
        end_bought = bought_followers(a, bought, np.full(bought.size, spec.days - 1.0))
        rows.append(
            pl.DataFrame(
                {
                    "account_key": bought,
                    "label": BOUGHT,
                    "detail": pl.DataFrame(
                        {
                            "kind": BOUGHT,
                            "jump_at": day_text(a["bought_day"][bought]),
                            "jump_days": np.round(a["bought_len"][bought], 2),
                            "followers_before": np.round(base).astype(np.int64),
                            "followers_bought": np.round(a["bought_frac"][bought] * base).astype(
                                np.int64
                            ),
                            "fake_followers_at_end": np.round(end_bought).astype(np.int64),
                            "purged_share": np.round(a["purge"][bought], 3),
                        }
                    ).to_struct(),
                }
            )
        )
    pods = idx[a["pod"]]
    if pods.size:
        handles = pop.accounts["handle"]
        members = a["pod_members"]
        group = a["pod_group"][pods]
        # Each pod's member handles, as one list per pod (a few hundred pods at most).
        pod_handles = (
            pl.DataFrame({"g": a["pod_group"][members], "h": handles.gather(members)})
            .group_by("g", maintain_order=True)
            .agg(pl.col("h"))
        )
        detail = pl.DataFrame(
            {
                "kind": POD,
                "pod": group,
                "members": pl.DataFrame({"g": group}).join(
                    pod_handles, on="g", how="left", maintain_order="left"
                )["h"],
                "reach": np.round(a["pod_reach"][pods], 3),
            }
        )
        rows.append(pl.DataFrame({"account_key": pods, "label": POD, "detail": detail.to_struct()}))
    bots = idx[a["bots"]]
    if bots.size:
        rows.append(
            pl.DataFrame(
                {
                    "account_key": bots,
                    "label": BOTS,
                    "detail": pl.DataFrame(
                        {
                            "kind": BOTS,
                            "bought_comments_per_real_comment": np.round(a["bot_ratio"][bots], 3),
                            "farm_offset": a["bot_offset"][bots],
                        }
                    ).to_struct(),
                }
            )
        )
    clean = idx[~(a["bought"] | a["pod"] | a["bots"])]
    rows.append(
        pl.DataFrame(
            {
                "account_key": clean,
                "label": AUTHENTIC,
                "detail": pl.DataFrame(
                    {
                        "kind": AUTHENTIC,
                        "viral_surge_at": day_text(a["viral_day"][clean]),
                        "viral_gain": np.round(a["viral_size"][clean], 3),
                    }
                ).to_struct(),
            }
        )
    )
    # The kinds' details differ: each is encoded as JSON text (the store's JSON column).
    return pl.concat([r.with_columns(pl.col("detail").struct.json_encode()) for r in rows]).sort(
        "account_key", "label"
    )
