"""The demo campaign's traffic: clicks on the creators' short links, the shop's orders and their
refunds, generated for all creators at once with NumPy and Polars (docs/demo.md, "The running
campaign"). Pure functions: the frames come out in the columns of ``link_clicks``, ``orders``
and ``refunds``; :mod:`microfluence.demo.campaign` writes them through the real write paths and
runs the real attribution.

The model, per creator (one row of the *plan*):

* an outcome drawn for the creator (winner, modest, flop) sets the net revenue the creator is
  expected to bring as a multiple of what the deal costs: ``R = (1 + r) · fixed / (1 − (1 + r)
  · c)`` for a target ROI ``r``, fixed costs (fee, product, shipping) and commission rate ``c``
  (ROI = (R − fixed − c·R) / (fixed + c·R), solved for R);
* expected orders = R ÷ (average order value × (1 − refund share)), Poisson; a share of them
  (drawn per creator) is made with the creator's code, the rest by clicking the link;
* unique clicks = click orders ÷ the creator's conversion rate (1.5–3.5 %), plus 15 % repeat
  clicks by the same visitor within minutes, plus 18 % bots, link previews and prefetches;
* clicks follow the creator's campaign posts: a burst after each post decaying with a mean of
  18 hours, plus a quarter from the link in bio spread evenly, thinned by the hour of the day.

Click tokens are random (they are unique across every workspace of the store, like real ones);
everything else is drawn from the generator passed in, so a seed gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
import secrets

import numpy as np
import polars as pl

# Share of orders refunded, and of those refunded in full (the rest partially).
REFUND_SHARE = 0.07
FULL_REFUND_SHARE = 0.75
VOIDED_SHARE = 0.01
CODE_DISCOUNT = 0.15  # the creators' codes take 15 % off
FREE_SHIPPING_FROM = 50.0
SHIPPING = 5.95
BASKET_MEDIAN, BASKET_SIGMA = 62.0, 0.4  # order value before discounts, log-normal
REPEAT_SHARE = 0.15  # repeat clicks of a visitor, minutes after the first
NOT_PEOPLE_SHARE = 0.18  # bots, link previews, prefetches, per person click
BIO_SHARE = 0.25  # clicks from the link in bio, spread evenly after the first post
DECAY_HOURS = 18.0  # mean delay of a click after its post
TOKEN_ORDER_SHARE = 0.7  # click orders whose landing URL still names the click
ORGANIC_SHARE = 0.35  # the shop's orders that no creator drove, per campaign order
# Relative traffic by UTC hour (late morning and evening peaks, a quiet night).
HOURLY = np.array(
    [0.5, 0.35, 0.25, 0.2, 0.2, 0.25, 0.35, 0.5, 0.65, 0.75, 0.8, 0.85]
    + [0.9, 0.9, 0.85, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0, 0.95, 0.85, 0.7]
)
REFERRERS = {"instagram": "https://l.instagram.com/", "tiktok": "https://www.tiktok.com/"}
LEAK_REFERRER = "https://www.retailmenot.com/view/glowlab.example"
US = "US"
NO_CODES = pl.lit([], dtype=pl.List(pl.String))

PLAN_SCHEMA = {
    "creator_id": pl.Int64,
    "link_id": pl.Int64,
    "workspace_id": pl.Int64,
    "platform": pl.String,
    "country": pl.String,
    "destination": pl.String,
    "code": pl.String,
    "fixed_cost": pl.Float64,
    "commission_rate": pl.Float64,
    "target_roi": pl.Float64,
}


def _hex(rng: np.random.Generator, n: int, words: int) -> pl.Series:
    """``n`` random hex strings of ``words`` × 16 digits."""
    parts = [np.char.mod("%016x", rng.integers(0, 2**63, n, dtype=np.int64)) for _ in range(words)]
    joined = parts[0]
    for part in parts[1:]:
        joined = np.char.add(joined, part)
    return pl.Series(joined.astype(str), dtype=pl.String)


def expected_orders(plan: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The plan with each creator's orders (by code and by click) and unique clicks drawn."""
    n = plan.height
    code_share = rng.uniform(0.3, 0.65, n)
    aov = BASKET_MEDIAN * np.exp(BASKET_SIGMA**2 / 2) * (1 - CODE_DISCOUNT * code_share)
    one_plus = 1 + plan["target_roi"].to_numpy()
    rate = plan["commission_rate"].to_numpy()
    revenue = one_plus * plan["fixed_cost"].to_numpy() / np.maximum(1 - one_plus * rate, 0.2)
    live = plan["posts"].to_numpy() > 0
    orders = np.where(live, rng.poisson(revenue / (aov * (1 - REFUND_SHARE * 0.85))), 0)
    by_code = rng.binomial(orders, code_share)
    by_click = orders - by_code
    cvr = rng.uniform(0.015, 0.035, n)
    unique = np.where(live, np.maximum(np.ceil(by_click / cvr), 40), 0).astype(np.int64)
    return plan.with_columns(
        code_orders=pl.Series(by_code, dtype=pl.Int64),
        click_orders=pl.Series(by_click, dtype=pl.Int64),
        people=pl.Series(unique, dtype=pl.Int64),
    )


