"""The text a rule sees: the shared normalizer applied to a transaction's description and counterparty.

Text conditions never look at raw bank text.  Both sides are normalized with
``transactions.normalization`` (the same code ML features and rule promotion use), so "SQ *HAMILTON
COFFEE #1123" and "sq *hamilton coffee #77" look alike and a rule written once catches both:

* description text  = ``normalize_description(description)``
* counterparty text = ``normalize_description(counterparty)``, or, when that is empty (no counterparty,
  or one that is only noise such as "#1234"), ``vendor_key(description)``: most banks give no
  counterparty, and the vendor key is the name the description leads with, which is what a
  counterparty would have said.

Normalized text is upper case, letters, digits and single spaces; comparisons are therefore
case-insensitive, and rule values are normalized the same way when rules are compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from transactions.normalization import normalize_description, normalize_with_vendor_key, vendor_key

from .spec import TxnInput

__all__ = ["RuleTexts", "counterparty_text", "description_text", "prepare_texts"]


class RuleTexts(NamedTuple):
    """The normalized texts of one transaction, as text conditions see them."""

    description: str
    counterparty: str


def description_text(description: str) -> str:
    """The text description conditions compare against."""
    return normalize_description(description)


def counterparty_text(counterparty: str, description: str) -> str:
    """The text counterparty conditions compare against: the counterparty, else the description's vendor key."""
    return normalize_description(counterparty) or vendor_key(description)


def prepare_texts(txns: Sequence[TxnInput]) -> list[RuleTexts]:
    """Normalize a batch once, each distinct raw string once (bank files repeat strings a lot).

    The result can be passed to ``CompiledRules.match(txns, texts)`` and reused by later stages
    that need the same normalized text.
    """
    descriptions: dict[str, tuple[str, str]] = {}  # raw -> (normalized text, vendor key), one tokenization
    counterparties: dict[str, str] = {}
    texts: list[RuleTexts] = []
    for txn in txns:
        raw_description = txn.description
        pair = descriptions.get(raw_description)
        if pair is None:
            pair = descriptions[raw_description] = normalize_with_vendor_key(raw_description)
        counterparty = counterparties.get(txn.counterparty)
        if counterparty is None:
            counterparty = counterparties[txn.counterparty] = normalize_description(txn.counterparty)
        texts.append(RuleTexts(pair[0], counterparty or pair[1]))
    return texts
