"""Comment authenticity: what the sampled comments say about the engagement behind them.

Each comment gets flags (a comment may have several):

* ``emoji_only``: nothing but emoji, symbols and punctuation (no letter, no digit);
* ``generic``: at most 5 words, every one of them from a small vocabulary of stock praise
  ("nice", "great pic", "love it", "so beautiful" …, ``GENERIC_WORDS``): text that fits any post;
* ``spam``: bot solicitations ("dm us", "promote it on", "check my page", "follow back" …);
* ``duplicate``: the same author posting the same text (case, spacing and punctuation aside;
  at least ``DUPLICATE_MIN_CHARS`` characters) under two or more of the account's posts —
  copy-paste, as bots and pod members do. Different people writing the same praise is not;
* ``fake_author``: a commenter handle that looks generated (4+ trailing digits, or digits making
  up 40 % or more of it).

``comment_quality``: spam, duplicates and fake-looking authors are strong evidence; generic
praise and emoji are weak evidence (real audiences write plenty of both), so they count a
quarter: ``s = share(strong) + 0.25 · share(low-effort and not strong)``; score 100 at
``s <= 0.10``, 0 at ``s >= 0.40``. Needs ``MIN_COMMENTS`` comments on at least ``MIN_POSTS``
posts.

``engagement_pods``: pods are groups that comment on each other's every post. A *recurrent*
commenter appears under at least 60 % of the account's posts that have sampled comments; when an
account has at least ``POD_MIN_MEMBERS`` recurrent commenters (a few loyal friends are normal),
the pod share is the share of comments they wrote (else 0). Score 100 at <= 10 %, 0 at >= 50 %.
Needs sampled comments on at least ``POD_MIN_POSTS`` posts.
"""

from __future__ import annotations

import polars as pl

from microfluence.authenticity.signals.scale import ascii_boundaries, linear_score

MIN_COMMENTS = 20
MIN_POSTS = 3
DUPLICATE_MIN_CHARS = 8
GENERIC_MAX_WORDS = 5
LOW_EFFORT_WEIGHT = 0.25
QUALITY_GOOD, QUALITY_BAD = 0.10, 0.40
POD_MIN_POSTS = 5
POD_RECURRENCE = 0.60
POD_MIN_MEMBERS = 4
POD_GOOD, POD_BAD = 0.10, 0.50

GENERIC_WORDS = (
    "nice great good love loved lovely like amazing awesome wow cool beautiful gorgeous cute "
    "pretty perfect super fire lit omg yes yess yay best wonderful stunning insane incredible "
    "fantastic fab fabulous excellent epic goals so very really too soo sooo this it that is "
    "such a the what an pic pics picture photo photos shot post content feed vibe vibes look "
    "looks job work keep up it's its i my you your wonderful nicee nicee hot dope sick "
    "bravo top genial bello bella bonito bonita lindo linda que muy trop beau belle schön toll "
    "sehr mega"
).split()
SPAM_PATTERN = (
    r"(?i)\b(dm|message|inbox)\s+(us|me)\b|\bpromot(e|ion)\b|\bcheck\s+(out\s+)?(my|our)\s+"
    r"(page|profile|bio|account)\b|\bfollow\s*(me|back|4\s*follow)\b|\bf4f\b|\bl4l\b|"
    r"\bcollab\s*\?|\bsend\s+(a\s+)?(pic|dm)\b|\bearn\s+\$|\bfree\s+followers\b"
)
SPAM_PATTERN = ascii_boundaries(SPAM_PATTERN)
FAKE_HANDLE_PATTERN = r"\d{4,}$"
FAKE_HANDLE_DIGIT_SHARE = 0.40

FLAGS = ("emoji_only", "generic", "spam", "duplicate", "fake_author")
STRONG_FLAGS = ("spam", "duplicate", "fake_author")
LOW_EFFORT_FLAGS = ("emoji_only", "generic")

QUALITY_SCHEMA = {
    "account_id": pl.Int64,
    "comments_sampled": pl.UInt32,
    "commented_posts": pl.UInt32,
    "comment_emoji_only_share": pl.Float64,
    "comment_generic_share": pl.Float64,
    "comment_spam_share": pl.Float64,
    "comment_duplicate_share": pl.Float64,
    "comment_fake_author_share": pl.Float64,
    "comment_flagged_share": pl.Float64,
    "comment_suspicion": pl.Float64,
    "comment_quality_available": pl.Boolean,
    "comment_quality_score": pl.Float64,
    "pod_recurrent_commenters": pl.UInt32,
    "pod_share": pl.Float64,
    "pod_available": pl.Boolean,
    "pod_score": pl.Float64,
}


