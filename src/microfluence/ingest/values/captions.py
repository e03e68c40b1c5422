"""What a caption says: hashtags, mentions and the tags that disclose a paid post.

Polars expressions, so that a batch of captions is parsed in one vectorised pass (the regular
expressions run in Polars' Rust engine, which knows Unicode classes). Any importer that has
captions (Instagram JSON, a posts table) can use them.
"""

from __future__ import annotations

import polars as pl

# A hashtag is '#' and a run of letters, combining marks, digits or underscores in any script
# (Instagram links "#été", "#हिन्दी", "#東京"), cut at the first space or punctuation. Tags of
# digits only ("#1", an HTML entity's "&#39;") are not hashtags on Instagram.
HASHTAG_PATTERN = r"#[\p{L}\p{M}\p{N}_]+"
# A mention is '@' and an Instagram username (ASCII letters, digits, '.' and '_', at most 30),
# not preceded by a letter or digit, so that e-mail addresses are not read as mentions.
MENTION_PATTERN = r"(?:^|[^\p{L}\p{N}_.@])@[A-Za-z0-9._]{1,30}"

# Hashtags that disclose advertising, gifts or a paid partnership, in the words regulators and
# self-regulators recommend (sources in docs/importing.md, "Sponsored posts"). Compared with
# the lower-cased hashtag, without '#'.
SPONSOR_TAGS: frozenset[str] = frozenset(
    {
        # English: FTC "Disclosures 101 for Social Media Influencers" (2019); UK ASA/CMA
        # "Influencers' guide to making clear that ads are ads" (2020).
        "ad",
        "ads",
        "advert",
        "advertisement",
        "advertising",
        "sponsored",
        "sponsoredpost",
        "sponsor",
        "sponsorship",
        "spon",
        "paidpartnership",
        "paidpost",
        "paidad",
        "gifted",
        "giftedby",
        "prsample",
        "prproduct",
        "brandambassador",
        # German: Die Medienanstalten, "Leitfaden Werbekennzeichnung bei Online-Medien" (2022).
        "werbung",
        "anzeige",
        "unbezahltewerbung",
        "bezahltewerbung",
        "werbepartner",
        # French: ARPP recommandation "Communication publicitaire digitale" (2017).
        "sponsorisé",
        "sponsorise",
        "publicité",
        "publicite",
        "partenariat",
        "collaborationcommerciale",
        # Spanish / Portuguese: Autocontrol "Código de conducta sobre el uso de influencers"
        # (2020); CONAR Brazil "Guia de publicidade por influenciadores" (2021).
        "publicidad",
        "publi",
        "patrocinado",
        "patrocinada",
        "publicidade",
        "parceriapaga",
        # Italian: IAP "Digital Chart" (2016/2020).
        "adv",
        "pubblicità",
        "pubblicita",
        "sponsorizzato",
        "inserzionepubblicitaria",
        # Dutch: Reclamecode Social Media & Influencer Marketing (2019).
        "advertentie",
        "gesponsord",
        "reclame",
        # Nordic: Konsumentverket (SE), Forbrugerombudsmanden (DK), Forbrukertilsynet (NO),
        # KKV (FI) influencer guidance.
        "reklam",
        "reklame",
        "annonse",
        "samarbete",
        "betaltsamarbete",
        "kaupallinenyhteistyö",
        "mainos",
        # Polish / Czech: UOKiK "Oznaczanie treści reklamowych przez influencerów" (2022).
        "reklama",
        "współpracareklamowa",
    }
)


def hashtags(caption: pl.Expr) -> pl.Expr:
    """The caption's hashtags, lower-cased, without '#', in order, each once."""
    return (
        caption.str.extract_all(HASHTAG_PATTERN)
        .list.eval(
            pl.element()
            .str.strip_chars_start("#")
            .str.to_lowercase()
            .filter(~pl.element().str.strip_chars_start("#").str.contains(r"^[0-9]+$"))
        )
        .list.unique(maintain_order=True)
    )


def mentions(caption: pl.Expr) -> pl.Expr:
    """The usernames the caption mentions, lower-cased, without '@', in order, each once."""
    return (
        caption.str.extract_all(MENTION_PATTERN)
        .list.eval(
            pl.element()
            .str.replace(r"^[^@]*@", "")
            .str.strip_chars_end(".")
            .str.to_lowercase()
            .filter(pl.element().str.len_chars() > 0)
        )
        .list.unique(maintain_order=True)
    )


def sponsor_tags(tags: pl.Expr) -> pl.Expr:
    """The disclosure hashtags (see SPONSOR_TAGS) among a list of lower-cased hashtags."""
    return tags.list.eval(pl.element().filter(pl.element().is_in(list(SPONSOR_TAGS))))
