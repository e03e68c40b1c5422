"""The follower-sample audit: score follower profiles, estimate an audience's fake share.

Service functions (the CLI, the API and the pages call these):

* ``score_followers(frame)``: a frame of follower profiles plus ``fake_probability`` and
  ``is_fake``;
* ``audit_follower_file(path, output)``: the same for a CSV / TSV / JSON lines / Parquet file of
  any length, read and written in batches (bounded memory), with the fake share estimated;
* ``audit_stored_sample(session, workspace, account)``: the same for the follower sample stored
  in the ``followers`` table for one account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from microfluence.authenticity.followers.domain import DomainCheck, FeatureTally
from microfluence.authenticity.followers.fake_share import (
    FakeShareEstimate,
    ScoreTally,
    estimate_fake_share,
)
from microfluence.authenticity.followers.features import (
    MODEL_COLUMNS,
    PROFILE_COLUMNS,
    parse_profiles,
    profile_features,
    resolve_columns,
    to_matrix,
)
from microfluence.authenticity.followers.files import ScoredFileWriter, file_format, read_batches
from microfluence.authenticity.followers.model import (
    FollowerModel,
    OperatingPoint,
    load_shipped_model,
)
from microfluence.catalog.accounts import find_account_by_reference
from microfluence.kernel.errors import InputError, NotFoundError
from microfluence.kernel.store.tables import Account, Follower
from microfluence.kernel.workspaces import get_workspace

BATCH_ROWS = 100_000
SCORE_COLUMNS = ("fake_probability", "is_fake")
STORED_COLUMNS = (
    "username",
    "full_name",
    "biography",
    "posts_count",
    "followers",
    "following",
    "has_profile_pic",
    "is_private",
    "is_verified",
    "external_url",
)
_STORED_TYPES = (
    dict.fromkeys(("username", "full_name", "biography", "external_url"), pl.String)
    | dict.fromkeys(("posts_count", "followers", "following"), pl.Int64)
    | dict.fromkeys(("has_profile_pic", "is_private", "is_verified"), pl.Boolean)
)

Progress = Callable[[int], None]


def parsed_batches(
    path: str | Path, *, data_format: str | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(raw rows, parsed profiles) batch by batch; errors name the row in the whole file."""
    offset = 0
    columns: dict[str, str] | None = None
    for raw in read_batches(path, data_format=data_format, batch_rows=batch_rows):
        if columns is None:
            columns = resolve_columns(raw.columns)
            if not any(c in columns for c in MODEL_COLUMNS):
                raise InputError(
                    "no follower profile column found; expected some of "
                    + ", ".join(PROFILE_COLUMNS),
                    file=str(path),
                )
        yield raw, parse_profiles(raw, columns=columns, file=str(path), row_offset=offset)
        offset += raw.height
    if offset == 0:
        raise InputError("the file has a header but no follower rows", file=str(path))


def _scores(
    profiles: pl.DataFrame, model: FollowerModel, features: FeatureTally | None = None
) -> np.ndarray:
    x = to_matrix(profile_features(profiles))
    if features is not None:
        features.add(x)
    return model.predict_proba(x)


def estimate_for_model(
    tally: ScoreTally,
    features: FeatureTally,
    model: FollowerModel,
    *,
    method: str = "acc",
    confidence: float = 0.95,
    operating_point: OperatingPoint | None = None,
) -> FakeShareEstimate:
    """The fake share of a scored sample, with the model's rate shift and its domain check.

    A sample in domain is corrected with the rates of the training source it is closest to; any
    other with the rates of all the training sources (each weighing the same). An
    ``operating_point`` other than the model's (a workspace's rates re-estimated from its own
    labels, ``labels.calibration``) is used as it is: those rates were measured on the
    workspace's own followers, so neither the between-source shift nor the domain check applies,
    and the uncertainty of its counts is in the interval."""
    if operating_point is not None and operating_point != model.operating_point:
        return estimate_fake_share(tally, operating_point, method=method, confidence=confidence)
    domain: DomainCheck | None = model.domain.check(features) if model.domain else None
    point = model.operating_point
    if domain is not None and domain.in_domain and domain.closest_source in model.source_points:
        point = model.source_points[domain.closest_source]
    return estimate_fake_share(
        tally,
        point,
        method=method,
        confidence=confidence,
        rate_shift=model.rate_shift,
        domain=domain,
    )


def _with_scores(
    raw: pl.DataFrame, probabilities: np.ndarray, model: FollowerModel
) -> pl.DataFrame:
    # Scores of an earlier audit in the input are replaced, not duplicated.
    kept = raw.drop([c for c in SCORE_COLUMNS if c in raw.columns])
    return kept.with_columns(
        pl.Series("fake_probability", np.round(probabilities, 6)),
        pl.Series("is_fake", model.is_fake(probabilities)),
    )


def score_followers(frame: pl.DataFrame, *, model: FollowerModel | None = None) -> pl.DataFrame:
    """``frame`` (follower profiles, any subset of the columns) plus ``fake_probability`` and
    ``is_fake`` (0/1 at the model's default threshold). Other columns are kept as they are."""
    model = model or load_shipped_model()
    columns = resolve_columns(frame.columns)
    if frame.height and not any(c in columns for c in MODEL_COLUMNS):
        raise InputError(
            "no follower profile column found; expected some of " + ", ".join(PROFILE_COLUMNS)
        )
    profiles = parse_profiles(frame, columns=columns)
    return _with_scores(frame, _scores(profiles, model), model)


