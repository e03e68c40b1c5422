"""Polars cells as the store and the exports write them: lists and structs as JSON text.

Every layer writes list cells (hashtags, mentions, notes): the importers into JSON columns, the
exports into CSV cells. One encoder, so they agree on the text. And every CSV file written for
people (the exports, the labels) neutralises cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import orjson
import polars as pl


def encode_json(series: pl.Series) -> pl.Series:
    """Lists/structs to JSON text (None stays NULL)."""
    if series.dtype == pl.String:
        return series
    if series.dtype.is_nested():
        # Vectorised: {"v": […]} from Polars' JSON encoder, with the wrapper cut off.
        wrapped = pl.DataFrame({"v": series}).select(
            pl.when(pl.col("v").is_not_null())
            .then(pl.struct("v").struct.json_encode().str.slice(5).str.strip_suffix("}"))
            .alias(series.name)
        )
        return wrapped.to_series()
    values = series.to_list()
    return pl.Series(
        series.name,
        [None if v is None else orjson.dumps(v).decode() for v in values],
        dtype=pl.String,
    )


# https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP)."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, t in frame.schema.items()
        if t == pl.String
    )
