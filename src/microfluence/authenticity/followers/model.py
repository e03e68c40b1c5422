"""The shipped follower model: plain JSON (no pickle), scored with NumPy.

Two kinds of model can be stored; the training script picks one by cross-validation:

* ``logistic``: p = σ(b + Σ wⱼ·(xⱼ − cⱼ)/sⱼ + Σ mⱼ·[xⱼ missing]), where a missing xⱼ counts as its
  centre cⱼ and mⱼ is the learned weight of "this feature is missing";
* ``gradient_boosting``: the trees of a scikit-learn ``HistGradientBoostingClassifier``
  (Friedman 2001; Ke et al. 2017), p = σ(baseline + Σ leaf values). A node sends a row left when
  its value is ≤ the threshold, and a missing value the way the tree learned for missing values.

Both return the probability that a follower is fake *at the training base rate* of the
training data: ``fake_share`` corrects for an audience's own base rate.

A model file may name its ``inputs``, a subset of ``FEATURES``: the others are set to missing
before scoring, so a model that does not use a column scores a file the same with or without it.
It may also carry what the fake-share estimate needs to know when it may be wrong: the shift of
the error rates between sources (``RateShift``) and the domain check's reference
(``followers.domain``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from microfluence.authenticity.followers.domain import DomainReference
from microfluence.authenticity.followers.features import FEATURES
from microfluence.kernel.errors import InputError

MODEL_FORMAT = "microfluence-follower-model"
MODEL_VERSION = 1
SHIPPED_MODEL = "follower_model.json"
_ROWS_PER_BLOCK = 65_536  # rows scored at once: bounds the work arrays, stays in cache


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z), without overflow for large |z|


@dataclass(frozen=True)
class OperatingPoint:
    """The default threshold and the cross-validated rates at it (used by the ACC correction)."""

    threshold: float
    tpr: float
    fpr: float
    tp: int
    fn: int
    fp: int
    tn: int


@dataclass(frozen=True)
class RateShift:
    """How far the TPR and FPR moved on a source the model was not trained on.

    From the leave-one-source-out evaluation: for each left-out source, |rate there − rate
    cross-validated on the training sources|. ``typical`` is the median over the left-out
    sources, ``worst`` the largest (docs/authenticity.md, "The interval")."""

    tpr_typical: float
    fpr_typical: float
    tpr_worst: float
    fpr_worst: float

    @classmethod
    def of(cls, tpr_shifts: list[float], fpr_shifts: list[float]) -> RateShift:
        tpr, fpr = np.abs(tpr_shifts), np.abs(fpr_shifts)
        return cls(
            tpr_typical=round(float(np.median(tpr)), 4),
            fpr_typical=round(float(np.median(fpr)), 4),
            tpr_worst=round(float(tpr.max()), 4),
            fpr_worst=round(float(fpr.max()), 4),
        )


@dataclass
class _Trees:
    baseline: float
    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray
    depth: int

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> _Trees:
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("f", "t", "m", "l", "r", "leaf", "v")}
        roots, offset, depth = [], 0, 0
        for tree in spec["trees"]:
            size = len(tree["value"])
            roots.append(offset)
            parts["f"].append(np.asarray(tree["feature"], dtype=np.int64))
            thresholds = [np.inf if t is None else t for t in tree["threshold"]]
            parts["t"].append(np.asarray(thresholds, dtype=np.float64))
            parts["m"].append(np.asarray(tree["missing_left"], dtype=bool))
            parts["l"].append(np.asarray(tree["left"], dtype=np.int64) + offset)
            parts["r"].append(np.asarray(tree["right"], dtype=np.int64) + offset)
            parts["leaf"].append(np.asarray(tree["is_leaf"], dtype=bool))
            parts["v"].append(np.asarray(tree["value"], dtype=np.float64))
            depth = max(depth, int(tree["depth"]))
            offset += size
        return cls(
            baseline=float(spec["baseline"]),
            roots=np.asarray(roots, dtype=np.int64),
            feature=np.concatenate(parts["f"]),
            threshold=np.concatenate(parts["t"]),
            missing_left=np.concatenate(parts["m"]),
            left=np.concatenate(parts["l"]),
            right=np.concatenate(parts["r"]),
            is_leaf=np.concatenate(parts["leaf"]),
            value=np.concatenate(parts["v"]),
            depth=depth,
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        # Each tree is evaluated bottom-up with np.where over a block of rows (one pass per
        # internal node), and a (feature, threshold) comparison shared by several trees is made
        # once per block.
        out = np.empty(len(x), dtype=np.float64)
        for start in range(0, len(x), _ROWS_PER_BLOCK):
            block = _Block(np.ascontiguousarray(x[start : start + _ROWS_PER_BLOCK].T))
            total = np.full(block.columns.shape[1], self.baseline)
            for root in self.roots:
                total += self._value(int(root), block)
            out[start : start + len(total)] = total
        return out

    def _value(self, node: int, block: _Block) -> np.ndarray | float:
        if self.is_leaf[node]:
            return float(self.value[node])
        left = block.goes_left(
            int(self.feature[node]), float(self.threshold[node]), bool(self.missing_left[node])
        )
        return np.where(
            left,
            self._value(int(self.left[node]), block),
            self._value(int(self.right[node]), block),
        )


class _Block:
    """A block of rows, feature by feature, with the comparisons already made."""

    def __init__(self, columns: np.ndarray) -> None:
        self.columns = columns
        self.missing = np.isnan(columns)
        self.cache: dict[tuple[int, float, bool], np.ndarray] = {}

    def goes_left(self, feature: int, threshold: float, missing_left: bool) -> np.ndarray:
        key = (feature, threshold, missing_left)
        if key not in self.cache:
            left = self.columns[feature] <= threshold  # NaN compares False
            self.cache[key] = left | self.missing[feature] if missing_left else left
        return self.cache[key]


@dataclass
class _Logistic:
    intercept: float
    coef: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    missing_coef: np.ndarray

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> _Logistic:
        return cls(
            intercept=float(spec["intercept"]),
            coef=np.asarray(spec["coef"], dtype=np.float64),
            center=np.asarray(spec["center"], dtype=np.float64),
            scale=np.asarray(spec["scale"], dtype=np.float64),
            missing_coef=np.asarray(spec["missing_coef"], dtype=np.float64),
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        standard = np.where(missing, 0.0, (x - self.center) / self.scale)
        return self.intercept + standard @ self.coef + missing @ self.missing_coef


@dataclass
class FollowerModel:
    """A loaded follower model: ``predict_proba`` on a ``FEATURES`` matrix (NaN = missing)."""

    kind: str
    features: tuple[str, ...]
    operating_point: OperatingPoint
    metadata: dict[str, Any] = field(default_factory=dict)
    _scorer: _Trees | _Logistic | None = field(default=None, repr=False)
    inputs: tuple[str, ...] = FEATURES
    rate_shift: RateShift | None = None
    domain: DomainReference | None = None
    # each training source's own rates at the threshold (for a sample like that source)
    source_points: dict[str, OperatingPoint] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return self.operating_point.threshold

    @classmethod
    def from_dict(cls, spec: dict[str, Any], *, source: str = "model") -> FollowerModel:
        if spec.get("format") != MODEL_FORMAT or spec.get("version") != MODEL_VERSION:
            raise InputError(
                f"not a microfluence follower model (format {MODEL_FORMAT} v{MODEL_VERSION})",
                file=source,
            )
        features = tuple(spec["features"])
        if features != FEATURES:
            raise InputError(
                f"the model expects features {features}, this version computes {FEATURES}",
                file=source,
            )
        kind = spec["kind"]
        scorer: _Trees | _Logistic
        if kind == "gradient_boosting":
            scorer = _Trees.from_json(spec["gradient_boosting"])
        elif kind == "logistic":
            scorer = _Logistic.from_json(spec["logistic"])
        else:
            raise InputError(f"unknown model kind {kind!r}", file=source)
        point = OperatingPoint(**spec["operating_point"])
        inputs = tuple(spec.get("inputs", FEATURES))
        unknown = [f for f in inputs if f not in FEATURES]
        if unknown:
            raise InputError(f"the model's inputs {unknown} are not features", file=source)
        metadata = {
            k: v
            for k, v in spec.items()
            if k in ("training", "evaluation", "selection", "sources", "accuracy")
        }
        shift = RateShift(**spec["rate_shift"]) if "rate_shift" in spec else None
        domain = DomainReference.from_json(spec["domain"]) if "domain" in spec else None
        points = {k: OperatingPoint(**v) for k, v in spec.get("source_points", {}).items()}
        return cls(kind, features, point, metadata, scorer, inputs, shift, domain, points)

    @classmethod
    def load(cls, path: str | Path) -> FollowerModel:
        path = Path(path)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the follower model: {exc}", file=str(path)) from exc
        return cls.from_dict(spec, source=str(path))

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """The log-odds of fake at the training base rate, one per row of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise InputError(f"expected a matrix with {len(self.features)} feature columns")
        assert self._scorer is not None
        if self.inputs != self.features:
            keep = np.array([f in self.inputs for f in self.features])
            x = np.where(keep[None, :], x, np.nan)
        return self._scorer.raw(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The probability that each follower is fake, at the training base rate."""
        return _sigmoid(self.predict_raw(x))

    def measured_accuracy(self) -> str | None:
        """One sentence of the model's measured accuracy (stored by the training script), for
        reports: cross-validated ROC AUC, and ROC AUC and fake-share error on the sources it was
        not trained on (docs/model-card-follower.md)."""
        accuracy = self.metadata.get("accuracy")
        if not accuracy:
            return None
        aucs = list(accuracy["left_out_roc_auc"].values())
        errors = [100 * e for e in accuracy["left_out_share_error"].values()]
        return (
            "Follower model measured on public labelled data: ROC AUC "
            f"{accuracy['cross_validated_roc_auc']:.2f} cross-validated; on data sets left out "
            f"of its training, ROC AUC {min(aucs):.2f}–{max(aucs):.2f} and the fake share off by "
            f"{min(errors):.1f}–{max(errors):.1f} points at 10 % fake "
            "(docs/model-card-follower.md)."
        )

    def is_fake(self, probabilities: np.ndarray) -> np.ndarray:
        return (np.asarray(probabilities) >= self.threshold).astype(np.int8)


@lru_cache(maxsize=1)
def load_shipped_model() -> FollowerModel:
    """The model that ships in the package (built by ``followers.training``)."""
    resource = resources.files("microfluence.authenticity.followers") / "models" / SHIPPED_MODEL
    return FollowerModel.load(Path(str(resource)))
