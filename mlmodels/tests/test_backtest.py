"""The backtest: scores computed right on a hand-checked example, and a real run that leaves nothing behind."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from decisions.models import Decision
from mlmodels.backtest import NONE, Outcome, backtest_metrics
from mlmodels.models import ModelVersion
from rules.models import Rule
from transactions.demo_data import generate_transactions, write_csv
from transactions.models import Company, Transaction


def test_scores_on_a_hand_checked_example():
    outcomes = [
        Outcome("6100", "6100", "rule", True),       # auto, right
        Outcome("6100", "6100", "ml", True),         # auto, right
        Outcome("8000", "6100", "ml", True),         # auto, wrong
        Outcome("8000", "8000", "ml_suggestion", False),  # suggestion, right
        Outcome("8000", NONE, "human", False),       # left to people: wrong
    ]

    scores = backtest_metrics(outcomes)

    assert scores["accuracy"] == 0.6  # 3 of 5
    assert scores["automation_rate"] == 0.6  # 3 of 5 auto-approved
    assert scores["auto_precision"] == 0.6667  # 2 of 3
    assert scores["review_rate"] == 0.4
    assert scores["by_method"] == {"ml": 2, "ml_suggestion": 1, "review": 1, "rule": 1}
    assert scores["auto_precision_by_method"] == {"ml": 0.5, "rule": 1.0}
    # 6100: predicted 3 times, right twice -> precision 2/3; recall 2/2. 8000: precision 1/1, recall 1/3.
    assert scores["per_account"]["6100"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert scores["per_account"]["8000"] == {"precision": 1.0, "recall": 0.3333, "f1": 0.5, "support": 3}
    assert scores["macro_f1"] == 0.65


def _labeled_file(tmp_path, name: str, count: int, seed: int):
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        write_csv(generate_transactions(company_slug="hamilton-coffee", count=count, seed=seed), handle, labeled=True)
    return path


def test_a_backtest_on_generated_files_scores_the_engine_and_leaves_nothing_behind(db, tmp_path):
    train = _labeled_file(tmp_path, "train.csv", 1500, seed=1)
    test = _labeled_file(tmp_path, "test.csv", 400, seed=2)
    out = io.StringIO()

    call_command("backtest", "--train", str(train), "--test", str(test), stdout=out)

    result = json.loads(out.getvalue())
    assert (result["train_rows"], result["test_rows"], result["rows"]) == (1500, 400, 400)
    assert 0.5 < result["accuracy"] < 1.0
    assert 0 < result["automation_rate"] < 1
    assert result["auto_precision"] > result["accuracy"]  # what is automated is the part the engine is sure of
    assert sum(result["by_method"].values()) == 400
    assert result["rules"]["approved"] == result["rules"]["proposed"] > 0
    assert not Company.objects.exists() and not Transaction.objects.exists()
    assert not (Decision.objects.exists() or Rule.objects.exists() or ModelVersion.objects.exists())
    assert not any((tmp_path / "models").rglob("*.joblib"))


def test_a_backtest_can_split_one_file_in_time(db, tmp_path):
    whole = _labeled_file(tmp_path, "all.csv", 1200, seed=3)
    dates = sorted(row.date for row in generate_transactions(company_slug="hamilton-coffee", count=1200, seed=3))
    split = dates[900]
    out = io.StringIO()

    call_command("backtest", "--file", str(whole), "--split-date", split.isoformat(), "--auto-threshold", "0.95",
                 stdout=out)

    result = json.loads(out.getvalue())
    assert result["test_rows"] == sum(day >= split for day in dates)
    assert result["train_rows"] + result["test_rows"] == 1200
    assert result["thresholds"]["auto"] == "0.95"


def test_a_labeled_file_without_accounts_is_refused_with_its_lines(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,description,amount,account\n2025-01-02,STAPLES,-10.00,6100\n2025-01-03,OFFICE DEPOT,-5.00,\n")
    with pytest.raises(CommandError, match="bad.csv: line 3, column account"):
        call_command("backtest", "--train", str(bad), "--test", str(bad), stdout=io.StringIO())
