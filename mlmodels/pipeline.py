"""The transaction classifier's ML core: train, predict, evaluate, save and load (Django-free).

Everything here works on plain values (``Txn`` / ``LabeledTxn``) and a plain scikit-learn ``Pipeline``;
the Django side (``ModelVersion``, services, API) selects the rows and stores the artifact.

Algorithms
----------
``tfidf_sgd_calibrated`` (DEFAULT_ALGORITHM)
    Features (``mlmodels.features``): the description normalized by the rules' normalizer (TF-IDF of
    its words), its vendor key as one token, the counterparty's words (TF-IDF), and one-hot context:
    amount magnitude in quarter-decade log buckets with its sign, vendor x sign and vendor x sign x
    third-of-a-decade amount bucket, day of month, weekday, bank account, and - when the rows name
    their company (``Txn.company``: a global model pooled over companies) - the company and vendor x
    company (x amount bucket) crosses.  Classifier: one-vs-rest logistic regression fitted by averaged
    SGD (5 epochs), calibrated by isotonic regression on out-of-fold scores (``CalibratedClassifierCV``,
    ``ensemble=False``: a single linear model, so prediction is one sparse product and an explanation
    is coefficient x feature value).  Measured on 100,000 demo rows of five companies (time split,
    ``benchmarks/ml.py``): isotonic calibration error ~0.01-0.02 and cheapest to fit; sigmoid ~0.02
    and 2x slower to fit; temperature ~0.03; hinge / modified-Huber losses with sigmoid calibration
    0.10-0.14 (OvR renormalization dilutes them).  Averaged SGD after 5 epochs matched plain SGD after
    10-15 in accuracy (+0.3 points) at half the cost.
``original_design``
    The issue's first design, for comparison: TF-IDF of the raw description and counterparty, one-hot
    amount bucket (one per decade), weekday, month and sign, into one-vs-rest ``LogisticRegression``
    (liblinear, C=1); its probabilities are not calibrated.

Classes with fewer than ``min_class_examples`` rows are left out of training and listed in
``rare_classes``; classes trained on fewer than ``auto_min_support`` rows are listed in
``low_support_classes`` and their predictions are never ``auto_approvable``.  Same rows (same order)
and seed give identical probabilities.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import hashlib
import hmac
import io
import os
import pathlib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import joblib
import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlmodels import features
from mlmodels.features import ContextVectorizer, TokenVectorizer
from mlmodels.metrics import classification_metrics
from transactions.normalization import vendor_key

__all__ = [
    "ALGORITHMS",
    "ArtifactInvalid",
    "DEFAULT_ALGORITHM",
    "InsufficientData",
    "LabeledTxn",
    "Prediction",
    "TrainedModel",
    "Txn",
    "cross_validate",
    "evaluate",
    "load",
    "save",
    "time_split",
    "train",
    "train_and_evaluate",
]

DEFAULT_ALGORITHM = "tfidf_sgd_calibrated"
ORIGINAL_ALGORITHM = "original_design"
ALGORITHMS = (DEFAULT_ALGORITHM, ORIGINAL_ALGORITHM)
EXPLAIN_TOP = 3  # features listed per explanation
ALTERNATIVES = 2  # accounts offered besides the top-1
ARTIFACT_FORMAT = 1  # bump when TrainedModel changes incompatibly

# Default algorithm's hyperparameters (see the module docstring for how they were chosen).
_SGD_ALPHA = 1e-5
_SGD_EPOCHS = 5  # a fixed budget: averaged SGD is as accurate after 5 epochs as plain SGD after 10-15
_SGD_AVERAGE = True
_CALIBRATION = "isotonic"
# Calibration folds: the calibrator learns from out-of-fold scores of models fitted on (folds-1)/folds of
# the rows, then maps the scores of the model fitted on all rows; on small data those differ more, so
# more folds there (measured on 2,000-4,000 rows of one demo company: mean ECE 0.039 with 3, 0.028 with
# 5 folds); on large data 3 folds are enough and keep train_and_evaluate on 100,000 rows well under 60 s.
_CALIBRATION_FOLDS = 3
_SMALL_DATA_CALIBRATION_FOLDS = 5
_SMALL_DATA_ROWS = 20_000
# The original design's LogisticRegression.
_ORIGINAL_C = 1.0


# --- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Txn:
    """What the model sees of a bank transaction."""

    description: str
    counterparty: str
    amount: Decimal  # signed: money in > 0, money out < 0
    date: datetime.date
    bank_account: str  # the bank account's code
    # Which company the row belongs to (any stable id, e.g. its slug).  Only matters for a global model
    # trained on several companies' pooled rows: it lets one model learn "vendor X means Y at company Z".
    company: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class LabeledTxn(Txn):
    """A transaction with the account a human approved."""

    account_code: str  # the label


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's answer for one transaction."""

    account_code: str  # top-1
    probability: float  # calibrated probability of top-1
    alternatives: tuple[tuple[str, float], ...]  # next (up to) 2 accounts with probability > 0, descending
    auto_approvable: bool  # False when the predicted class had too few training examples to be trusted
    explanation: dict  # {"tokens": [[feature, weight], ...], "vendor": "HAMILTON COFFEE"}; {} with explain=False