@dataclass
class FollowerAudit:
    """The outcome of auditing one follower sample."""

    source: str
    estimate: FakeShareEstimate
    columns_used: list[str]
    columns_missing: list[str]
    output: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fake_share": self.estimate.as_dict(),
            "columns_used": self.columns_used,
            "columns_missing": self.columns_missing,
            "output": self.output,
            **self.extra,
        }


@dataclass
class _Scored:
    tally: ScoreTally
    columns: set[str]  # the profile columns the batches had
    features: FeatureTally = field(default_factory=FeatureTally)  # for the domain check


def _score_batches(
    batches: Iterable[tuple[pl.DataFrame, pl.DataFrame]],
    model: FollowerModel,
    output: str | Path | None,
    output_format: str | None,
    *,
    progress: Progress | None = None,
    empty: Exception | None = None,
) -> _Scored:
    """Score (raw rows, parsed profiles) batches into a tally; with ``output``, write each raw
    row with its score, the file appearing only when every batch was scored (and, with
    ``empty``, raising it instead when there was no row)."""
    scored = _Scored(ScoreTally(model.threshold), set())
    writer = ScoredFileWriter(Path(output), file_format(output, output_format)) if output else None
    try:
        for raw, profiles in batches:
            scored.columns = set(profiles.columns)
            probabilities = _scores(profiles, model, scored.features)
            scored.tally.add(probabilities)
            if writer is not None:
                writer.write(_with_scores(raw, probabilities, model))
            if progress is not None:
                progress(raw.height)
        if empty is not None and scored.tally.n == 0:
            raise empty
        if writer is not None:
            writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return scored


def audit_follower_file(
    path: str | Path,
    output: str | Path | None = None,
    *,
    model: FollowerModel | None = None,
    method: str = "acc",
    confidence: float = 0.95,
    data_format: str | None = None,
    output_format: str | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> FollowerAudit:
    """Score every follower in a file and estimate the fake share of the sample.

    With ``output``, every input row is written there with ``fake_probability`` and ``is_fake``
    added; the file appears only when the whole input was read without error.
    """
    model = model or load_shipped_model()
    batches = parsed_batches(path, data_format=data_format, batch_rows=batch_rows)
    scored = _score_batches(batches, model, output, output_format, progress=progress)
    present = scored.columns
    estimate = estimate_for_model(
        scored.tally, scored.features, model, method=method, confidence=confidence
    )
    return FollowerAudit(
        source=str(path),
        estimate=estimate,
        columns_used=[c for c in PROFILE_COLUMNS if c in present],
        columns_missing=[c for c in MODEL_COLUMNS if c not in present],
        output=str(output) if output else None,
    )


def stored_sample_batches(
    session: Session, account: Account, *, batch_rows: int = BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """The stored follower sample of one account, batch by batch, in the stored column names."""
    query = (
        select(*(getattr(Follower, c) for c in STORED_COLUMNS))
        .where(Follower.workspace_id == account.workspace_id, Follower.account_id == account.id)
        .order_by(Follower.id)
        .execution_options(yield_per=batch_rows)
    )
    schema = {c: _STORED_TYPES[c] for c in STORED_COLUMNS}
    for rows in session.execute(query).partitions():
        yield pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _parsed_stored_batches(
    session: Session, account: Account, reference: str, batch_rows: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    offset = 0
    for raw in stored_sample_batches(session, account, batch_rows=batch_rows):
        yield raw, parse_profiles(raw, file=f"followers of {reference}", row_offset=offset)
        offset += raw.height


def audit_stored_sample(
    session: Session,
    workspace: str,
    account: str,
    *,
    model: FollowerModel | None = None,
    method: str = "acc",
    confidence: float = 0.95,
    output: str | Path | None = None,
    output_format: str | None = None,
    batch_rows: int = BATCH_ROWS,
    operating_point: OperatingPoint | None = None,
) -> FollowerAudit:
    """Score the follower sample stored for ``account`` (``PLATFORM:HANDLE``) in ``workspace``.

    The fake share is estimated at ``operating_point``: by default the workspace's own, the
    model's rates re-estimated from the workspace's labels when it has any
    (:mod:`microfluence.authenticity.labels.calibration`)."""
    # Imported here: the labels' calibration scores labelled followers with this module.
    from microfluence.authenticity.labels.calibration import workspace_operating_point

    model = model or load_shipped_model()
    workspace_id = get_workspace(session, workspace).id
    if operating_point is None:
        operating_point = workspace_operating_point(session, workspace_id, model)
    found = find_account_by_reference(session, workspace_id, account)
    reference = f"{found.platform}:{found.handle}"
    batches = _parsed_stored_batches(session, found, reference, batch_rows)
    empty = NotFoundError(f"no follower sample stored for {reference} in {workspace!r}")
    scored = _score_batches(batches, model, output, output_format, empty=empty)
    estimate = estimate_for_model(
        scored.tally,
        scored.features,
        model,
        method=method,
        confidence=confidence,
        operating_point=operating_point,
    )
    return FollowerAudit(
        source=reference,
        estimate=estimate,
        columns_used=[c for c in PROFILE_COLUMNS if c != "is_verified"],
        columns_missing=[],
        output=str(output) if output else None,
        extra={
            "account_id": found.id,
            "calibrated_by_labels": operating_point != model.operating_point,
        },
    )
