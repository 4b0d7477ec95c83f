"""What a rule would do to history: "would match N past transactions; M of them are categorized differently".

Used by "test a rule before saving" (UI and API) and by promotion, which stores the result with the proposal.
One pass over the company's most recent transactions (at most RULE_TEST_MAX_TRANSACTIONS), normalizing each
batch once and running every rule being tested on it.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings

from rules.codec import spec_of
from rules.engine import RuleSpec, TxnInput, compile_rules, prepare_texts
from rules.services.lifecycle import rule_validate
from transactions.models import Company, Transaction

EXAMPLES_PER_KIND = 5
BATCH = 5000


@dataclass
class BacktestResult:
    would_match: int = 0
    conflicts: int = 0  # matched, but categorized to another account now
    uncategorized: int = 0  # matched and not categorized yet: the rule would categorize them
    scanned: int = 0
    truncated: bool = False  # history was longer than the scan limit; the most recent part was scanned
    conflict_examples: list[dict[str, Any]] = field(default_factory=list)
    match_examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "would_match": self.would_match, "conflicts": self.conflicts, "uncategorized": self.uncategorized,
            "scanned": self.scanned, "truncated": self.truncated,
            "conflict_examples": self.conflict_examples, "match_examples": self.match_examples,
        }


HISTORY_FIELDS = ("id", "date", "description", "counterparty", "amount", "bank_account__code", "account__code")


def history_batches(*, company: Company, limit: int) -> Iterator[list[tuple[Any, ...]]]:
    """The company's transactions, newest first, as value tuples in batches (bounded memory)."""
    rows = (
        Transaction.objects.filter(company=company).order_by("-date", "-id").values_list(*HISTORY_FIELDS)[:limit]
        .iterator(chunk_size=BATCH)
    )
    while batch := list(islice(rows, BATCH)):
        yield batch


def rules_backtest(*, company: Company, specs: Sequence[RuleSpec]) -> dict[int, BacktestResult]:
    """Each spec run alone over history (keyed by rule_id): what it would match if it were the only rule."""
    limit = settings.RULE_TEST_MAX_TRANSACTIONS
    compiled = {spec.rule_id: compile_rules([spec]) for spec in specs}
    results = {spec.rule_id: BacktestResult() for spec in specs}
    account_of = {spec.rule_id: spec.account_code for spec in specs}
    scanned = 0
    for batch in history_batches(company=company, limit=limit + 1):
        if scanned + len(batch) > limit:
            batch = batch[: limit - scanned]
            for result in results.values():
                result.truncated = True
        scanned += len(batch)
        txns = [TxnInput(row[2], row[3], row[4], row[5]) for row in batch]
        texts = prepare_texts(txns)
        for rule_id, rules in compiled.items():
            _tally(results[rule_id], account_of[rule_id], batch, rules.match(txns, texts))
    for result in results.values():
        result.scanned = scanned
    return results


def _tally(result: BacktestResult, account_code: str, batch: list[tuple[Any, ...]], matches: list[Any]) -> None:
    for row, match in zip(batch, matches):
        if match is None:
            continue
        result.would_match += 1
        current = row[6]
        example = {"id": row[0], "date": row[1].isoformat(), "description": row[2], "amount": str(row[4]),
                   "current_account": current or ""}
        if current is not None and current != account_code:
            result.conflicts += 1
            if len(result.conflict_examples) < EXAMPLES_PER_KIND:
                result.conflict_examples.append(example)
            continue
        if current is None:
            result.uncategorized += 1
        if len(result.match_examples) < EXAMPLES_PER_KIND:
            result.match_examples.append(example)


def rule_test(*, company: Company, raw: Mapping[str, Any]) -> BacktestResult:
    """Validate a rule (not saved) and backtest it; raises RuleInvalid like saving would."""
    data = rule_validate(company=company, raw={"name": "(test)", **raw})
    return rules_backtest(company=company, specs=[spec_of(rule_id=0, version=1, data=data)])[0]