class ArtifactInvalid(ValueError):
    """A saved model cannot be used: missing, unreadable, tampered with, or from another library version."""


class InsufficientData(ValueError):
    """Too few labeled rows (or accounts with enough rows) to train a model."""


# --- the trained model ---------------------------------------------------------------------------


class TrainedModel:
    """A fitted pipeline plus what the caller needs to know about it; picklable (see ``save``)."""

    def __init__(
        self,
        *,
        algorithm: str,
        params: dict,
        pipeline: Pipeline,
        rare_classes: dict[str, int],
        low_support_classes: list[str],
        training_summary: dict,
    ) -> None:
        self.algorithm = algorithm
        self.params = params
        self.pipeline = pipeline
        self.classes: list[str] = [str(code) for code in pipeline.classes_]
        self.rare_classes = rare_classes
        self.low_support_classes = low_support_classes
        self.training_summary = training_summary
        self.artifact_format = ARTIFACT_FORMAT
        self.library_versions = _library_versions()
        low = set(low_support_classes)
        self._auto_approvable = np.array([code not in low for code in self.classes], dtype=bool)
        self._codes = np.asarray(self.classes, dtype=object)
        self._feature_names = _feature_names(algorithm, pipeline)
        self._coef = _linear_coefficients(pipeline[-1], len(self.classes))

    def __repr__(self) -> str:
        return f"<TrainedModel {self.algorithm} classes={len(self.classes)} rows={self.training_summary.get('rows')}>"

    # The Pipeline splits into its feature step(s) and the classifier so that predict() can transform
    # once and use the feature matrix for both probabilities and explanations.

    def _features(self, txns: Sequence[Txn]) -> tuple[pd.DataFrame, object]:
        frame = _FRAMES[self.algorithm](txns)
        return frame, self.pipeline[:-1].transform(frame)

    def predict_proba_matrix(self, txns: Sequence[Txn]) -> tuple[list[str], np.ndarray]:
        """(classes, probabilities rows x classes) for a batch; rows sum to 1."""
        if not len(txns):
            return list(self.classes), np.zeros((0, len(self.classes)))
        with _gc_paused():
            _, matrix = self._features(txns)
            return list(self.classes), self.pipeline[-1].predict_proba(matrix)

    def predict(self, txns: Sequence[Txn], *, explain: bool = True) -> list[Prediction]:
        """Predictions for a batch: one feature pass, one sparse product, explanations vectorized."""
        if not len(txns):
            return []
        with _gc_paused():
            frame, matrix = self._features(txns)
            proba = self.pipeline[-1].predict_proba(matrix)
            n, n_classes = proba.shape
            shown = min(1 + ALTERNATIVES, n_classes)
            order = _top_columns(proba, shown)
            ranked = np.take_along_axis(proba, order, axis=1)
            codes = self._codes
            top_codes = codes[order[:, 0]].tolist()
            top_probabilities = ranked[:, 0].tolist()
            approvable = self._auto_approvable[order[:, 0]].tolist()
            alternatives = [()] * n
            for column in range(shown - 1, 0, -1):  # prepend the 2nd best, then the 1st: descending
                pairs = zip(codes[order[:, column]].tolist(), ranked[:, column].tolist())
                alternatives = [((pair,) + rest) if pair[1] > 0.0 else rest for pair, rest in zip(pairs, alternatives)]
            if explain:
                explanations = self._explanations(txns, frame, matrix, order[:, 0])
            else:
                explanations = [{} for _ in range(n)]
            return list(map(Prediction, top_codes, top_probabilities, alternatives, approvable, explanations))

    def _explanations(self, txns: Sequence[Txn], frame: pd.DataFrame, matrix, predicted: np.ndarray) -> list[dict]:
        """Per row: the EXPLAIN_TOP features with the largest positive coef x value for the predicted class."""
        matrix = sp.csr_matrix(matrix)
        n = matrix.shape[0]
        lengths = np.diff(matrix.indptr)
        coef = self._coef
        contribution = matrix.data * coef.ravel()[np.repeat(predicted, lengths) * coef.shape[1] + matrix.indices]
        positive = contribution > 0
        row = np.repeat(np.arange(n), lengths)[positive]
        contribution = contribution[positive]
        feature = matrix.indices[positive]
        if len(row):
            # By row, then largest contribution first, with one argsort (much cheaper than lexsort) of
            # row + 0.5 - contribution / (2 x the largest): the fraction stays in [0, 0.5), rows never mix.
            order = np.argsort(row + (0.5 - contribution / (2.0 * contribution.max())), kind="stable")
            row, contribution, feature = row[order], contribution[order], feature[order]
        per_row = np.bincount(row, minlength=n)
        rank = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        keep = rank < EXPLAIN_TOP
        tokens = list(map(list, zip(self._feature_names[feature[keep]].tolist(),
                                    np.round(contribution[keep], 3).tolist())))
        bounds = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.minimum(per_row, EXPLAIN_TOP), out=bounds[1:])
        bounds = bounds.tolist()
        if features.VENDOR_COLUMN in frame:
            vendors = frame[features.VENDOR_COLUMN].tolist()
        else:
            vendors = [vendor_key(txn.description) for txn in txns]
        return [
            {"tokens": tokens[start:end], "vendor": vendor}
            for start, end, vendor in zip(bounds, bounds[1:], vendors)
        ]


