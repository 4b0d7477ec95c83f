"""The vendor-rules engine core: plain Python (no Django), the first stage of the decision engine.

Rules decide a bank transaction's account before ML does.  Public interface:

* data: ``Condition``, ``RuleSpec``, ``TxnInput``, ``RuleMatch``, ``RuleError``
* ``validate_rule(spec) -> list[RuleError]``
* ``compile_rules(specs) -> CompiledRules``; ``CompiledRules.match(txns)`` (batch) and ``.match_one(txn)``
* ``prepare_texts(txns)``: the normalized texts rules see (reusable by later stages)
* ``NaiveMatcher``: the slow, obviously-correct reference

Semantics live in the modules' docstrings: ``text`` (what text conditions look at), ``ordering``
(which rule wins), ``regex_guard`` (why regexes cannot hang the matcher), ``matcher`` (how
matching avoids scanning every rule).
"""

from .matcher import CompiledRules, compile_rules
from .ordering import rule_sort_key
from .reference import NaiveMatcher
from .regex_guard import MAX_PATTERN_LENGTH, REGEX_TEXT_LIMIT
from .spec import (
    FIELD_OPS,
    FIELDS,
    Condition,
    InvalidRulesError,
    RuleError,
    RuleMatch,
    RuleSpec,
    TxnInput,
)
from .text import RuleTexts, counterparty_text, description_text, prepare_texts
from .validation import validate_condition, validate_rule

__all__ = [
    "FIELDS",
    "FIELD_OPS",
    "MAX_PATTERN_LENGTH",
    "REGEX_TEXT_LIMIT",
    "CompiledRules",
    "Condition",
    "InvalidRulesError",
    "NaiveMatcher",
    "RuleError",
    "RuleMatch",
    "RuleSpec",
    "RuleTexts",
    "TxnInput",
    "compile_rules",
    "counterparty_text",
    "description_text",
    "prepare_texts",
    "rule_sort_key",
    "validate_condition",
    "validate_rule",
]
