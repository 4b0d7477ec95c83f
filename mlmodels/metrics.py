"""Quality metrics of a probabilistic classifier on labeled rows (Django-free, plain numpy).

``classification_metrics`` is what ``mlmodels.pipeline.evaluate`` returns: everything is
JSON-serializable and floats are rounded to 4 places.  A row counts as *covered* (would be
auto-approved) when its top-1 probability is >= the threshold AND its predicted class may be
auto-approved (enough training examples).  Rows whose true class the model does not know are always
wrong.  Undefined values (precision with no covered rows, accuracy of an empty bin) are ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "CALIBRATION_BINS",
    "COVERAGE_THRESHOLDS",
    "classification_metrics",
    "expected_calibration_error",
    "reliability",
]

CALIBRATION_BINS = 10
COVERAGE_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _bin_index(confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """Equal-width bins over [0, 1]; 1.0 falls into the last bin."""
    return np.minimum((confidence * bins).astype(np.int64), bins - 1)


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """One entry per bin ("0.9-1.0"): rows in it, their mean top-1 probability and their accuracy."""
    index = _bin_index(confidence, bins)
    table = []
    for number in range(bins):
        members = index == number
        count = int(members.sum())
        table.append({
            "bin": f"{number / bins:.1f}-{(number + 1) / bins:.1f}",
            "count": count,
            "mean_confidence": _r(confidence[members].mean()) if count else None,
            "accuracy": _r(correct[members].mean()) if count else None,
        })
    return table


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Sum over bins of (share of rows in the bin) x |mean confidence - accuracy| (top-1, equal-width bins)."""
    if len(confidence) == 0:
        return 0.0
    index = _bin_index(confidence, bins)
    counts = np.bincount(index, minlength=bins)
    confidence_sums = np.bincount(index, weights=confidence, minlength=bins)
    correct_sums = np.bincount(index, weights=correct.astype(np.float64), minlength=bins)
    return float(np.abs(confidence_sums - correct_sums).sum() / len(confidence))


def classification_metrics(
    y_true: Sequence[str],
    classes: Sequence[str],
    proba: np.ndarray,
    *,
    threshold: float,
    auto_approvable_classes: np.ndarray | None = None,
) -> dict:
    """Metrics of top-1 predictions ``proba`` (rows x classes, columns in ``classes`` order) against ``y_true``.

    ``auto_approvable_classes`` (bool per class, default all True) says which predicted classes may
    ever be auto-approved; it enters coverage and precision at the threshold and the coverage curve.
    """
    classes = [str(code) for code in classes]
    y_true_array = np.asarray([str(code) for code in y_true], dtype=object)
    n = len(y_true_array)
    proba = np.asarray(proba, dtype=np.float64).reshape(n, len(classes))
    if auto_approvable_classes is None:
        auto_approvable_classes = np.ones(len(classes), dtype=bool)
    has_model = bool(n and classes)
    if has_model:
        top = proba.argmax(axis=1)
        confidence = proba[np.arange(n), top]
        predicted = np.asarray(classes, dtype=object)[top]
        approvable = np.asarray(auto_approvable_classes, dtype=bool)[top]
    else:  # no rows, or a model without classes: nothing is predicted, nothing is right
        confidence = np.zeros(n)
        predicted = np.full(n, None, dtype=object)
        approvable = np.zeros(n, dtype=bool)
    correct = predicted == y_true_array

    labels = sorted(set(y_true_array.tolist()) | (set(predicted.tolist()) if has_model else set()))
    position = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    if has_model:
        true_index = np.array([position[label] for label in y_true_array.tolist()], dtype=np.int64)
        predicted_index = np.array([position[label] for label in predicted.tolist()], dtype=np.int64)
        np.add.at(matrix, (true_index, predicted_index), 1)
    true_positive = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1) if has_model else np.array(
        [int((y_true_array == label).sum()) for label in labels], dtype=np.int64)
    predicted_count = matrix.sum(axis=0).astype(np.float64)
    precision = np.divide(true_positive, predicted_count, out=np.zeros_like(true_positive), where=predicted_count > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(true_positive), where=denominator > 0)

    def at(cut: float) -> tuple[float, float | None]:
        covered = approvable & (confidence >= cut)
        count = int(covered.sum())
        return (count / n if n else 0.0), (float(correct[covered].mean()) if count else None)

    coverage, precision_at = at(threshold)
    curve = []
    for cut in COVERAGE_THRESHOLDS:
        share, right = at(cut)
        curve.append({"threshold": cut, "coverage": _r(share), "precision": _r(right)})
    return {
        "rows": n,
        "accuracy": _r(correct.mean()) if n else None,
        "macro_f1": _r(f1.mean()) if len(labels) else None,
        "per_account": {
            label: {"precision": _r(precision[i]), "recall": _r(recall[i]), "f1": _r(f1[i]), "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "threshold": _r(threshold),
        "coverage_at_threshold": _r(coverage),
        "precision_at_threshold": _r(precision_at),
        "calibration_error": _r(expected_calibration_error(confidence, correct)),
        "reliability": reliability(confidence, correct),
        "coverage_curve": curve,
    }