def _top_columns(proba: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest values per row, largest first; ties go to the first class (as argmax).

    k argmax passes: cheaper than sorting every row (k is 3, classes ~40).
    """
    work = proba.copy()
    every_row = np.arange(len(proba))
    columns = []
    for rank in range(k):
        best = work.argmax(axis=1)
        columns.append(best)
        if rank < k - 1:
            work[every_row, best] = -np.inf
    return np.stack(columns, axis=1)


@contextlib.contextmanager
def _gc_paused():
    """Pause CPython's cyclic garbage collector while a batch's objects are built.

    Batch prediction creates several container objects per row that all stay alive; the collector
    would rescan the ever-growing heap many times over (measured: ~40% of ``predict``'s time on
    50,000 rows).  Nothing here creates reference cycles, so pausing is safe; the previous state is
    restored (if another thread paused it too, the collector simply stays off a little longer).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _library_versions() -> dict[str, str]:
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__}


def _feature_names(algorithm: str, pipeline: Pipeline) -> np.ndarray:
    """Readable names of the feature columns, for explanations ("HAMILTON", "vendor SQUARE", "day 15")."""
    transformer: ColumnTransformer = pipeline[0]
    names: list[str] = []
    for name, fitted, _ in transformer.transformers_:
        if fitted == "drop" or name == "remainder":
            continue
        raw = [str(feature) for feature in fitted.get_feature_names_out()]
        if name in (features.WORDS_COLUMN, "description", "context"):
            names.extend(raw)
        elif name == features.VENDOR_COLUMN:
            names.extend(f"vendor {feature}" for feature in raw)
        elif name == features.COUNTERPARTY_COLUMN:
            names.extend(f"counterparty {feature}" for feature in raw)
        else:  # one-hot categorical columns: "amount_bucket_2" -> "amount_bucket 2"
            names.extend(feature.replace("_", " ", 1) if feature.startswith(("weekday_", "month_", "sign_"))
                         else feature.replace("amount_bucket_", "amount decade ") for feature in raw)
    return np.asarray(names, dtype=object)


