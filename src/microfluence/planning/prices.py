"""Prices per account and format: the published band as the prior, moved by the workspace's own
deals with a ridge (Gaussian-prior) regression, so that one deal does not swing it.

For a past deal ``i`` with a cash fee, its package in *main-format units*
``u_i = Σ_f count_f × multiplier(platform, f)`` and its account's prior centre ``m_i`` (the
middle of the band's log price), the target is ``y_i = ln(fee_i / u_i) − m_i``: how far the
workspace pays from the published rate. ``y = Xβ + ε`` with ``ε ~ N(0, σ²)`` and
``β ~ N(0, τ² I)``; features are an intercept, log followers and log ER (centred), platform,
niche and the package's format shares (one-hot / shares, so each level is pooled toward the
published rate). The posterior mean and covariance are ridge's:
``β̂ = (XᵀX + (σ²/τ²) I)⁻¹ Xᵀy``, ``Σ = σ² (XᵀX + (σ²/τ²) I)⁻¹``; ``σ²`` is the residual
variance shrunk toward the band's own width (``(ν₀σ₀² + RSS) / (ν₀ + n)``).
A prediction's log price is ``m + ln multiplier + xβ̂`` with sd ``√(σ² + xᵀΣx)``, and its range
the 90 % interval. With no deals it is exactly the published band (docs/planning.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microfluence.campaigns.tables import Deal, Deliverable
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.kernel.errors import InputError
from microfluence.kernel.store.tables import Account
from microfluence.planning import rates
from microfluence.planning.candidates import load_candidates

TAU = 0.15  # prior sd of every coefficient, in log price (about ±16 % per sd)
NU0 = 5.0  # the band's width counts as this many deals when estimating σ²
FOLLOWERS_CENTRE = np.log(30_000.0)
ER_CENTRE = np.log(0.03)


@dataclass(frozen=True)
class PriceRange:
    format: str
    low: float
    mid: float
    high: float
    basis: str
    package: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountPrices:
    account_id: int
    account: str
    followers: float
    tier: str
    currency: str
    source: str
    deals: int
    prices: list[PriceRange]


def deal_history(session: Session, workspace_id: int) -> pl.DataFrame:
    """One row per past deal with a cash fee and a package: the account's platform,
    followers, ER, niche, the fee and the units of its package per format."""
    deals = session.execute(
        select(Deal.id, Deal.account_id, Deal.flat_fee).where(
            Deal.workspace_id == workspace_id, Deal.flat_fee > 0, Deal.account_id.is_not(None)
        )
    ).all()
    frame = pl.DataFrame(
        [(d, a, float(f)) for d, a, f in deals],
        schema={"deal_id": pl.Int64, "account_id": pl.Int64, "fee": pl.Float64},
        orient="row",
    )
    pieces = session.execute(
        select(Deliverable.deal_id, Deliverable.format, func.count())
        .where(Deliverable.workspace_id == workspace_id, Deliverable.deal_id.in_(frame["deal_id"]))
        .group_by(Deliverable.deal_id, Deliverable.format)
    ).all()
    counts = pl.DataFrame(
        [tuple(p) for p in pieces],
        schema={"deal_id": pl.Int64, "format": pl.String, "count": pl.Int64},
        orient="row",
    )
    wide = frame.select("deal_id")
    for fmt in rates.PIECE_FORMATS:
        part = counts.filter(pl.col("format") == fmt).select("deal_id", pl.col("count").alias(fmt))
        wide = wide.join(part, on="deal_id", how="left")
    wide = wide.with_columns(pl.col(*rates.PIECE_FORMATS).fill_null(0))
    accounts = load_candidates(session, workspace_id, account_ids=frame["account_id"].to_list())
    return (
        frame.join(wide, on="deal_id")
        .join(
            accounts.select("account_id", "platform", "followers", "er", "niche"), on="account_id"
        )
        .filter(pl.sum_horizontal(*rates.PIECE_FORMATS) > 0)
    )


def _units(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Main-format units of each deal's package, and each format's share of them."""
    plats = frame["platform"].to_numpy()
    parts = []
    for fmt in rates.PIECE_FORMATS:
        mult = rates.format_multiplier(plats, np.full(len(plats), fmt, dtype=object))
        # A format the platform does not list is priced as its main format.
        parts.append(frame[fmt].to_numpy().astype("float64") * np.nan_to_num(mult, nan=1.0))
    stacked = np.column_stack(parts) if parts else np.zeros((len(plats), 0))
    units = stacked.sum(axis=1)
    return units, stacked / np.maximum(units, 1e-12)[:, None]


