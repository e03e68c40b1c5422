"""The one pipeline definition gives the same results on DuckDB and on Spark."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from metrics_data import DAY, NOW_DAY, inputs
from microfluence.metrics.engines import PipelineInputs, run_pipeline, spark_session
from microfluence.metrics.settings import MetricsSettings

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
NOW = NOW_DAY * DAY


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test session, with few shuffle partitions."""
    session = spark_session(shuffle_partitions=2)
    # Test data is tiny: compiling query code and re-planning cost more than they save.
    session.conf.set("spark.sql.adaptive.enabled", "false")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    yield session


def messy(seed: int, accounts: int = 150, posts: int = 3000) -> PipelineInputs:
    """Random data with every kind of hole: NULL counts, zero followers, undated posts, ties."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, accounts + 1)
    platforms = rng.choice(["instagram", "tiktok", "youtube", "x"], accounts)
    snap_account = rng.choice(ids, accounts * 4)
    snap_day = rng.integers(0, NOW_DAY, snap_account.size)
    snaps = pa.table(
        {
            "account_id": snap_account,
            "t": snap_day * DAY,
            "followers": rng.integers(0, 2e6, snap_account.size),
        }
    )
    snaps = snaps.group_by(["account_id", "t"]).aggregate([("followers", "max")])
    snaps = snaps.rename_columns(["account_id", "t", "followers"])
    n = posts
    day = rng.integers(0, NOW_DAY + 10, n).astype(float)  # some in the future
    day[rng.random(n) < 0.02] = np.nan  # undated
    day[: n // 20] = 150  # many ties in time

    def counts(scale: float, null_share: float) -> pa.Array:
        values = rng.poisson(scale, n)
        return pa.array(values, mask=rng.random(n) < null_share)

    return PipelineInputs(
        accounts=pa.table({"account_id": ids, "platform": platforms}),
        snapshots=snaps,
        posts=pa.table(
            {
                "post_id": np.arange(n) + 1000,
                "account_id": rng.choice(ids, n),
                "t": pa.array(day * DAY, mask=np.isnan(day)).cast(pa.int64()),
                "post_type": pa.array(
                    rng.choice(["image", "video", "reel", "carousel", "short"], n),
                    mask=rng.random(n) < 0.1,
                ),
                "likes": counts(500, 0.1),
                "comments": counts(20, 0.05),
                "shares": counts(5, 0.5),
                "saves": counts(3, 0.6),
                "views": counts(5000, 0.4),
                "reach": counts(3000, 0.7),
                "is_sponsored": pa.array(rng.random(n) < 0.2, mask=rng.random(n) < 0.3),
            }
        ),
    )


def assert_same(a: pa.Table, b: pa.Table, key: str) -> None:
    a = a.sort_by(key)
    b = b.sort_by(key).select(a.column_names)
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        left, right = a[name].to_pylist(), b[name].to_pylist()
        for i, (x, y) in enumerate(zip(left, right, strict=True)):
            if isinstance(x, float) or isinstance(y, float):
                both_missing = (x is None or math.isnan(x)) and (y is None or math.isnan(y))
                assert both_missing or x == pytest.approx(y, rel=1e-9, abs=1e-12), (name, i, x, y)
            else:
                assert x == y, (name, i, x, y)


def test_duckdb_and_spark_agree_on_messy_data(spark):
    data = messy(11)
    settings = MetricsSettings()
    duck = run_pipeline(data, settings, now=NOW, engine="duckdb")
    sprk = run_pipeline(data, settings, now=NOW, engine="spark", spark=spark)
    assert_same(duck.accounts, sprk.accounts, "account_id")
    assert_same(duck.posts, sprk.posts, "post_id")
    assert duck.accounts.num_rows == 150
    assert sum(v is not None for v in duck.accounts["er_median_lo"].to_pylist()) > 10


def test_spark_reproduces_the_hand_computed_example_with_a_day_window(spark):
    settings = MetricsSettings(window_posts=None, window_days=30)
    duck = run_pipeline(inputs(), settings, now=NOW, engine="duckdb")
    sprk = run_pipeline(inputs(), settings, now=NOW, engine="spark", spark=spark)
    assert_same(duck.accounts, sprk.accounts, "account_id")
    assert_same(duck.posts, sprk.posts, "post_id")
    acc = {r["account_id"]: r for r in sprk.accounts.to_pylist()}
    assert acc[1]["n_posts"] == 3  # posts 13, 14, 15 fall in the last 30 days
    assert acc[1]["er_median"] == pytest.approx((66 / 1200 + 33 / 1200) / 2)
    assert acc[1]["er_hypeauditor"] == pytest.approx(48.5 / 1200)