def _linear_coefficients(classifier, n_classes: int) -> np.ndarray:
    """The (classes x features) weights of the linear model behind the classifier."""
    if isinstance(classifier, CalibratedClassifierCV):
        if len(classifier.calibrated_classifiers_) != 1:
            raise TypeError("explanations need ensemble=False calibration (one linear model)")
        classifier = classifier.calibrated_classifiers_[0].estimator
    if isinstance(classifier, OneVsRestClassifier):
        coef = np.vstack([estimator.coef_ for estimator in classifier.estimators_])
    else:
        coef = np.asarray(classifier.coef_)
    if n_classes == 2 and coef.shape[0] == 1:  # binary models keep one row: the second class's weights
        coef = np.vstack([-coef[0], coef[0]])
    return np.ascontiguousarray(coef, dtype=np.float64)


# --- pipelines -----------------------------------------------------------------------------------


def _default_pipeline(seed: int, n_jobs: int, calibration_folds: int, epochs: int) -> Pipeline:
    vectorizers = ColumnTransformer(
        [
            (features.WORDS_COLUMN, TokenVectorizer(" ", sublinear_tf=True), features.WORDS_COLUMN),
            (features.VENDOR_COLUMN, TokenVectorizer(None, binary=True, use_idf=False, norm=None),
             features.VENDOR_COLUMN),
            (features.COUNTERPARTY_COLUMN, TokenVectorizer(" "), features.COUNTERPARTY_COLUMN),
            ("context", ContextVectorizer(), features.CONTEXT_COLUMNS),
        ],
        sparse_threshold=1.0,
    )
    classifier = SGDClassifier(
        loss="log_loss", alpha=_SGD_ALPHA, max_iter=epochs, tol=1e-4, average=_SGD_AVERAGE, random_state=seed,
        n_jobs=n_jobs,
    )
    calibrated = CalibratedClassifierCV(
        classifier,
        method=_CALIBRATION,
        cv=StratifiedKFold(calibration_folds, shuffle=True, random_state=seed),
        ensemble=False,
    )
    return Pipeline([("features", vectorizers), ("classifier", calibrated)])


def _original_pipeline(seed: int, frame: pd.DataFrame) -> Pipeline:
    has_counterparty = bool(frame["counterparty"].astype(bool).any())
    vectorizers = ColumnTransformer(
        [
            ("description", TfidfVectorizer(), "description"),
            ("counterparty", TfidfVectorizer() if has_counterparty else "drop", "counterparty"),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(features.ORIGINAL_CATEGORICAL_COLUMNS)),
        ],
        sparse_threshold=1.0,
    )
    # One process: OneVsRestClassifier's parallel fits would share (processes: read-only memmaps; threads:
    # races) the feature matrix whose indices LogisticRegression sorts in place.
    classifier = OneVsRestClassifier(LogisticRegression(C=_ORIGINAL_C, solver="liblinear", random_state=seed))
    return Pipeline([("features", vectorizers), ("classifier", classifier)])


_FRAMES: dict[str, Callable[[Sequence[Txn]], pd.DataFrame]] = {
    DEFAULT_ALGORITHM: features.frame,
    ORIGINAL_ALGORITHM: features.original_frame,
}


