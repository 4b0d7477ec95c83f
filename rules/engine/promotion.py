"""Rule promotion's statistics: which vendors are categorized consistently enough to deserve a rule.

Input is confirmed history (a person gave or approved the account). Rows are grouped by the vendor text
rules see for the counterparty (``rules.engine.text``) and the direction of money; per group:

* support   = confirmed transactions of the group,
* precision = share of them in the group's majority account.

A group becomes a candidate when support >= min_support and precision >= min_precision; both
comparisons are exact (Decimal arithmetic, no float rounding at the boundary). Django-free.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["LabeledRow", "PromotionCandidate", "promotion_candidates", "promotion_key"]


@dataclass(frozen=True, slots=True)
class LabeledRow:
    vendor: str  # the normalized counterparty text
    direction: str  # "in" or "out"
    account_code: str


@dataclass(frozen=True, slots=True)
class PromotionCandidate:
    vendor: str
    direction: str
    account_code: str  # the majority account
    support: int
    majority: int  # rows in the majority account
    accounts: tuple[tuple[str, int], ...]  # every account seen, most frequent first

    @property
    def key(self) -> str:
        return promotion_key(self.vendor, self.direction)

    @property
    def precision(self) -> Decimal:
        return (Decimal(self.majority) / Decimal(self.support)).quantize(Decimal("0.0001"))


def promotion_key(vendor: str, direction: str) -> str:
    return f"{direction}:{vendor}"


def promotion_candidates(
    rows: Iterable[LabeledRow], *, min_support: int, min_precision: Decimal
) -> list[PromotionCandidate]:
    """Every group that clears both bars, largest support first (rows without a vendor are skipped)."""
    groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.vendor:
            groups[(row.vendor, row.direction)][row.account_code] += 1
    candidates = []
    for (vendor, direction), counts in groups.items():
        support = sum(counts.values())
        # Most frequent first; ties by code so the outcome never depends on input order.
        accounts = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        majority_code, majority = accounts[0]
        if support >= min_support and majority >= min_precision * support:
            candidates.append(PromotionCandidate(vendor, direction, majority_code, support, majority, accounts))
    candidates.sort(key=lambda candidate: (-candidate.support, candidate.key))
    return candidates
