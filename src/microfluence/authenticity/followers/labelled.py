"""Labelled follower data: the public sets' formats to the model's features and labels.

* ``kaggle``: the "Instagram fake spammer genuine accounts" CSV (columns ``profile pic``,
  ``nums/length username``, …, ``fake``): its features are already derived, so they map one to one;
* ``instafake``: InstaFake (Akyon & Kalfaoglu 2019) JSON: a file holding a list of objects with
  ``isFake``, or a folder holding ``fakeAccountData.json`` and ``realAccountData.json``. It has no
  full name and no external url: those features stay missing;
* ``twitter``: the fake-follower data of Cresci et al. (2015), "Fame for sale": a folder holding
  ``humans.csv`` and ``fake_followers.csv`` (or one such CSV with an ``is_fake`` column), Twitter's
  user-object columns mapped onto the follower columns (``read_twitter``);
* ``followers``: a follower file in our own columns plus a 0/1 label column (``fake``,
  ``is_fake`` or ``label``), read with the audit's reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from microfluence.authenticity.followers.features import (
    FEATURES,
    parse_profiles,
    profile_features,
    to_matrix,
)
from microfluence.kernel.errors import InputError

FORMATS = ("kaggle", "instafake", "twitter", "followers")
KAGGLE_COLUMNS = {
    "profile pic": "has_profile_pic",
    "nums/length username": "username_digit_share",
    "fullname words": "full_name_words",
    "nums/length fullname": "full_name_digit_share",
    "name==username": "name_equals_username",
    "description length": "bio_length",
    "external URL": "has_external_url",
    "private": "is_private",
}
KAGGLE_COUNTS = {"#posts": "posts", "#followers": "followers", "#follows": "following"}
INSTAFAKE_KEYS = (
    "userFollowerCount",
    "userFollowingCount",
    "userBiographyLength",
    "userMediaCount",
    "userHasProfilPic",
    "userIsPrivate",
    "usernameDigitCount",
    "usernameLength",
    "isFake",
)
LABEL_COLUMNS = ("fake", "is_fake", "label")
TWITTER_FILES = ("humans.csv", "fake_followers.csv")
# Twitter's user object -> the follower columns. The data set writes a true flag as "1" and a
# false one as a blank cell, so blank flags are read as false, not as missing.
TWITTER_COLUMNS = {
    "screen_name": "username",
    "name": "full_name",
    "description": "biography",
    "statuses_count": "posts",
    "followers_count": "followers",
    "friends_count": "following",
    "protected": "is_private",
    "url": "external_url",
}


@dataclass(frozen=True)
class LabelledSet:
    """Features (``FEATURES`` matrix, NaN = missing) and 0/1 labels (1 = fake) of one data set."""

    name: str
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def _labels(values: pl.Series, *, file: str, field: str) -> np.ndarray:
    numbers = values.cast(pl.Float64, strict=False)
    bad = numbers.is_null() | ~numbers.is_in([0.0, 1.0])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"row {row + 1}: a label must be 0 or 1, found {values[row]!r}", file=file, field=field
        )
    return numbers.to_numpy().astype(np.int8)


def _counts_features(frame: pl.DataFrame) -> list[pl.Expr]:
    log = {c: pl.col(c).cast(pl.Float64).log1p() for c in ("posts", "followers", "following")}
    return [
        log["posts"].alias("log_posts"),
        log["followers"].alias("log_followers"),
        log["following"].alias("log_following"),
        (log["following"] - log["followers"]).alias("log_following_to_followers"),
    ]


def read_kaggle(path: str | Path) -> LabelledSet:
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read a Kaggle-format CSV: {exc}", file=str(path)) from exc
    needed = [*KAGGLE_COLUMNS, *KAGGLE_COUNTS, "fake"]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise InputError(f"not the Kaggle format: no column(s) {absent}", file=str(path))
    numeric = frame.select(
        [pl.col(c).cast(pl.Float64, strict=False).alias(c) for c in needed if c != "fake"]
    )
    for column in numeric.columns:
        if numeric[column].is_null().any() or (numeric[column] < 0).any():
            row = int(
                np.flatnonzero((numeric[column].is_null() | (numeric[column] < 0)).to_numpy())[0]
            )
            raise InputError(
                f"row {row + 1}: not a non-negative number: {frame[column][row]!r}",
                file=str(path),
                field=column,
            )
    features = numeric.rename(KAGGLE_COLUMNS | KAGGLE_COUNTS).with_columns(
        _counts_features(numeric)
    )
    x = to_matrix(features.select(FEATURES))
    return LabelledSet(path.name, x, _labels(frame["fake"], file=str(path), field="fake"))


def _instafake_records(path: Path) -> list[dict[str, object]]:
    files = (
        [path / "fakeAccountData.json", path / "realAccountData.json"] if path.is_dir() else [path]
    )
    records: list[dict[str, object]] = []
    for file in files:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read InstaFake JSON: {exc}", file=str(file)) from exc
        if not isinstance(loaded, list):
            raise InputError("InstaFake JSON must be a list of objects", file=str(file))
        for i, record in enumerate(loaded):
            if not isinstance(record, dict) or any(k not in record for k in INSTAFAKE_KEYS):
                raise InputError(
                    f"record {i + 1} lacks some of the keys {list(INSTAFAKE_KEYS)}", file=str(file)
                )
        records.extend(loaded)
    if not records:
        raise InputError("no InstaFake records", file=str(path))
    return records


def read_instafake(path: str | Path) -> LabelledSet:
    path = Path(path)
    records = _instafake_records(path)
    try:
        frame = pl.DataFrame(
            {k: [r[k] for r in records] for k in INSTAFAKE_KEYS},
            schema=dict.fromkeys(INSTAFAKE_KEYS, pl.Float64),
            strict=False,
        )
    except (TypeError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"InstaFake values must be numbers: {exc}", file=str(path)) from exc
    if any(frame[k].is_null().any() or (frame[k] < 0).any() for k in INSTAFAKE_KEYS):
        raise InputError("InstaFake values must be non-negative numbers", file=str(path))
    length = pl.col("usernameLength")
    profiles = frame.select(
        pl.col("userHasProfilPic").alias("has_profile_pic"),
        pl.when(length > 0)
        .then(pl.col("usernameDigitCount") / length)
        .otherwise(None)
        .alias("username_digit_share"),
        pl.col("userBiographyLength").alias("bio_length"),
        pl.col("userIsPrivate").alias("is_private"),
        pl.col("userMediaCount").alias("posts"),
        pl.col("userFollowerCount").alias("followers"),
        pl.col("userFollowingCount").alias("following"),
    )
    features = profiles.with_columns(_counts_features(profiles)).with_columns(
        [
            pl.lit(None, dtype=pl.Float64).alias(f)
            for f in FEATURES
            if f not in profiles.columns
            and f
            not in ("log_posts", "log_followers", "log_following", "log_following_to_followers")
        ]
    )
    x = to_matrix(features.select(FEATURES))
    y = _labels(frame["isFake"], file=str(path), field="isFake")
    return LabelledSet(path.name, x, y)


def _twitter_frame(path: Path) -> pl.DataFrame:
    files = [path / name for name in TWITTER_FILES] if path.is_dir() else [path]
    frames = []
    for file in files:
        try:
            frame = pl.read_csv(file, infer_schema_length=0)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"cannot read a Twitter user CSV: {exc}", file=str(file)) from exc
        needed = [*TWITTER_COLUMNS, "default_profile_image", "is_fake"]
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise InputError(f"not the Twitter user format: no column(s) {absent}", file=str(file))
        frames.append(frame.select(needed))
    return pl.concat(frames)


def read_twitter(path: str | Path, *, posts_shift: float = 0.0) -> LabelledSet:
    """Cresci et al. (2015) Twitter accounts as follower profiles (statuses as posts, friends as
    following, a default profile image as no picture, protected as private).

    ``posts_shift`` is added to ``log_posts``: tweets are far more frequent than Instagram posts,
    and the training script aligns the two scales by the genuine accounts' medians
    (docs/model-card-follower.md, "Features")."""
    path = Path(path)
    frame = _twitter_frame(path)
    no_picture = pl.col("default_profile_image").fill_null("0").str.strip_chars()
    profiles_in = (
        frame.rename(TWITTER_COLUMNS)
        .with_columns(
            pl.col("is_private").fill_null("0").str.strip_chars(),
            no_picture.replace({"1": "0", "0": "1", "true": "0", "false": "1", "": "1"}).alias(
                "has_profile_pic"
            ),
        )
        .drop("default_profile_image", "is_fake")
    )
    profiles = parse_profiles(profiles_in, file=str(path))
    features = profile_features(profiles).with_columns(pl.col("log_posts") + posts_shift)
    y = _labels(frame["is_fake"].str.strip_chars(), file=str(path), field="is_fake")
    return LabelledSet(path.name, to_matrix(features), y)


def read_follower_labels(path: str | Path) -> LabelledSet:
    """A follower file in our columns with a 0/1 label column, e.g. an audit checked by hand."""
    from microfluence.authenticity.followers.audit import parsed_batches

    xs, ys = [], []
    for raw, profiles in parsed_batches(path):
        label = next((c for c in raw.columns if c.strip().lower() in LABEL_COLUMNS), None)
        if label is None:
            raise InputError(f"no label column (one of {list(LABEL_COLUMNS)})", file=str(path))
        xs.append(to_matrix(profile_features(profiles)))
        ys.append(
            _labels(raw[label].cast(pl.String).str.strip_chars(), file=str(path), field=label)
        )
    return LabelledSet(Path(path).name, np.vstack(xs), np.concatenate(ys))


def _guess_format(path: Path) -> str:
    if path.is_dir():
        return "twitter" if (path / TWITTER_FILES[0]).exists() else "instafake"
    if path.suffix.lower() == ".json":
        return "instafake"
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    if "nums/length username" in header:
        return "kaggle"
    return "twitter" if "statuses_count" in header and "screen_name" in header else "followers"


def read_labelled(
    path: str | Path, data_format: str | None = None, *, posts_shift: float = 0.0
) -> LabelledSet:
    """Read a labelled set; the format is guessed from the file when not given.

    ``posts_shift`` applies to the ``twitter`` format only (see ``read_twitter``)."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    if data_format is None:
        data_format = _guess_format(path)
    if data_format == "kaggle":
        return read_kaggle(path)
    if data_format == "instafake":
        return read_instafake(path)
    if data_format == "twitter":
        return read_twitter(path, posts_shift=posts_shift)
    if data_format == "followers":
        return read_follower_labels(path)
    raise InputError(f"unknown format {data_format!r}: use one of {', '.join(FORMATS)}")