def _jobs(n_jobs: int | None) -> int:
    """Training threads: both cores of the reference machine, at most 4."""
    return n_jobs if n_jobs is not None else max(1, min(4, os.cpu_count() or 1))


# --- training ------------------------------------------------------------------------------------


def train(
    rows: Sequence[LabeledTxn],
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    seed: int = 0,
    min_class_examples: int = 5,
    auto_min_support: int = 20,
    n_jobs: int | None = None,
) -> TrainedModel:
    """Fit a model on labeled rows (human-approved).  Raises InsufficientData with fewer than two usable accounts."""
    return _train(rows, None, algorithm=algorithm, seed=seed, min_class_examples=min_class_examples,
                  auto_min_support=auto_min_support, n_jobs=n_jobs)


def _train(
    rows: Sequence[LabeledTxn],
    frame: pd.DataFrame | None,
    *,
    algorithm: str,
    seed: int,
    min_class_examples: int,
    auto_min_support: int,
    n_jobs: int | None,
) -> TrainedModel:
    """train() with the feature frame of ``rows`` possibly computed already (cross-validation reuses it)."""
    if algorithm not in _FRAMES:
        raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
    # Calibration needs every class in each of its folds: at least two examples per class.
    min_class_examples = max(int(min_class_examples), 2)
    labels = [row.account_code for row in rows]
    counts = Counter(labels)
    rare = {code: count for code, count in sorted(counts.items()) if count < min_class_examples}
    kept = [i for i, label in enumerate(labels) if label not in rare]
    trained_counts = {code: count for code, count in sorted(counts.items()) if code not in rare}
    if len(trained_counts) < 2:
        raise InsufficientData(
            f"need at least two accounts with {min_class_examples} or more labeled transactions each; "
            f"got {len(rows)} rows, {len(trained_counts)} such account(s)"
        )
    if frame is None:
        frame = _FRAMES[algorithm](rows)
    if len(kept) < len(rows):
        frame = frame.iloc[kept].reset_index(drop=True)
    y = np.asarray([labels[i] for i in kept], dtype=object)
    jobs = _jobs(n_jobs)

    params: dict = {"seed": seed, "min_class_examples": min_class_examples, "auto_min_support": auto_min_support}
    if algorithm == DEFAULT_ALGORITHM:
        # Company features only for rows of several companies (a global model).  For one company they
        # would carry nothing, and predictions would then depend on whether the caller names the company.
        company_features = frame[features.COMPANY_COLUMN].nunique() > 1
        if not company_features:
            frame = frame.assign(**{features.COMPANY_COLUMN: ""})
        folds = _SMALL_DATA_CALIBRATION_FOLDS if len(y) < _SMALL_DATA_ROWS else _CALIBRATION_FOLDS
        folds = min(folds, min(trained_counts.values()))
        epochs = _SGD_EPOCHS
        pipeline = _default_pipeline(seed, jobs, folds, epochs)
        params.update({
            "classifier": "SGDClassifier(log_loss, one-vs-rest)", "alpha": _SGD_ALPHA, "epochs": epochs,
            "average": _SGD_AVERAGE, "company_features": bool(company_features),
            "calibration": _CALIBRATION, "calibration_folds": folds, "calibration_ensemble": False,
            "features": {
                "words": "tf-idf (sublinear) of normalized description words",
                "vendor": "vendor key (one token)",
                "counterparty": "tf-idf of normalized counterparty words",
                "context": f"amount log bucket ({features.BUCKETS_PER_DECADE}/decade) and sign, vendor x sign, "
                           f"vendor x amount bucket ({features.COARSE_PER_DECADE}/decade), day of month, weekday, "
                           "bank account; company and vendor x company (x amount) when several companies",
            },
        })
    else:
        pipeline = _original_pipeline(seed, frame)
        params.update({
            "classifier": "OneVsRest(LogisticRegression(liblinear))", "C": _ORIGINAL_C, "calibration": None,
            "features": "tf-idf of raw description and counterparty; one-hot amount decade, weekday, month, sign",
        })
    with warnings.catch_warnings():
        # Tiny classes: sklearn warns that some folds are small; they are handled above.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the epoch budget is deliberate
        pipeline.fit(frame, y)

    low_support = [code for code, count in trained_counts.items() if count < auto_min_support]
    dates = [row.date for row in rows]
    summary = {
        "rows": len(kept),
        "rows_given": len(rows),
        "date_from": min(dates).isoformat(),
        "date_to": max(dates).isoformat(),
        "classes": trained_counts,
        "rare_classes": rare,
        "low_support_classes": low_support,
        "companies": sorted({row.company for row in rows if row.company}),
    }
    model = TrainedModel(
        algorithm=algorithm,
        params=params,
        pipeline=pipeline,
        rare_classes=rare,
        low_support_classes=low_support,
        training_summary=summary,
    )
    summary["features"] = len(model._feature_names)
    return model


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(model: TrainedModel, rows: Sequence[LabeledTxn], *, threshold: float) -> dict:
    """Held-out metrics (see mlmodels.metrics.classification_metrics); unknown true classes count as wrong."""
    classes, proba = model.predict_proba_matrix(rows)
    low = set(model.low_support_classes)
    approvable = np.array([code not in low for code in classes], dtype=bool)
    return classification_metrics(
        [row.account_code for row in rows], classes, proba, threshold=threshold, auto_approvable_classes=approvable
    )


