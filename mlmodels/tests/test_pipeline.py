"""Contract of the Django-free ML core (mlmodels.pipeline / metrics / features).

Small data only: a handmade, trivially separable set of four vendors, and a few thousand demo rows for
the calibration check.  No database.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import FrozenInstanceError
from decimal import Decimal

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from mlmodels import features
from mlmodels.metrics import classification_metrics, expected_calibration_error
from mlmodels.pipeline import (
    DEFAULT_ALGORITHM,
    ArtifactInvalid,
    InsufficientData,
    LabeledTxn,
    Prediction,
    TrainedModel,
    Txn,
    cross_validate,
    evaluate,
    load,
    save,
    time_split,
    train,
    train_and_evaluate,
)
from transactions.demo_data import generate_transactions

START = datetime.date(2025, 1, 6)

# (description template, counterparty, account, typical amount)
VENDORS = (
    ("HAMILTON COFFEE #{n} CINCINNATI OH", "Hamilton Coffee", "6900", "-12.50"),
    ("DUKE ENERGY PAYMENT {n}", "Duke Energy", "6200", "-240.00"),
    ("SQUARE INC DES:SQ{n} ID:T{n}X CCD", "Square", "8000", "1250.00"),
    ("STAPLES {n} BLUE ASH OH", "", "6100", "-45.00"),
)


def tiny_rows(per_vendor: int = 30, vendors=VENDORS, *, company: str = "") -> list[LabeledTxn]:
    """per_vendor rows of each vendor, one vendor per day in turn; reference numbers vary."""
    rows = []
    for i in range(per_vendor):
        for j, (template, counterparty, account, amount) in enumerate(vendors):
            rows.append(LabeledTxn(
                template.format(n=100_000 + 7919 * i + j),
                counterparty if i % 2 else "",
                Decimal(amount) * (1 + Decimal(i % 5) / 10),
                START + datetime.timedelta(days=len(vendors) * i + j),
                "1000",
                account,
                company=company,
            ))
    return rows


def unlabeled(rows) -> list[Txn]:
    return [Txn(r.description, r.counterparty, r.amount, r.date, r.bank_account, company=r.company) for r in rows]


def demo_rows(count: int, company: str = "cincy-web-builders", seed: int = 3) -> list[LabeledTxn]:
    return [
        LabeledTxn(r.description, r.counterparty, r.amount, r.date, "1000", r.account_code)
        for r in generate_transactions(company_slug=company, count=count, seed=seed)
    ]


@pytest.fixture(scope="module")
def tiny_model() -> TrainedModel:
    return train(tiny_rows())


# --- inputs, outputs -----------------------------------------------------------------------------


def test_values_are_frozen_and_labeled_txn_is_a_txn():
    row = tiny_rows(1)[0]
    assert isinstance(row, Txn)
    assert row.company == ""
    with pytest.raises(FrozenInstanceError):
        row.account_code = "1000"  # type: ignore[misc]


def test_predict_contract(tiny_model):
    rows = tiny_rows(3)
    predictions = tiny_model.predict(unlabeled(rows))
    assert len(predictions) == len(rows)
    assert all(isinstance(p, Prediction) for p in predictions)
    assert tiny_model.classes == ["6100", "6200", "6900", "8000"]
    # The data is trivially separable: every prediction is right, in input order.
    assert [p.account_code for p in predictions] == [r.account_code for r in rows]

    classes, proba = tiny_model.predict_proba_matrix(unlabeled(rows))
    assert classes == tiny_model.classes
    assert proba.shape == (len(rows), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    for prediction, row_proba in zip(predictions, proba):
        order = np.argsort(-row_proba, kind="stable")
        assert prediction.account_code == classes[order[0]]
        assert prediction.probability == pytest.approx(row_proba[order[0]])
        assert isinstance(prediction.probability, float)
        assert len(prediction.alternatives) <= 2
        expected = [(classes[i], row_proba[i]) for i in order[1:3] if row_proba[i] > 0]
        assert [code for code, _ in prediction.alternatives] == [code for code, _ in expected]
        probabilities = [prediction.probability] + [p for _, p in prediction.alternatives]
        assert probabilities == sorted(probabilities, reverse=True)
        assert prediction.account_code not in dict(prediction.alternatives)
        assert prediction.auto_approvable  # 30 examples per class >= auto_min_support 20


def test_explanations(tiny_model):
    txn = unlabeled(tiny_rows(1))[0]  # HAMILTON COFFEE
    explained, plain = tiny_model.predict([txn])[0], tiny_model.predict([txn], explain=False)[0]
    assert plain.explanation == {}
    assert (plain.account_code, plain.probability) == (explained.account_code, explained.probability)
    explanation = explained.explanation
    assert explanation["vendor"] == "HAMILTON COFFEE"
    tokens = explanation["tokens"]
    assert 1 <= len(tokens) <= 3
    assert all(isinstance(name, str) and isinstance(weight, float) and weight > 0 for name, weight in tokens)
    assert [w for _, w in tokens] == sorted((w for _, w in tokens), reverse=True)
    names = " ".join(name for name, _ in tokens)
    assert "HAMILTON" in names or "COFFEE" in names
    json.dumps(explanation)


def test_empty_batch(tiny_model):
    assert tiny_model.predict([]) == []
    classes, proba = tiny_model.predict_proba_matrix([])
    assert proba.shape == (0, len(classes))


def test_pipeline_is_a_calibrated_sklearn_pipeline(tiny_model):
    assert tiny_model.algorithm == DEFAULT_ALGORITHM
    assert isinstance(tiny_model.pipeline, Pipeline)
    final = tiny_model.pipeline[-1]
    assert isinstance(final, CalibratedClassifierCV)
    assert final.method == "isotonic" and final.ensemble is False
    assert len(final.calibrated_classifiers_) == 1
    assert len(final.calibrated_classifiers_[0].calibrators) == 4  # one calibrator per class (one-vs-rest)
    # The model's probabilities are the plain Pipeline's, on features.frame of the transactions.
    txns = unlabeled(tiny_rows(2))
    np.testing.assert_array_equal(tiny_model.pipeline.predict_proba(features.frame(txns)),
                                  tiny_model.predict_proba_matrix(txns)[1])
    json.dumps(tiny_model.params)
    json.dumps(tiny_model.training_summary)


# --- calibration -----------------------------------------------------------------------------------


def test_calibration_error_on_demo_rows_is_small():
    training, holdout = time_split(demo_rows(4000), 0.25)
    model = train(training)
    metrics = evaluate(model, holdout, threshold=0.85)
    assert metrics["accuracy"] > 0.8
    assert metrics["calibration_error"] < 0.05
    # The bound is a real check: the same model's probabilities, made overconfident (p^0.25,
    # renormalized), or underconfident (p^3), fail it on the same rows.
    classes, proba = model.predict_proba_matrix(holdout)
    truth = np.array([row.account_code for row in holdout], dtype=object)
    for power in (0.25, 3.0):
        distorted = proba**power
        distorted /= distorted.sum(axis=1, keepdims=True)
        correct = np.asarray(classes, dtype=object)[distorted.argmax(axis=1)] == truth
        assert expected_calibration_error(distorted.max(axis=1), correct) > 0.05


# --- determinism, rare and low-support classes ----------------------------------------------------


def test_training_is_deterministic():
    rows = demo_rows(1500)
    txns = unlabeled(rows[-300:])
    first = train(rows, seed=7).predict_proba_matrix(txns)[1]
    second = train(rows, seed=7).predict_proba_matrix(txns)[1]
    assert np.array_equal(first, second)


def test_rare_classes_are_left_out_and_listed():
    rows = tiny_rows() + tiny_rows(3, (("ACME WIDGETS {n}", "", "1500", "-999.00"),))
    model = train(rows, min_class_examples=5)
    assert model.rare_classes == {"1500": 3}
    assert "1500" not in model.classes
    assert model.training_summary["rare_classes"] == {"1500": 3}
    assert model.training_summary["rows"] == len(rows) - 3
    assert model.training_summary["rows_given"] == len(rows)
    assert "1500" not in model.training_summary["classes"]
    # An unknown class counts as wrong in evaluation.
    acme = [row for row in rows if row.account_code == "1500"]
    assert evaluate(model, acme, threshold=0.85)["accuracy"] == 0.0


def test_low_support_classes_are_never_auto_approvable():
    rows = tiny_rows(30) + tiny_rows(8, (("ACME WIDGETS {n}", "Acme", "1500", "-999.00"),))
    model = train(rows, auto_min_support=20)
    assert model.low_support_classes == ["1500"]
    assert model.training_summary["low_support_classes"] == ["1500"]
    acme = [row for row in rows if row.account_code == "1500"]
    predictions = model.predict(unlabeled(acme))
    assert [p.account_code for p in predictions] == ["1500"] * 8
    assert max(p.probability for p in predictions) >= 0.85  # confident, and still not auto-approvable
    assert not any(p.auto_approvable for p in predictions)
    assert all(p.auto_approvable for p in model.predict(unlabeled(tiny_rows(2))))
    metrics = evaluate(model, acme, threshold=0.5)
    assert metrics["accuracy"] == 1.0 and metrics["coverage_at_threshold"] == 0.0


def test_too_few_rows_raise_insufficient_data():
    with pytest.raises(InsufficientData):
        train(tiny_rows(30, VENDORS[:1]))
    with pytest.raises(InsufficientData):
        train(tiny_rows(3))  # every class has fewer than 5 rows


def test_a_one_company_model_ignores_the_company():
    model = train(tiny_rows(company="acme"))
    assert model.params["company_features"] is False
    txns = unlabeled(tiny_rows(2))
    named = [Txn(t.description, t.counterparty, t.amount, t.date, t.bank_account, company="acme") for t in txns]
    assert np.array_equal(model.predict_proba_matrix(txns)[1], model.predict_proba_matrix(named)[1])


def test_company_crosses_let_a_global_model_learn_per_company_accounts():
    target = [("TARGET {n} MASON OH", "", "6100", "-60.00")]
    pooled = tiny_rows(20, target, company="agency") + tiny_rows(20, [(*target[0][:2], "5300", "-60.00")],
                                                                  company="daycare")
    model = train(pooled + tiny_rows(10, company="agency"))
    assert model.params["company_features"] is True
    txn = unlabeled(tiny_rows(1, target))[0]
    at = {company: model.predict([Txn(txn.description, "", txn.amount, txn.date, "1000", company=company)])[0]
          for company in ("agency", "daycare")}
    assert (at["agency"].account_code, at["daycare"].account_code) == ("6100", "5300")


# --- metrics -------------------------------------------------------------------------------------


def test_metrics_on_a_hand_checked_example():
    classes = ["A", "B"]
    proba = np.array([
        [0.95, 0.05],  # A, right, covered at 0.9
        [0.92, 0.08],  # A, wrong (truth B), covered
        [0.35, 0.65],  # B, right, not covered
        [0.38, 0.62],  # B, wrong (truth C, unknown to the model)
    ])
    truth = ["A", "B", "B", "C"]
    metrics = classification_metrics(truth, classes, proba, threshold=0.9)
    assert metrics["rows"] == 4
    assert metrics["accuracy"] == 0.5
    assert metrics["coverage_at_threshold"] == 0.5
    assert metrics["precision_at_threshold"] == 0.5
    # Bins: 0.6-0.7 holds 0.65 (right) and 0.62 (wrong): |0.635 - 0.5| = 0.135, weight 2/4;
    # 0.9-1.0 holds 0.95 (right) and 0.92 (wrong): |0.935 - 0.5| = 0.435, weight 2/4.
    assert metrics["calibration_error"] == pytest.approx(0.5 * 0.135 + 0.5 * 0.435, abs=1e-4)
    assert metrics["confusion"] == {"labels": ["A", "B", "C"], "matrix": [[1, 0, 0], [1, 1, 0], [0, 1, 0]]}
    assert metrics["per_account"]["A"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert metrics["per_account"]["B"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert metrics["per_account"]["C"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3, abs=1e-4)
    by_bin = {entry["bin"]: entry for entry in metrics["reliability"]}
    assert len(by_bin) == 10
    assert by_bin["0.9-1.0"] == {"bin": "0.9-1.0", "count": 2, "mean_confidence": 0.935, "accuracy": 0.5}
    assert by_bin["0.0-0.1"]["count"] == 0 and by_bin["0.0-0.1"]["accuracy"] is None
    curve = {point["threshold"]: point for point in metrics["coverage_curve"]}
    assert [point["threshold"] for point in metrics["coverage_curve"]] == [
        0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99]
    assert curve[0.5] == {"threshold": 0.5, "coverage": 1.0, "precision": 0.5}
    assert curve[0.65] == {"threshold": 0.65, "coverage": 0.75, "precision": 0.6667}
    assert curve[0.95] == {"threshold": 0.95, "coverage": 0.25, "precision": 1.0}
    assert curve[0.99] == {"threshold": 0.99, "coverage": 0.0, "precision": None}
    # Class B may not be auto-approved: only the two A predictions can be covered.
    limited = classification_metrics(truth, classes, proba, threshold=0.5,
                                     auto_approvable_classes=np.array([True, False]))
    assert (limited["coverage_at_threshold"], limited["precision_at_threshold"]) == (0.5, 0.5)
    json.dumps(metrics)


def test_evaluate_uses_the_model_probabilities_and_low_support_classes():
    class FixedModel:  # a TrainedModel stand-in: what evaluate needs
        low_support_classes = ["6100"]

        def predict_proba_matrix(self, txns):
            return ["6100", "6900"], np.array([[0.9, 0.1], [0.2, 0.8], [0.97, 0.03]])

    rows = tiny_rows(1)[:3]  # truths 6900, 6200, 8000
    metrics = evaluate(FixedModel(), rows, threshold=0.75)
    assert metrics["accuracy"] == 0.0
    assert metrics["coverage_at_threshold"] == pytest.approx(1 / 3, abs=1e-4)  # 6100 rows never covered
    assert metrics["precision_at_threshold"] == 0.0


def test_empty_evaluation_is_well_defined(tiny_model):
    metrics = evaluate(tiny_model, [], threshold=0.85)
    assert metrics["rows"] == 0 and metrics["accuracy"] is None and metrics["coverage_at_threshold"] == 0.0
    json.dumps(metrics)


# --- train_and_evaluate, cross-validation ---------------------------------------------------------


def test_train_and_evaluate_holds_out_the_newest_rows_and_refits_on_all():
    rows = tiny_rows(25)
    shuffled = rows[::2] + rows[1::2]  # input order must not matter
    model, metrics, holdout = train_and_evaluate(shuffled, threshold=0.85, holdout_fraction=0.2, cv_folds=3)
    assert len(holdout) == 20
    training_dates = {row.date for row in rows} - {row.date for row in holdout}
    assert min(row.date for row in holdout) > max(training_dates)
    assert sorted(holdout, key=lambda row: row.date) == sorted(rows, key=lambda row: row.date)[-20:]
    assert metrics["rows"] == 20 and metrics["training_rows"] == 80
    assert metrics["accuracy"] == 1.0
    assert metrics["threshold"] == 0.85
    assert len(metrics["cv"]["folds"]) == 3 and 0 <= metrics["cv"]["mean"] <= 1
    assert model.training_summary["rows"] == 100  # refitted on everything
    assert model.training_summary["date_to"] == max(row.date for row in rows).isoformat()
    json.dumps(metrics)


def test_time_split_rejects_bad_fractions():
    with pytest.raises(ValueError):
        time_split(tiny_rows(2), 1.0)


def test_cross_validate_reports_stratified_fold_accuracy():
    result = cross_validate(tiny_rows(10), folds=2, seed=1)
    assert set(result) == {"folds", "mean", "std"}
    assert len(result["folds"]) == 2
    assert result["mean"] == pytest.approx(sum(result["folds"]) / 2, abs=1e-4)


def test_original_design_trains_and_predicts():
    rows = tiny_rows()
    model = train(rows, algorithm="original_design")
    assert model.algorithm == "original_design"
    predictions = model.predict(unlabeled(rows[:8]))
    assert [p.account_code for p in predictions] == [r.account_code for r in rows[:8]]
    assert all(p.explanation["tokens"] for p in predictions)
    _, proba = model.predict_proba_matrix(unlabeled(rows[:8]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    model, metrics, _ = train_and_evaluate(rows, threshold=0.85, algorithm="original_design", cv_folds=2)
    assert metrics["accuracy"] == 1.0


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unknown algorithm"):
        train(tiny_rows(), algorithm="magic")


# --- artifacts -----------------------------------------------------------------------------------


def test_saved_artifact_loads_and_verifies(tiny_model, tmp_path):
    path = tmp_path / "models" / "v1.joblib"
    digest = save(tiny_model, path)
    assert len(digest) == 64 and int(digest, 16) >= 0
    loaded = load(path, sha256=digest)
    txns = unlabeled(tiny_rows(2))
    assert loaded.classes == tiny_model.classes
    assert np.array_equal(loaded.predict_proba_matrix(txns)[1], tiny_model.predict_proba_matrix(txns)[1])
    assert loaded.predict(txns) == tiny_model.predict(txns)
    assert [p.name for p in path.parent.iterdir()] == ["v1.joblib"]  # no temporary file left


def test_tampered_artifact_is_refused(tiny_model, tmp_path):
    path = tmp_path / "model.joblib"
    digest = save(tiny_model, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactInvalid, match="sha256"):
        load(path, sha256=digest)


def test_missing_or_unreadable_artifact_is_refused(tiny_model, tmp_path):
    with pytest.raises(ArtifactInvalid, match="missing"):
        load(tmp_path / "nope.joblib", sha256="0" * 64)
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"not a model")
    import hashlib

    with pytest.raises(ArtifactInvalid, match="cannot be loaded"):
        load(garbage, sha256=hashlib.sha256(b"not a model").hexdigest())
    assert issubclass(ArtifactInvalid, ValueError)


# --- feature transformers ------------------------------------------------------------------------


def test_token_vectorizer_matches_scikit_learn():
    frame = features.frame(unlabeled(demo_rows(600)))
    training, batch = frame.iloc[:500], frame.iloc[500:]

    def words(text):
        return text.split(" ") if text else [features.NO_TOKEN]

    pairs = [
        (features.WORDS_COLUMN, features.TokenVectorizer(" ", sublinear_tf=True),
         TfidfVectorizer(analyzer=words, sublinear_tf=True)),
        (features.COUNTERPARTY_COLUMN, features.TokenVectorizer(" "), TfidfVectorizer(analyzer=words)),
        (features.VENDOR_COLUMN, features.TokenVectorizer(None, binary=True, use_idf=False, norm=None),
         CountVectorizer(analyzer=lambda text: [text or features.NO_TOKEN], binary=True)),
    ]
    for column, ours, reference in pairs:
        ours.fit(training[column])
        reference.fit(training[column])
        assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())
        difference = ours.transform(batch[column]) - reference.transform(batch[column])
        assert abs(difference).max() < 1e-12


def test_context_features_are_named_and_normalized():
    txn = Txn("AMZN MKTP US*2K4LL0", "", Decimal("-250.00"), datetime.date(2025, 3, 14), "1000", company="acme")
    frame = features.frame([txn])
    assert frame.loc[0, features.VENDOR_COLUMN] == "AMAZON"
    vectorizer = features.ContextVectorizer().fit(frame)
    names = set(vectorizer.get_feature_names_out())
    assert {"money out", "vendor AMAZON out", "day 14", "weekday Fri", "bank 1000", "company acme",
            "vendor AMAZON @acme"} <= names
    assert any(name.startswith("amount out 178-316") for name in names)
    row = vectorizer.transform(frame).toarray()[0]
    assert (row > 0).sum() == len(names) == 10
    assert math.isclose(float((row**2).sum()), 1.0)
    # An unseen company and vendor only lose their own features.
    other = features.frame([Txn("NEW VENDOR", "", Decimal("-5"), txn.date, "1000", company="other")])
    assert vectorizer.transform(other).nnz == 4  # money out, day, weekday, bank


def test_amount_buckets():
    assert features.amount_bucket(0) == 0
    assert features.amount_bucket(-0.01) == 0
    assert features.amount_bucket(1.0, 1) == 2  # $1-10 is the third decade from $0.01
    assert features.amount_bucket(-99.99, 1) == 3
    assert features.amount_bucket(1e12, 1) == 8  # clamped
    assert list(features.amount_bucket(np.array([1.0, 10.0]), 1)) == [2, 3]
