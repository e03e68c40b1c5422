"""Published reference bands: the engagement rate typical of a tier, so a number has context.

Source: Untapper, "Influencer Marketing Benchmarks & KPIs (2026)",
https://untapper.com/influencer-marketing-benchmarks — the "Average ER" column of its Instagram
and TikTok tables, by the Mediakix tiers (nano 1K–10K, micro 10K–50K, mid 50K–500K,
macro 500K–1M, mega 1M+). Its Instagram rates are by followers; its TikTok page says TikTok
rates are "typically measured against views", so a TikTok account is placed by its median
engagement rate by views. These are a vendor's published figures, not our measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

REFERENCE_SCHEME = "mediakix"
REFERENCE_SOURCE = "Untapper, Influencer Marketing Benchmarks & KPIs (2026), 'Average ER'"
REFERENCE_URL = "https://untapper.com/influencer-marketing-benchmarks"


@dataclass(frozen=True)
class ReferenceBand:
    platform: str
    tier: str
    low: float
    high: float
    measured_by: str  # the account metric compared with the band


REFERENCE_BANDS: tuple[ReferenceBand, ...] = (
    ReferenceBand("instagram", "nano", 0.03, 0.05, "er_median"),
    ReferenceBand("instagram", "micro", 0.02, 0.035, "er_median"),
    ReferenceBand("instagram", "mid", 0.015, 0.025, "er_median"),
    ReferenceBand("instagram", "macro", 0.01, 0.018, "er_median"),
    ReferenceBand("instagram", "mega", 0.007, 0.012, "er_median"),
    ReferenceBand("tiktok", "nano", 0.06, 0.10, "er_views_median"),
    ReferenceBand("tiktok", "micro", 0.04, 0.07, "er_views_median"),
    ReferenceBand("tiktok", "mid", 0.03, 0.05, "er_views_median"),
    ReferenceBand("tiktok", "macro", 0.02, 0.035, "er_views_median"),
    ReferenceBand("tiktok", "mega", 0.01, 0.02, "er_views_median"),
)


def add_reference_bands(accounts: pa.Table) -> pa.Table:
    """Columns reference_low/high/position from the account's platform and Mediakix tier."""
    platform = np.asarray(accounts["platform"].to_pylist(), dtype=object)
    tier = np.asarray(accounts[f"tier__{REFERENCE_SCHEME}"].to_pylist(), dtype=object)
    low = np.full(len(platform), np.nan)
    high = np.full(len(platform), np.nan)
    value = np.full(len(platform), np.nan)
    for band in REFERENCE_BANDS:
        hit = (platform == band.platform) & (tier == band.tier)
        if hit.any():
            low[hit] = band.low
            high[hit] = band.high
            measured = accounts[band.measured_by].to_numpy(zero_copy_only=False)
            value[hit] = np.asarray(measured, dtype="float64")[hit]
    position = np.where(value < low, -1.0, np.where(value > high, 1.0, 0.0))
    position[np.isnan(value) | np.isnan(low)] = np.nan
    for name, column in (
        ("reference_low", low),
        ("reference_high", high),
        ("reference_position", position),
    ):
        accounts = accounts.append_column(name, pa.array(column, from_pandas=True))
    return accounts