def cross_validate(
    rows: Sequence[LabeledTxn],
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    folds: int = 5,
    seed: int = 0,
    min_class_examples: int = 5,
    auto_min_support: int = 20,
    n_jobs: int | None = None,
) -> dict:
    """Stratified k-fold accuracy of the whole algorithm (rare-class handling and calibration included)."""
    return _cross_validate(rows, None, algorithm=algorithm, folds=folds, seed=seed,
                           min_class_examples=min_class_examples, auto_min_support=auto_min_support, n_jobs=n_jobs)


def _cross_validate(rows, frame, *, algorithm, folds, seed, min_class_examples, auto_min_support, n_jobs) -> dict:
    if len(rows) < folds:
        raise InsufficientData(f"{folds}-fold cross-validation needs at least {folds} rows, got {len(rows)}")
    if frame is None:
        frame = _FRAMES[algorithm](rows)
    labels = np.asarray([row.account_code for row in rows], dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(np.zeros(len(rows)), labels))
    for train_index, test_index in splits:
        fold_model = _train(
            [rows[i] for i in train_index], frame.iloc[train_index].reset_index(drop=True), algorithm=algorithm,
            seed=seed, min_class_examples=min_class_examples, auto_min_support=auto_min_support, n_jobs=n_jobs,
        )
        test_frame = frame.iloc[test_index].reset_index(drop=True)
        proba = fold_model.pipeline.predict_proba(test_frame)
        predicted = np.asarray(fold_model.classes, dtype=object)[proba.argmax(axis=1)]
        scores.append(float((predicted == labels[test_index]).mean()))
    return {
        "folds": [round(score, 4) for score in scores],
        "mean": round(float(np.mean(scores)), 4),
        "std": round(float(np.std(scores)), 4),
    }


def time_split(rows: Sequence[LabeledTxn], holdout_fraction: float) -> tuple[list[LabeledTxn], list[LabeledTxn]]:
    """(older rows, newest ``holdout_fraction`` of rows by date); ties keep the given order."""
    if not 0 < holdout_fraction < 1:
        raise ValueError(f"holdout_fraction must be between 0 and 1, got {holdout_fraction}")
    ordered = sorted(rows, key=lambda row: row.date)
    cut = len(ordered) - max(1, round(len(ordered) * holdout_fraction))
    return ordered[:cut], ordered[cut:]