def _band(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Prior centre and sd of the log main-format price per row."""
    low, high = rates.prior_log_band(frame["platform"].to_numpy(), frame["followers"].to_numpy())
    return (low + high) / 2, (high - low) / (2 * rates.BAND_Z)


@dataclass
class PriceModel:
    """The fitted ridge regression (or the prior alone when ``n == 0``)."""

    n: int = 0
    platforms: list[str] = field(default_factory=list)
    niches: list[str] = field(default_factory=list)
    beta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sigma: float = 0.0

    def design(self, frame: pl.DataFrame, shares: np.ndarray) -> np.ndarray:
        followers = np.log(np.maximum(frame["followers"].to_numpy().astype("float64"), 100.0))
        er = frame["er"].to_numpy().astype("float64")
        er_term = np.where(np.isfinite(er) & (er > 0), np.log(np.clip(er, 1e-4, 1.0)), ER_CENTRE)
        plats = frame["platform"].to_numpy()
        niches = frame["niche"].to_numpy()
        columns = [
            np.ones(len(frame)),
            followers - FOLLOWERS_CENTRE,
            er_term - ER_CENTRE,
            *((plats == p).astype("float64") for p in self.platforms),
            *((niches == n).astype("float64") for n in self.niches),
            *(shares[:, j] for j in range(shares.shape[1])),
        ]
        return np.column_stack(columns)


def fit_prices(history: pl.DataFrame) -> PriceModel:
    """The ridge posterior from the deal history (:func:`deal_history`)."""
    if history.height == 0:
        return PriceModel()
    model = PriceModel(
        n=history.height,
        platforms=sorted(history["platform"].unique().to_list()),
        niches=sorted(history["niche"].unique().to_list()),
    )
    units, shares = _units(history)
    centre, band_sd = _band(history)
    y = np.log(history["fee"].to_numpy() / units) - centre
    x = model.design(history, shares)
    sigma2 = float(np.mean(band_sd**2))
    prior = sigma2
    for _ in range(3):  # σ² and β depend on each other: a few fixed-point steps settle them
        a = x.T @ x + (sigma2 / TAU**2) * np.eye(x.shape[1])
        beta = np.linalg.solve(a, x.T @ y)
        rss = float(np.sum((y - x @ beta) ** 2))
        sigma2 = (NU0 * prior + rss) / (NU0 + len(y))
    a = x.T @ x + (sigma2 / TAU**2) * np.eye(x.shape[1])
    model.beta = beta
    model.cov = sigma2 * np.linalg.inv(a)
    model.sigma = float(np.sqrt(sigma2))
    return model


def predict(model: PriceModel, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (platform, followers, er, niche, format) with price_low/mid/high (90 %) and
    log_price_mean/sd, vectorised over rows."""
    plats = frame["platform"].to_numpy()
    fmts = frame["format"].to_numpy()
    mult = rates.format_multiplier(plats, fmts)
    centre, band_sd = _band(frame)
    mean = centre + np.log(mult)
    sd = band_sd
    if model.n:
        shares = _format_shares(plats, fmts)
        x = model.design(frame, shares)
        mean = mean + x @ model.beta
        sd = np.sqrt(model.sigma**2 + np.einsum("ij,jk,ik->i", x, model.cov, x))
    z = rates.BAND_Z
    return frame.with_columns(
        log_price_mean=pl.Series(mean),
        log_price_sd=pl.Series(sd),
        price_low=pl.Series(np.exp(mean - z * sd)),
        price_mid=pl.Series(np.exp(mean)),
        price_high=pl.Series(np.exp(mean + z * sd)),
    )


def _format_shares(plats: np.ndarray, fmts: np.ndarray) -> np.ndarray:
    """Each row's package (one piece, or the bundle) as shares of its units per format."""
    out = np.zeros((len(plats), len(rates.PIECE_FORMATS)))
    for j, fmt in enumerate(rates.PIECE_FORMATS):
        single = rates.format_multiplier(plats, np.full(len(plats), fmt, dtype=object))
        offered = np.nan_to_num(single, nan=0.0)
        bundle_total = np.zeros(len(plats))
        for other in rates.PIECE_FORMATS:
            m = rates.format_multiplier(plats, np.full(len(plats), other, dtype=object))
            bundle_total += np.nan_to_num(m, nan=0.0)
        out[:, j] = np.where(
            fmts == "bundle", offered / np.maximum(bundle_total, 1e-12), (fmts == fmt) * 1.0
        )
    return out


def basis(model: PriceModel) -> str:
    if model.n == 0:
        return f"prior only ({rates.RATE_SOURCE})"
    return f"{model.n} deal{'s' if model.n != 1 else ''} of this workspace + prior"


def account_prices(session: Session, workspace_id: int, reference: str) -> AccountPrices:
    """The price range of every format the account's platform offers (``PLATFORM:HANDLE``)."""
    account = find_account_by_reference(session, workspace_id, reference)
    return account_prices_by_id(session, workspace_id, account)


def account_prices_by_id(session: Session, workspace_id: int, account: Account) -> AccountPrices:
    model = fit_prices(deal_history(session, workspace_id))
    cand = load_candidates(session, workspace_id, account_ids=[account.id])
    if cand.height == 0:  # no follower count yet: the price cannot be placed on the band
        raise InputError(
            f"{account.platform}:{account.handle} has no follower count yet: import a "
            "snapshot first",
            field="followers",
        )
    offered = list(rates.formats_for(account.platform))
    rows = cand.select(pl.exclude("format")).join(pl.DataFrame({"format": offered}), how="cross")
    priced = predict(model, rows)
    text = basis(model)
    return AccountPrices(
        account_id=account.id,
        account=f"{account.platform}:{account.handle}",
        followers=float(cand["followers"][0]),
        tier=str(rates.tier_of(cand["followers"].to_numpy())[0]),
        currency="USD",
        source=rates.RATE_URL,
        deals=model.n,
        prices=[
            PriceRange(
                format=r["format"],
                low=round(r["price_low"], 2),
                mid=round(r["price_mid"], 2),
                high=round(r["price_high"], 2),
                basis=text,
                package=rates.package_of(account.platform, r["format"]),
            )
            for r in priced.iter_rows(named=True)
        ],
    )