def _truncated_delay(rng: np.random.Generator, window_hours: np.ndarray) -> np.ndarray:
    """Exponential delays (mean DECAY_HOURS) cut at ``window_hours``, by the inverse CDF."""
    u = rng.random(window_hours.size)
    return -DECAY_HOURS * np.log1p(-u * -np.expm1(-window_hours / DECAY_HOURS))


def _times_after_posts(
    rng: np.random.Generator, creator: np.ndarray, posts: np.ndarray, clock_end: np.datetime64
) -> np.ndarray:
    """A click time for each entry of ``creator``: after one of its posts (or from the bio)."""
    count = (~np.isnat(posts)).sum(axis=1)
    pick = (rng.random(creator.size) * count[creator]).astype(np.int64)
    post = posts[creator, pick]
    hours = (clock_end - post) / np.timedelta64(1, "h")
    delay = _truncated_delay(rng, hours)
    bio = rng.random(creator.size) < BIO_SHARE
    first = posts[creator, 0]
    spread = (clock_end - first) / np.timedelta64(1, "h")
    delay = np.where(bio, rng.random(creator.size) * spread, delay)
    base = np.where(bio, first, post)
    return base + (delay * 3_600_000_000).astype("timedelta64[us]")


def _thinned(rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """True for the times kept by the hour-of-day curve (rejection sampling)."""
    hour = (times.astype("datetime64[h]").astype(np.int64)) % 24
    return rng.random(times.size) < HOURLY[hour] / HOURLY.max()


def _people_clicks(
    rng: np.random.Generator, plan: pl.DataFrame, posts: np.ndarray, clock_end: np.datetime64
) -> pl.DataFrame:
    wanted = plan["people"].to_numpy()
    creator = np.repeat(np.arange(plan.height), wanted * 3)
    times = _times_after_posts(rng, creator, posts, clock_end)
    keep = _thinned(rng, times)
    frame = (
        pl.DataFrame({"row": creator[keep], "clicked_at": times[keep]})
        .with_columns(pl.col("clicked_at").cast(pl.Datetime("us")))
        .filter(pl.int_range(pl.len()).over("row") < pl.lit(wanted).gather(pl.col("row")))
    )
    n = frame.height
    mobile = rng.random(n) < 0.8
    return frame.with_columns(
        visitor_hash=_hex(rng, n, 4),
        agent_class=pl.Series(np.where(mobile, "mobile", "browser")),
        is_bot=pl.lit(False),
        repeat=pl.lit(False),
    )


def _repeats(rng: np.random.Generator, people: pl.DataFrame) -> pl.DataFrame:
    """Repeat clicks: a visitor taps the link again 0.5 to 45 minutes later."""
    n = int(people.height * REPEAT_SHARE)
    if n == 0 or people.is_empty():
        return people.clear()
    parents = people[rng.integers(0, people.height, n)]
    minutes = rng.uniform(0.5, 45, n)
    return parents.with_columns(
        pl.col("clicked_at") + pl.Series((minutes * 60_000_000).astype("timedelta64[us]")),
        repeat=pl.lit(True),
    )


def _not_people(
    rng: np.random.Generator, plan: pl.DataFrame, posts: np.ndarray, clock_end: np.datetime64
) -> pl.DataFrame:
    """Bots, link previews (right after a post is shared) and prefetches."""
    counts = (plan["people"].to_numpy() * NOT_PEOPLE_SHARE).astype(np.int64)
    creator = np.repeat(np.arange(plan.height), counts)
    n = creator.size
    kind = rng.choice(np.array(["preview", "bot", "prefetch"]), n, p=[0.45, 0.35, 0.2])
    times = _times_after_posts(rng, creator, posts, clock_end)
    return pl.DataFrame(
        {
            "row": creator,
            "clicked_at": pl.Series(times).cast(pl.Datetime("us")),
            "visitor_hash": _hex(rng, n, 4),
            "agent_class": pl.Series(kind, dtype=pl.String),
            "is_bot": pl.Series(np.ones(n, dtype=bool)),
            "repeat": pl.Series(np.zeros(n, dtype=bool)),
        }
    )


def clicks(
    plan: pl.DataFrame,
    posts: np.ndarray,
    clock_end: dt.datetime,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Every click of the plan's links, in the columns of ``link_clicks`` (and ``row``, the
    plan's row, and ``repeat``), sorted by time. ``posts``: per plan row, the times of its
    campaign posts (NaT-padded, earliest first); rows without posts get no clicks."""
    end = np.datetime64(clock_end, "us")
    people = _people_clicks(rng, plan, posts, end)
    frame = pl.concat([people, _repeats(rng, people), _not_people(rng, plan, posts, end)])
    frame = frame.filter(pl.col("clicked_at") < clock_end).sort("clicked_at", "row")
    n = frame.height
    info = plan.select("link_id", "workspace_id", "platform", "country").with_row_index("row")
    frame = frame.join(info.with_columns(pl.col("row").cast(pl.Int64)), on="row", how="left")
    home = rng.random(n) < 0.65
    referred = (rng.random(n) < 0.55) & ~frame["is_bot"].to_numpy()
    referrer = pl.col("platform").replace_strict(REFERRERS, default=None, return_dtype=pl.String)
    token_rng = np.random.default_rng(secrets.randbits(128))  # unique across workspaces
    return frame.with_columns(
        token=_hex(token_rng, n, 2),
        referrer=pl.when(pl.Series(referred)).then(referrer),
        country=pl.when(pl.Series(home)).then(pl.col("country")).otherwise(pl.lit(US)),
        window_start=pl.col("clicked_at").dt.truncate("1h"),
    ).with_columns(
        referrer_host=pl.col("referrer").str.extract(r"^https?://([^/]+)", 1),
    )


def _pick(frame: pl.DataFrame, counts: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """``counts[row]`` rows of ``frame`` per plan row, drawn without replacement."""
    return (
        frame.with_columns(key=pl.Series(rng.random(frame.height)))
        .sort("row", "key")
        .filter(pl.int_range(pl.len()).over("row") < pl.lit(counts).gather(pl.col("row")))
        .drop("key")
    )


def _minutes(rng: np.random.Generator, n: int, median: float, sigma: float) -> pl.Series:
    minutes = median * np.exp(rng.normal(0, sigma, n))
    return pl.Series((minutes * 60_000_000).astype(np.int64)).cast(pl.Duration("us"))


def _landing(token: pl.Expr, destination: pl.Expr = pl.col("destination")) -> pl.Expr:
    """The landing URL of a buyer who came through the link: the redirect appends the click."""
    return pl.concat_str(destination, pl.lit("&mf_click="), token)


def _creator_orders(
    plan: pl.DataFrame, clicks: pl.DataFrame, rng: np.random.Generator, shop_url: str
) -> pl.DataFrame:
    """Orders by click (a person's click, then the purchase minutes to days later) and by code
    (after seeing a post; a fifth of them came through the link too)."""
    people = clicks.filter(~pl.col("is_bot") & ~pl.col("repeat")).select(
        "row", "token", "clicked_at"
    )
    rows = plan.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    by_click = _pick(people, plan["click_orders"].to_numpy(), rng)
    with_token = rng.random(by_click.height) < TOKEN_ORDER_SHARE
    by_click = by_click.join(rows, on="row").with_columns(
        ordered_at=pl.col("clicked_at") + _minutes(rng, by_click.height, 25, 1.3),
        landing_url=pl.when(pl.Series(with_token))
        .then(_landing(pl.col("token")))
        .otherwise(pl.col("destination")),
        codes=NO_CODES,
    )
    wanted = plan["code_orders"].to_numpy()
    counts = people.group_by("row").len()
    has = np.zeros(plan.height, dtype=np.int64)
    has[counts["row"].to_numpy()] = counts["len"].to_numpy()
    anchor = np.repeat(np.arange(plan.height), np.where(has > 0, wanted, 0))
    chosen = (rng.random(anchor.size) * has[anchor]).astype(np.int64)
    nth = people.with_columns(nth=pl.int_range(pl.len()).over("row"))
    by_code = (
        pl.DataFrame({"row": anchor, "nth": chosen})
        .join(nth, on=["row", "nth"], how="left")
        .join(rows, on="row")
    )
    through_link = rng.random(by_code.height) < 0.2
    by_code = by_code.with_columns(
        ordered_at=pl.col("clicked_at") + _minutes(rng, by_code.height, 180, 1.5),
        landing_url=pl.when(pl.Series(through_link))
        .then(_landing(pl.col("token")))
        .otherwise(pl.lit(shop_url)),
        codes=pl.concat_list(pl.col("code")),
    )
    columns = ["row", "ordered_at", "landing_url", "codes"]
    both = pl.concat([by_click.select(columns), by_code.select(columns)])
    return both.with_columns(referrer=pl.lit(None, pl.String), discount=pl.lit(0.0))


def _leaked(
    plan: pl.DataFrame, clock_end: dt.datetime, rng: np.random.Generator, shop_url: str
) -> pl.DataFrame:
    """A coupon site published one creator's code: a burst of orders from its page."""
    live = plan.with_row_index("row").filter(pl.col("posts") > 0)
    if live.is_empty():
        return pl.DataFrame()
    leaked = live.sort("code_orders", "row", descending=[True, False]).row(0, named=True)
    n = 5
    start = clock_end - dt.timedelta(days=float(rng.uniform(1.5, 4)))
    hours = np.sort(rng.uniform(0, 8, n))
    return pl.DataFrame(
        {
            "row": [int(leaked["row"])] * n,
            "ordered_at": [start + dt.timedelta(hours=float(h)) for h in hours],
            "landing_url": [shop_url] * n,
            "codes": [[leaked["code"]]] * n,
            "referrer": [LEAK_REFERRER] * n,
            "discount": [0.0] * n,
        },
        schema_overrides={"row": pl.Int64, "ordered_at": pl.Datetime("us")},
    )


def _organic(
    n: int, start: dt.datetime, clock_end: dt.datetime, rng: np.random.Generator, shop_url: str
) -> pl.DataFrame:
    """The shop's other orders: search, direct, the newsletter's welcome code."""
    span = (clock_end - start).total_seconds()
    seconds = np.sort(rng.uniform(0, span, n))
    welcome = rng.random(n) < 0.1
    google = rng.random(n) < 0.4
    return pl.DataFrame(
        {
            "ordered_at": pl.Series(
                np.datetime64(start, "us") + (seconds * 1e6).astype("timedelta64[us]"),
                dtype=pl.Datetime("us"),
            ),
            "welcome": pl.Series(welcome, dtype=pl.Boolean),
            "google": pl.Series(google, dtype=pl.Boolean),
        }
    ).select(
        pl.lit(None, pl.Int64).alias("row"),
        "ordered_at",
        landing_url=pl.lit(shop_url),
        codes=pl.when("welcome").then(pl.concat_list(pl.lit("WELCOME10"))).otherwise(NO_CODES),
        referrer=pl.when("google").then(pl.lit("https://www.google.com/")),
        discount=pl.when("welcome").then(pl.lit(0.10)).otherwise(pl.lit(0.0)),
    )


def orders(
    plan: pl.DataFrame,
    clicks: pl.DataFrame,
    *,
    start: dt.datetime,
    clock_end: dt.datetime,
    rng: np.random.Generator,
    shop_url: str,
) -> pl.DataFrame:
    """The shop's orders from ``start`` to ``clock_end``: the creators' (by click, by code, a
    leaked code's burst) and the rest, with money, status and buyer, in the columns of
    ``orders`` (``row``: the plan row the order was generated for, null for the shop's own)."""
    driven = pl.concat(
        [_creator_orders(plan, clicks, rng, shop_url), _leaked(plan, clock_end, rng, shop_url)],
        how="diagonal_relaxed",
    )
    organic = _organic(int(driven.height * ORGANIC_SHARE), start, clock_end, rng, shop_url)
    frame = (
        pl.concat([driven, organic], how="diagonal_relaxed")
        .filter(pl.col("ordered_at") < clock_end)
        .sort("ordered_at", "row", nulls_last=True)
    )
    n = frame.height
    gross = np.round(BASKET_MEDIAN * np.exp(rng.normal(0, BASKET_SIGMA, n)), 2)
    coded = frame["codes"].list.len().to_numpy() > 0
    rate = np.where(
        coded & (frame["discount"].to_numpy() == 0), CODE_DISCOUNT, frame["discount"].to_numpy()
    )
    discounts = np.round(gross * rate, 2)
    net = np.round(gross - discounts, 2)
    total = np.round(net + np.where(net < FREE_SHIPPING_FROM, SHIPPING, 0.0), 2)
    buyer = _hex(rng, n, 4)
    again = rng.random(n) < 0.12  # returning buyers
    earlier = (rng.random(n) * np.arange(n)).astype(np.int64)
    buyer = pl.Series(np.where(again & (np.arange(n) > 0), buyer.to_numpy()[earlier], buyer))
    money = pl.Decimal(14, 2)
    return frame.with_columns(
        external_id=(pl.int_range(n, dtype=pl.Int64) * 7 + 5_810_000_000_000).cast(pl.String),
        name=pl.concat_str(pl.lit("#"), (pl.int_range(n) + 1001).cast(pl.String)),
        currency=pl.lit("USD"),
        gross=pl.Series(gross).cast(money),
        discounts=pl.Series(discounts).cast(money),
        net=pl.Series(net).cast(money),
        total=pl.Series(total).cast(money),
        financial_status=pl.when(pl.Series(rng.random(n) < VOIDED_SHARE))
        .then(pl.lit("voided"))
        .otherwise(pl.lit("paid")),
        referrer_host=pl.col("referrer").str.extract(r"^https?://([^/]+)", 1),
        customer_hash=buyer,
        source=pl.lit("demo"),
        shop_updated_at=pl.col("ordered_at"),
    ).drop("discount")


def refunds(orders: pl.DataFrame, clock_end: dt.datetime, rng: np.random.Generator) -> pl.DataFrame:
    """Refunds of a share of the paid orders, 1 to 12 days after them (none after the clock),
    most in full; columns of ``refunds`` (``external_id``, ``order_external_id``,
    ``refunded_at``, ``amount``)."""
    paid = orders.filter(pl.col("financial_status") == "paid")
    n = paid.height
    chosen = rng.random(n) < REFUND_SHARE
    share = np.where(rng.random(n) < FULL_REFUND_SHARE, 1.0, rng.uniform(0.2, 0.5, n))
    days = rng.uniform(1, 12, n)
    frame = paid.select(
        order_external_id=pl.col("external_id"),
        refunded_at=pl.col("ordered_at")
        + pl.Series((days * 86_400_000_000).astype(np.int64)).cast(pl.Duration("us")),
        amount=(pl.col("net").cast(pl.Float64) * pl.Series(share)).round(2).cast(pl.Decimal(14, 2)),
    ).filter(pl.Series(chosen) & (pl.col("refunded_at") < clock_end))
    return frame.with_columns(
        external_id=(pl.int_range(frame.height, dtype=pl.Int64) * 11 + 9_120_000_000_000).cast(
            pl.String
        )
    )


def with_refund_status(orders: pl.DataFrame, refunds: pl.DataFrame) -> pl.DataFrame:
    """Orders refunded in full read ``refunded``, in part ``partially_refunded`` (Shopify's
    financial statuses), and were last changed by their refund."""
    done = refunds.group_by("order_external_id").agg(
        pl.col("amount").sum().alias("refund_sum"), pl.col("refunded_at").max().alias("last")
    )
    return (
        orders.join(done, left_on="external_id", right_on="order_external_id", how="left")
        .with_columns(
            financial_status=pl.when(pl.col("refund_sum").is_null())
            .then(pl.col("financial_status"))
            .when(pl.col("refund_sum") >= pl.col("net"))
            .then(pl.lit("refunded"))
            .otherwise(pl.lit("partially_refunded")),
            shop_updated_at=pl.coalesce("last", "shop_updated_at"),
        )
        .drop("refund_sum", "last")
    )
