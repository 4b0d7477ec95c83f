"""The honest number: train on one labeled file, run the whole decision engine on another, score it.

`backtest_run` creates a throwaway company whose chart holds every account the files name, imports the
training rows as confirmed history, promotes rules from it and approves them all (as an admin would), trains
the classifier, classifies the test rows with rules -> ML (no LLM) and compares every decision with the file's
label. Everything happens inside one database transaction that is rolled back, and the model artifact's
folder is deleted: nothing is left behind.
"""
from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from sklearn.metrics import f1_score, precision_recall_fscore_support

from decisions.models import Decision, DecisionStatus
from decisions.services import transactions_classify
from ledger_site.exceptions import DomainError
from mlmodels.inference import forget_loaded_models
from mlmodels.models import ModelVersion
from mlmodels.services import model_train
from rules.models import Rule, RuleStatus
from rules.services.lifecycle import rule_approve
from rules.services.promotion import rules_promote
from transactions.models import Account, AccountType, Company, Transaction, TransactionStatus
from transactions.parsing import FileRejected, ParsedRow, RowError, detect_layout, iter_rows

NONE = "(none)"  # the "account" of a transaction left to people without a suggestion
MAX_REPORTED_ERRORS = 20


class BacktestInputError(DomainError):
    code = "backtest_input"


@dataclass(frozen=True)
class Outcome:
    """One test row: the file's account, what the engine answered, and how."""

    truth: str
    predicted: str  # NONE when the row was left to people without a suggestion
    method: str
    auto_approved: bool


def labeled_rows(path: Path) -> list[ParsedRow]:
    """Every row of a labeled file; any unreadable row or missing account stops the backtest with its line."""
    with path.open("rb") as handle:
        try:
            layout = detect_layout(handle, filename=path.name)
            items = list(iter_rows(handle, layout))
        except FileRejected as error:
            raise BacktestInputError(f"{path.name}: {error.message}") from None
    problems = [f"{path.name}: line {item.line}, column {item.column}: {item.message}"
                for item in items if isinstance(item, RowError)]
    rows = [item for item in items if isinstance(item, ParsedRow)]
    problems += [f"{path.name}: line {row.line}, column account: empty; a labeled file needs an account"
                 for row in rows if not (row.account or "").strip()]
    if problems:
        shown = "\n".join(problems[:MAX_REPORTED_ERRORS])
        more = f"\n… and {len(problems) - MAX_REPORTED_ERRORS} more" if len(problems) > MAX_REPORTED_ERRORS else ""
        raise BacktestInputError(f"{len(problems)} rows cannot be used:\n{shown}{more}")
    if not rows:
        raise BacktestInputError(f"{path.name}: no transactions.")
    return rows


def split_by_date(rows: Sequence[ParsedRow], split: Any) -> tuple[list[ParsedRow], list[ParsedRow]]:
    """Rows before `split` train, rows on or after it test."""
    train = [row for row in rows if row.date < split]
    test = [row for row in rows if row.date >= split]
    if not train or not test:
        raise BacktestInputError(f"Splitting at {split} leaves {len(train)} training and {len(test)} test rows.")
    return train, test


def backtest_run(*, train: Sequence[ParsedRow], test: Sequence[ParsedRow], auto_threshold: Decimal | None = None) -> dict[str, Any]:
    """Train on `train`, decide `test`, and score the decisions (see `backtest_metrics`)."""
    slug = f"backtest-{uuid.uuid4().hex[:12]}"
    try:
        with transaction.atomic():
            outcomes, details = _run(slug=slug, train=train, test=test, auto_threshold=auto_threshold)
            transaction.set_rollback(True)  # the throwaway company and everything in it
    finally:
        shutil.rmtree(settings.LEDGER_MODELS_DIR / slug, ignore_errors=True)
        forget_loaded_models()
    return {**backtest_metrics(outcomes), **details}