def train_and_evaluate(
    rows: Sequence[LabeledTxn],
    *,
    threshold: float,
    algorithm: str = DEFAULT_ALGORITHM,
    seed: int = 0,
    holdout_fraction: float = 0.2,
    cv_folds: int | None = 5,
    min_class_examples: int = 5,
    auto_min_support: int = 20,
    n_jobs: int | None = None,
    return_held_out_model: bool = False,
) -> tuple[TrainedModel, dict, list[LabeledTxn]] | tuple[TrainedModel, dict, list[LabeledTxn], TrainedModel]:
    """Time-split evaluation, then a refit on all rows.

    The newest ``holdout_fraction`` of rows (by date) is held out; a model fitted on the older rows is
    evaluated there (``evaluate``), plus ``"training_rows"``, ``"holdout_from"``/``"holdout_to"`` and
    ``"cv"``: ``cross_validate`` on the older rows (None when ``cv_folds`` is 0/None, or when a fold is
    too small to train on - then ``"cv_skipped"`` says why).  The returned model is fitted on ALL rows
    with the same parameters.  Returns (model, metrics, holdout rows), and with ``return_held_out_model``
    also the model fitted on the older rows only (to compare versions on rows neither has seen).
    """
    training_rows, holdout_rows = time_split(rows, holdout_fraction)
    options = dict(algorithm=algorithm, seed=seed, min_class_examples=min_class_examples,
                   auto_min_support=auto_min_support, n_jobs=n_jobs)
    all_rows = training_rows + holdout_rows
    frame = _FRAMES[algorithm](all_rows)  # features are per row: computed once, sliced below
    training_frame = frame.iloc[: len(training_rows)].reset_index(drop=True)
    held_out_model = _train(training_rows, training_frame, **options)
    metrics = evaluate(held_out_model, holdout_rows, threshold=threshold)
    metrics["training_rows"] = len(training_rows)
    metrics["holdout_from"] = holdout_rows[0].date.isoformat()
    metrics["holdout_to"] = holdout_rows[-1].date.isoformat()
    metrics["cv"] = None
    if cv_folds:
        try:
            metrics["cv"] = _cross_validate(training_rows, training_frame, folds=cv_folds, **options)
        except InsufficientData as error:  # a fold too small to train on: report it, still train the model
            metrics["cv_skipped"] = str(error)
    model = _train(all_rows, frame, **options)
    if return_held_out_model:
        return model, metrics, holdout_rows, held_out_model
    return model, metrics, holdout_rows


# --- artifacts -----------------------------------------------------------------------------------


def save(model: TrainedModel, path: pathlib.Path) -> str:
    """Write the model with joblib (zlib-compressed); return the sha256 hex digest of the file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # never a half-written artifact under the final name
    return hashlib.sha256(data).hexdigest()


def load(path: pathlib.Path, *, sha256: str) -> TrainedModel:
    """Read a model saved by ``save``, after checking the file's sha256; raises ArtifactInvalid otherwise.

    The bytes are hashed and unpickled from one read, so the file cannot change in between.  A model
    pickled by another scikit-learn/numpy/scipy version is refused too (retrain it).
    """
    path = pathlib.Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactInvalid(f"model artifact {path.name} is missing") from None
    except OSError as error:
        raise ArtifactInvalid(f"model artifact {path.name} cannot be read: {error.strerror or error}") from None
    digest = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(digest, (sha256 or "").lower()):
        raise ArtifactInvalid(
            f"model artifact {path.name} has sha256 {digest[:12]}..., expected {(sha256 or '')[:12]}...: "
            "the file was changed or replaced"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # version mismatches are checked below, with a clear message
            model = joblib.load(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - any unpickling failure means the artifact is unusable
        raise ArtifactInvalid(f"model artifact {path.name} cannot be loaded: {type(error).__name__}: {error}") from None
    if not isinstance(model, TrainedModel) or getattr(model, "artifact_format", None) != ARTIFACT_FORMAT:
        raise ArtifactInvalid(f"model artifact {path.name} is not a TrainedModel of format {ARTIFACT_FORMAT}")
    if model.library_versions != _library_versions():
        raise ArtifactInvalid(
            f"model artifact {path.name} was built with {model.library_versions}, this process runs "
            f"{_library_versions()}: retrain the model"
        )
    return model
