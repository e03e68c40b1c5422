"""A vet places the account in its engagement cohort from the stored metrics when
`microfluence score` has run, and gives the same verdict as when it computes the cohort."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import sqlalchemy as sa

from microfluence.authenticity.evaluation.vetting import score_workspace
from microfluence.authenticity.signals.frames import load_stored_engagement
from microfluence.authenticity.vetting.report import vet_account
from microfluence.ingest.write.writer import import_run
from microfluence.kernel.store.tables import Workspace
from microfluence.metrics.service import compute_metrics
from microfluence.metrics.tiers import DEFAULT_SCHEME

T0 = dt.datetime(2025, 3, 1)
DAYS = 40
ACCOUNTS = 24


def _world(store) -> None:
    rng = np.random.default_rng(5)
    with import_run(store, "cohort", "test", "fixture") as writer:
        handles = [f"creator{i}" for i in range(ACCOUNTS)]
        ids = writer.accounts(
            pl.DataFrame({"platform": ["instagram"] * ACCOUNTS, "handle": handles})
        )
        for k, account_id in enumerate(ids):
            base = 5_000 + 400 * k
            followers = (base * np.exp(0.002 * np.arange(DAYS))).astype(int)
            writer.snapshots(
                pl.DataFrame(
                    {
                        "account_id": [account_id] * DAYS,
                        "captured_at": [T0 + dt.timedelta(days=d) for d in range(DAYS)],
                        "followers": followers,
                        "following": [300] * DAYS,
                    }
                )
            )
            n = 12
            # One account engages far below its cohort (bought followers do not like).
            rate = 0.002 if k == 0 else rng.uniform(0.02, 0.06)
            likes = rng.poisson(base * rate, n)
            writer.posts(
                pl.DataFrame(
                    {
                        "account_id": [account_id] * n,
                        "platform_post_id": [f"{k}-{i}" for i in range(n)],
                        "posted_at": [T0 + dt.timedelta(days=3 * i, hours=10) for i in range(n)],
                        "caption": ["A day outside"] * n,
                        "likes": likes,
                        "comments": rng.poisson(likes / 30) + 1,
                    }
                )
            )


def _engagement(report) -> dict:
    return report.component("engagement_rate").value | {
        "lc": report.component("likes_comments").value["modified_z"],
        "score": report.component("engagement_rate").score,
    }


def test_vet_reads_the_stored_cohort_and_agrees_with_the_computed_one(store):
    _world(store)
    computed = {h: vet_account(store, "cohort", "instagram", h) for h in ("creator0", "creator5")}
    assert any("computed from every account" in n for n in computed["creator0"].notes)
    bulk_computed = score_workspace(store, "cohort")
    assert set(bulk_computed["cohort_source"]) == {"computed"}

    compute_metrics(store, "cohort", now=dt.datetime(2025, 6, 1))
    with store.session() as session:
        ws_id = session.scalar(sa.select(Workspace.id).where(Workspace.name == "cohort"))
        stored = load_stored_engagement(session.connection(), ws_id, DEFAULT_SCHEME)
    assert stored is not None and stored.frame.height == ACCOUNTS

    for handle, before in computed.items():
        after = vet_account(store, "cohort", "instagram", handle)
        assert any("stored metrics" in n for n in after.notes)
        assert after.verdict == before.verdict
        assert after.quality_score == before.quality_score
        b, a = _engagement(before), _engagement(after)
        assert a["cohort_size"] == b["cohort_size"] == ACCOUNTS
        assert abs(a["modified_z"] - b["modified_z"]) < 1e-6
        assert abs(a["lc"] - b["lc"]) < 1e-6
    # The account engaging ten times below its cohort is an outlier either way.
    assert computed["creator0"].component("engagement_rate").score == 0

    bulk_stored = score_workspace(store, "cohort")
    assert set(bulk_stored["cohort_source"]) == {"stored metrics"}
    joined = bulk_computed.join(bulk_stored, on="account_id", suffix="_s")
    assert (joined["quality_score"] - joined["quality_score_s"]).abs().max() < 1e-9


def test_an_account_imported_after_scoring_falls_back_to_computing(store):
    _world(store)
    compute_metrics(store, "cohort", now=dt.datetime(2025, 6, 1))
    with import_run(store, "cohort", "test", "later") as writer:
        (late,) = writer.accounts(pl.DataFrame({"platform": ["instagram"], "handle": ["late"]}))
        writer.snapshots(
            pl.DataFrame(
                {
                    "account_id": [late] * 6,
                    "captured_at": [T0 + dt.timedelta(days=d) for d in range(6)],
                    "followers": [9_000] * 6,
                }
            )
        )
    report = vet_account(store, "cohort", "instagram", "late")
    assert any("computed from every account" in n for n in report.notes)