def flag_comments(comments: pl.DataFrame) -> pl.DataFrame:
    """Every comment with its flags (see the module docs) and ``flagged`` (any flag)."""
    text = pl.col("text").fill_null("")
    core = (
        text.str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}']+", " ")
        .str.strip_chars()
        .alias("_core")
    )
    handle = pl.col("author_handle").fill_null("").str.to_lowercase()
    digits = handle.str.count_matches(r"\d")
    frame = comments.filter(pl.col("text").fill_null("").str.strip_chars() != "").with_columns(
        core,
        text.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars().alias("_normalised"),
    )
    # "The same text": its letters and digits, or the raw text when it has none (emoji).
    frame = frame.with_columns(
        pl.when(pl.col("_core") != "")
        .then(pl.col("_core"))
        .otherwise(pl.col("_normalised"))
        .alias("_same")
    )
    words = pl.col("_core").str.split(" ")
    frame = frame.with_columns(
        (pl.col("_core") == "").alias("emoji_only"),
        (
            (pl.col("_core") != "")
            & (words.list.len() <= GENERIC_MAX_WORDS)
            & words.list.eval(pl.element().is_in(GENERIC_WORDS)).list.all()
        ).alias("generic"),
        text.str.contains(SPAM_PATTERN).alias("spam"),
        (
            (pl.col("_same").str.len_chars() >= DUPLICATE_MIN_CHARS)
            & (handle != "")
            & (pl.col("post_id").n_unique().over("account_id", handle, "_same") >= 2)
        ).alias("duplicate"),
        (
            (handle != "")
            & (
                handle.str.contains(FAKE_HANDLE_PATTERN)
                | (digits >= FAKE_HANDLE_DIGIT_SHARE * handle.str.len_chars())
            )
        ).alias("fake_author"),
    )
    strong = pl.any_horizontal(*STRONG_FLAGS)
    return frame.with_columns(
        pl.any_horizontal(*FLAGS).alias("flagged"),
        strong.alias("strong"),
        (~strong & pl.any_horizontal(*LOW_EFFORT_FLAGS)).alias("low_effort"),
    ).drop("_core", "_normalised", "_same")


def pod_members(comments: pl.DataFrame) -> pl.DataFrame:
    """Recurrent commenters per account: how many of the commented posts each one is under."""
    named = comments.filter(pl.col("author_handle").fill_null("") != "").with_columns(
        pl.col("author_handle").str.to_lowercase()
    )
    posts = named.group_by("account_id").agg(pl.col("post_id").n_unique().alias("posts"))
    return (
        named.group_by("account_id", "author_handle")
        .agg(pl.col("post_id").n_unique().alias("posts_commented"), pl.len().alias("comments"))
        .join(posts, on="account_id")
        .with_columns((pl.col("posts_commented") / pl.col("posts")).alias("presence"))
        .filter((pl.col("posts") >= POD_MIN_POSTS) & (pl.col("presence") >= POD_RECURRENCE))
        .sort(["account_id", "posts_commented", "comments"], descending=[False, True, True])
    )


def comment_signal(comments: pl.DataFrame) -> pl.DataFrame:
    """Per account: the share of each flag, the comment-quality and pod scores."""
    flagged = flag_comments(comments)
    shares = flagged.group_by("account_id").agg(
        pl.len().cast(pl.UInt32).alias("comments_sampled"),
        pl.col("post_id").n_unique().cast(pl.UInt32).alias("commented_posts"),
        *[pl.col(f).mean().alias(f"comment_{f}_share") for f in FLAGS],
        pl.col("flagged").mean().alias("comment_flagged_share"),
        (pl.col("strong").mean() + LOW_EFFORT_WEIGHT * pl.col("low_effort").mean()).alias(
            "comment_suspicion"
        ),
    )
    members = pod_members(flagged)
    pods = (
        members.group_by("account_id")
        .agg(
            pl.len().cast(pl.UInt32).alias("pod_recurrent_commenters"),
            pl.col("comments").sum().alias("_pod_comments"),
        )
        .join(
            flagged.filter(pl.col("author_handle").fill_null("") != "")
            .group_by("account_id")
            .agg(pl.len().alias("_named")),
            on="account_id",
        )
    )
    frame = (
        shares.join(pods, on="account_id", how="left")
        .with_columns(pl.col("pod_recurrent_commenters").fill_null(0))
        .with_columns(
            pl.when(pl.col("pod_recurrent_commenters") >= POD_MIN_MEMBERS)
            .then(pl.col("_pod_comments") / pl.col("_named"))
            .otherwise(0.0)
            .alias("pod_share"),
            (
                (pl.col("comments_sampled") >= MIN_COMMENTS)
                & (pl.col("commented_posts") >= MIN_POSTS)
            ).alias("comment_quality_available"),
            (pl.col("commented_posts") >= POD_MIN_POSTS).alias("pod_available"),
        )
        .with_columns(
            pl.when(pl.col("comment_quality_available"))
            .then(linear_score(pl.col("comment_suspicion"), QUALITY_GOOD, QUALITY_BAD))
            .alias("comment_quality_score"),
            pl.when(pl.col("pod_available"))
            .then(linear_score(pl.col("pod_share"), POD_GOOD, POD_BAD))
            .alias("pod_score"),
        )
    )
    return frame.select(list(QUALITY_SCHEMA)).cast(QUALITY_SCHEMA).sort("account_id")