def _run(*, slug: str, train: Sequence[ParsedRow], test: Sequence[ParsedRow], auto_threshold: Decimal | None
         ) -> tuple[list[Outcome], dict[str, Any]]:
    company = Company.objects.create(name="Backtest", slug=slug, ml_confidence_threshold=auto_threshold,
                                     ml_review_threshold=min(auto_threshold, Company().review_threshold)
                                     if auto_threshold is not None else None)
    bank = Account.objects.create(company=company, code="BANK", name="Bank (backtest)", type=AccountType.ASSET,
                                  is_bank=True)
    names = sorted({row.account.strip() for row in (*train, *test) if row.account})
    codes = _account_codes(names)
    accounts = {name: Account.objects.create(company=company, code=codes[name], name=name[:200],
                                             type=AccountType.EXPENSE) for name in names}
    _insert(company, bank, train, accounts, confirmed=True)
    promotion = rules_promote(company=company)
    approved = rule_approve(rules=list(Rule.objects.filter(company=company, status=RuleStatus.PROPOSED)), user=None)
    version = model_train(company=company)
    test_rows = _insert(company, bank, test, accounts, confirmed=False)
    transactions_classify(company=company)
    current = {d.transaction_id: d for d in Decision.objects.filter(company=company, is_current=True)
               .select_related("account")}
    truth_by_id = {txn.pk: row.account.strip() for txn, row in zip(test_rows, test)}
    outcomes = []
    for transaction_id, truth in truth_by_id.items():
        decision = current[transaction_id]
        predicted = decision.account.name if decision.account else NONE
        outcomes.append(Outcome(truth, predicted, decision.method, decision.status == DecisionStatus.AUTO_APPROVED))
    version = ModelVersion.objects.get(pk=version.pk)
    details = {
        "train_rows": len(train), "test_rows": len(test),
        "thresholds": {"auto": str(company.confidence_threshold), "review": str(company.review_threshold)},
        "rules": {"proposed": promotion["proposed"], "approved": len(approved)},
        "model": {"algorithm": version.algorithm, "holdout_accuracy": version.metrics.get("accuracy"),
                  "holdout_coverage_curve": version.metrics.get("coverage_curve")},
    }
    return outcomes, details


def _account_codes(names: Iterable[str]) -> dict[str, str]:
    """A code per account the files name: the leading code of "8000 Sales Revenue" or "8000", else A1, A2..."""
    codes: dict[str, str] = {}
    taken: set[str] = {"BANK"}
    for index, name in enumerate(names, start=1):
        first = name.split()[0]
        code = first if first[:1].isdigit() and len(first) <= 20 and first not in taken else f"A{index}"
        taken.add(code)
        codes[name] = code
    return codes


def _insert(company: Company, bank: Account, rows: Sequence[ParsedRow], accounts: dict[str, Account], *,
            confirmed: bool) -> list[Transaction]:
    from django.utils import timezone

    now = timezone.now() if confirmed else None
    return Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account=bank, line=row.line, date=row.date, description=row.description[:500],
            counterparty=row.counterparty[:255], amount=row.amount, fingerprint=uuid.uuid4(),
            account=accounts[row.account.strip()] if confirmed else None,
            status=TransactionStatus.CATEGORIZED if confirmed else TransactionStatus.UNCATEGORIZED,
            confirmed_at=now,
        )
        for row in rows
    )


def backtest_metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Scores of the engine's answers against the labels.

    accuracy: share of rows whose answer (auto-approved account or suggestion) is the label; rows left to people
    without a suggestion count as wrong. automation_rate: share auto-approved; auto_precision: share of those that
    are right; review_rate: share that needs a person.
    """
    total = len(outcomes)
    if not total:
        return {"rows": 0}
    right = sum(o.predicted == o.truth for o in outcomes)
    auto = [o for o in outcomes if o.auto_approved]
    truths = [o.truth for o in outcomes]
    answers = [o.predicted for o in outcomes]
    labels = sorted(set(truths))
    precision, recall, f1, support = precision_recall_fscore_support(
        truths, answers, labels=labels, zero_division=0
    )
    return {
        "rows": total,
        "accuracy": round(right / total, 4),
        "macro_f1": round(float(f1_score(truths, answers, labels=labels, average="macro", zero_division=0)), 4),
        "automation_rate": round(len(auto) / total, 4),
        "auto_precision": round(sum(o.predicted == o.truth for o in auto) / len(auto), 4) if auto else None,
        "review_rate": round((total - len(auto)) / total, 4),
        "by_method": dict(sorted(Counter("review" if o.method == "human" else o.method for o in outcomes).items())),
        "auto_precision_by_method": {
            method: round(sum(o.predicted == o.truth for o in auto if o.method == method) / count, 4)
            for method, count in sorted(Counter(o.method for o in auto).items())
        },
        "per_account": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                    "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
    }
