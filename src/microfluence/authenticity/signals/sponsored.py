"""Sponsored saturation: the share of an account's recent posts that are ads.

A post counts as an ad when any of these holds (the first one found is its evidence):

* the platform or the importer marked it (``is_sponsored``, the paid-partnership label, or a
  stored ``sponsor_evidence``);
* a disclosure hashtag, in the caption or the post's hashtags: #ad, #ads, #advert,
  #advertisement, #sponsored, #sponsoredpost, #sponsor, #spon, #partner, #partnership,
  #paidpartnership, #brandpartner, #collab, #gifted, #werbung, #anzeige, #reklame (de),
  #publicidade, #publi, #publipost (pt), #publicidad (es), #pub, #sponsorisé (fr), #reklama (pl),
  #pubblicità (it), #advertentie (nl), #samarbete (sv), #annonce (da/fr);
* disclosure words in the caption ("paid partnership with", "sponsored by", "in partnership
  with", "thanks to @x for sponsoring", "ad |" …);
* discount-code or affiliate language: "use (my) code X for 20 % off", "discount code", "promo
  code", "coupon code", "code X at checkout", "affiliate link".

The disclosure tags are the ones the US FTC ("Disclosures 101 for Social Media Influencers", 2019)
and the national advertising codes (e.g. Germany's Werbung/Anzeige) ask for.

Saturation is measured on the last ``WINDOW_POSTS`` posts: score 100 at <= 30 % ads, 0 at
>= 70 %. A feed that is mostly ads loses its audience's trust; the band is our convention, in
line with the common agency rule of thumb of "no more than one post in three sponsored".
Needs ``MIN_POSTS`` posts.
"""

from __future__ import annotations

import polars as pl

from microfluence.authenticity.signals.scale import ascii_boundaries, linear_score

WINDOW_POSTS = 30
MIN_POSTS = 5
SCORE_GOOD, SCORE_BAD = 0.30, 0.70

AD_HASHTAGS = (
    "ad ads advert advertisement advertising sponsored sponsoredpost sponsor spon partner "
    "partnership paidpartnership paidpartner brandpartner brandpartnership collab gifted werbung "
    "anzeige reklame unbezahltewerbung publicidade publi publipost publicidad pub sponsorisé "
    "sponsorise reklama pubblicità pubblicita advertentie samarbete annonce"
).split()
_HASHTAG_RE = r"(?i)(?:^|[^\p{L}\p{N}_])#(" + "|".join(AD_HASHTAGS) + r")(?:[^\p{L}\p{N}_]|$)"
DISCLOSURE_RE = (
    r"(?i)\bpaid\s+partnership\b|\bsponsored\s+by\b|\bin\s+(paid\s+)?partnership\s+with\b|"
    r"\bthanks?\s+(you\s+)?to\s+@\S+\s+for\s+sponsoring\b|\bsponsoris[ée]\s+par\b|"
    r"\bbezahlte\s+partnerschaft\b|\bparceria\s+paga\b|^\s*ad\s*[|:\-]"
)
DISCOUNT_RE = (
    r"(?i)\b(use|with|enter|my)\s+(my\s+)?(discount\s+|promo\s+|coupon\s+)?code\s+[\"'“]?"
    r"[A-Za-z0-9_-]{3,}|\b(discount|promo|coupon|rabatt|desconto|descuento)[\s-]*(code|codigo|"
    r"código|cupom)\b|\bcode\s+[A-Za-z0-9_-]{3,}\s+(for|at|to get)\b|\b\d{1,2}\s*%\s*off\b|"
    r"\baffiliate\s+link\b"
)


DISCLOSURE_RE = ascii_boundaries(DISCLOSURE_RE)
DISCOUNT_RE = ascii_boundaries(DISCOUNT_RE)
_DISCLOSURE_GROUP = "(?i)(" + DISCLOSURE_RE[4:] + ")"
_DISCOUNT_GROUP = "(?i)(" + DISCOUNT_RE[4:] + ")"


def ad_evidence(posts: pl.DataFrame) -> pl.Expr:
    """Why a post is an ad (NULL when it does not look like one)."""
    caption = pl.col("caption").fill_null("")
    tags = pl.col("hashtags").list.eval("#" + pl.element()).list.join(" ").fill_null("")
    hashtag = (caption + pl.lit(" ") + tags).str.extract(_HASHTAG_RE, 1)
    # One regex pass per pattern: the match is both the test and the evidence.
    disclosure = caption.str.extract(_DISCLOSURE_GROUP, 1)
    discount = caption.str.extract(_DISCOUNT_GROUP, 1)
    return (
        pl.when(pl.col("is_sponsored").fill_null(False))
        .then(pl.coalesce(pl.col("sponsor_evidence"), pl.lit("marked sponsored")))
        .when(pl.col("sponsor_evidence").is_not_null())
        .then(pl.col("sponsor_evidence"))
        .when(hashtag.is_not_null())
        .then(pl.lit("hashtag #") + hashtag.str.to_lowercase())
        .when(disclosure.is_not_null())
        .then(pl.lit("caption: ") + disclosure)
        .when(discount.is_not_null())
        .then(pl.lit("discount code: ") + discount)
        .otherwise(None)
    )


def classify_posts(posts: pl.DataFrame) -> pl.DataFrame:
    """Every post with ``ad_evidence`` and ``is_ad``, newest first, with its recency rank."""
    return (
        posts.sort("account_id", "posted_at", descending=[False, True], nulls_last=True)
        .with_columns(ad_evidence(posts).alias("ad_evidence"))
        .with_columns(
            pl.col("ad_evidence").is_not_null().alias("is_ad"),
            pl.int_range(pl.len()).over("account_id").alias("recency_rank"),
        )
    )


def sponsored_signal(posts: pl.DataFrame) -> pl.DataFrame:
    """Per account: posts looked at, ads among them, the ad share and the 0-100 score."""
    recent = classify_posts(posts).filter(pl.col("recency_rank") < WINDOW_POSTS)
    return (
        recent.group_by("account_id")
        .agg(
            pl.len().cast(pl.UInt32).alias("sponsored_posts_seen"),
            pl.col("is_ad").sum().cast(pl.UInt32).alias("sponsored_posts"),
            pl.col("is_ad").mean().alias("sponsored_share"),
        )
        .with_columns((pl.col("sponsored_posts_seen") >= MIN_POSTS).alias("sponsored_available"))
        .with_columns(
            pl.when(pl.col("sponsored_available"))
            .then(linear_score(pl.col("sponsored_share"), SCORE_GOOD, SCORE_BAD))
            .alias("sponsored_score")
        )
        .sort("account_id")
    )
