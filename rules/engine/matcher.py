"""The compiled matcher: finds the first matching rule for a batch of transactions without scanning every rule.

How a transaction is matched:

1. Its texts are normalized (``rules.engine.text``), each distinct raw string once per batch.
2. Text conditions depend only on the pair (description text, counterparty text), and normalized
   pairs repeat far more than raw lines do (store and reference numbers are gone).  So the text
   part of matching is done once per distinct pair and kept as a *plan*: the rules, in match
   order, whose text conditions already hold, each with the amount/direction/bank-account test
   still left to run (or none).  Plans are cached across batches (bounded).
3. Building a plan does not scan the rules either.  Every rule is filed under one *anchor*, a
   text condition that must hold for the rule to match (for an "any" rule, under each of its text
   conditions), and the pair only collects the rules whose anchors it can satisfy:
   * ``equals``: a dictionary keyed on the normalized literal - one lookup per text;
   * ``contains`` / ``starts_with``: a word index keyed on the literal's longest word.  If the
     literal occurs in the text, that word lies inside one word of the text, so looking up every
     substring of each text word (memoized per word) finds every rule that can match;
   * ``regex``: all regexes of a field are joined into one alternation used as a prefilter; only
     when it matches are the individual patterns run;
   * rules without any text anchor (only amount/direction/bank-account conditions, or an "any"
     rule with such a condition) are candidates everywhere - there are few.
   The candidates are then checked fully, in match order, and the plan stops at the first rule
   that needs nothing more than its text: no later rule could ever be reached.
4. Per transaction, the plan is walked and the first rule whose remaining test passes decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from transactions.normalization import normalize_description, normalize_with_vendor_key

from .conditions import (
    COUNTERPARTY,
    DESCRIPTION,
    TextCheck,
    ValueTest,
    all_of,
    any_of,
    compile_text_condition,
    compile_value_condition,
)
from .ordering import rule_sort_key
from .regex_guard import REGEX_TEXT_LIMIT, combine_patterns
from .spec import TEXT_FIELDS, InvalidRulesError, RuleError, RuleMatch, RuleSpec, TxnInput
from .text import RuleTexts
from .validation import validate_rule

__all__ = ["CompiledRules", "compile_rules"]

# A plan entry: the rule's result, and the amount/direction/bank test left to pass (None: nothing left).
PlanEntry = tuple[RuleMatch, ValueTest | None]
Plan = tuple[PlanEntry, ...]

# Memo sizes.  Both memos are pure functions of immutable inputs, so clearing them when full is
# always safe; the bounds only keep memory flat on endless streams of distinct text.
_MAX_PLANS = 200_000
_MAX_WORDS = 200_000


@dataclass(frozen=True, slots=True)
class _Rule:
    """A compiled rule: its text checks and its remaining non-text test."""

    order: int  # position in match order
    result: RuleMatch
    combine_all: bool
    text_checks: tuple[TextCheck, ...]
    value_test: ValueTest | None  # the non-text conditions, combined as the rule combines; None if there are none

    def plan_entry(self, texts: tuple[str, str]) -> PlanEntry | None:
        """What this rule needs beyond these texts: None if the texts already rule it out."""
        if self.combine_all:
            for check in self.text_checks:
                if not check.test(texts[check.field]):
                    return None
            return (self.result, self.value_test)
        for check in self.text_checks:
            if check.test(texts[check.field]):
                return (self.result, None)  # one true condition is enough for an "any" rule
        if self.value_test is None:
            return None
        return (self.result, self.value_test)


@dataclass(slots=True)
class _FieldIndex:
    """The anchors filed for one text field (description or counterparty)."""

    equals: dict[str, list[int]] = field(default_factory=dict)
    words: dict[str, list[int]] = field(default_factory=dict)  # longest literal word -> rule orders
    word_lengths: tuple[int, ...] = ()  # distinct lengths of the keys of ``words``, ascending
    regex_orders: list[int] = field(default_factory=list)
    regex_patterns: list[str] = field(default_factory=list)
    regex_prefilter: re.Pattern[str] | None = None  # all patterns in one alternation; None if not combinable
    word_memo: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def add(self, check: TextCheck, order: int) -> None:
        """File a rule under one of its text checks."""
        if check.op == "equals":
            self.equals.setdefault(check.literal, []).append(order)
        elif check.op == "regex":
            self.regex_orders.append(order)
            self.regex_patterns.append(check.literal)
        else:
            self.words.setdefault(_anchor_word(check.literal), []).append(order)

    def finish(self) -> None:
        """Build the derived structures once every rule is filed."""
        self.word_lengths = tuple(sorted({len(word) for word in self.words}))
        self.regex_prefilter = combine_patterns(self.regex_patterns)

    def candidates(self, text: str, into: set[int]) -> None:
        """Add the orders of the rules filed here that ``text`` may satisfy."""
        hit = self.equals.get(text)
        if hit:
            into.update(hit)
        if self.word_lengths:
            for word in set(text.split()):
                into.update(self._word_candidates(word))
        if self.regex_orders:
            prefilter = self.regex_prefilter
            # No prefilter means the patterns could not be combined: check them all one by one.
            if prefilter is None or prefilter.search(text[:REGEX_TEXT_LIMIT]) is not None:
                into.update(self.regex_orders)

    def _word_candidates(self, word: str) -> tuple[int, ...]:
        """Rules whose anchor word is a substring of ``word`` (memoized: text vocabularies are small)."""
        memo = self.word_memo
        hit = memo.get(word)
        if hit is None:
            found: set[int] = set()
            words = self.words
            size = len(word)
            for length in self.word_lengths:
                if length > size:
                    break
                for start in range(size - length + 1):
                    orders = words.get(word[start : start + length])
                    if orders:
                        found.update(orders)
            hit = tuple(found)
            if len(memo) >= _MAX_WORDS:
                memo.clear()
            memo[word] = hit
        return hit


def _anchor_word(literal: str) -> str:
    """The longest word of a literal: the most selective key that every occurrence must contain."""
    return max(literal.split(), key=len)


class CompiledRules:
    """An immutable, compiled rule set; ``match`` is safe to call from several threads.

    The only mutable state is two memos (plans per text pair, candidates per word) that depend
    on nothing but the immutable rules, so concurrent use at worst computes an entry twice.
    """

    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        """Compile validated specs (use ``compile_rules``, which validates)."""
        ordered = sorted(specs, key=rule_sort_key)
        self._specs = tuple(ordered)
        self._rules = tuple(_compile_rule(spec, order) for order, spec in enumerate(ordered))
        self._indexes = (_FieldIndex(), _FieldIndex())  # by DESCRIPTION, COUNTERPARTY
        always: list[int] = []
        for rule in self._rules:
            anchors = _anchors(rule)
            if anchors is None:
                always.append(rule.order)
            else:
                for check in anchors:
                    self._indexes[check.field].add(check, rule.order)
        for index in self._indexes:
            index.finish()
        self._always = tuple(always)
        # Which texts any rule can look at: the others need not be normalized at all.
        self._uses_description = any(
            check.field == DESCRIPTION for rule in self._rules for check in rule.text_checks
        )
        self._uses_counterparty = any(
            check.field == COUNTERPARTY for rule in self._rules for check in rule.text_checks
        )
        self._plans: dict[tuple[str, str], Plan] = {}

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def specs(self) -> tuple[RuleSpec, ...]:
        """The rules in match order."""
        return self._specs

    def match_one(self, txn: TxnInput) -> RuleMatch | None:
        """The first rule matching ``txn``, or None."""
        return self.match((txn,))[0]

    def match(self, txns: Sequence[TxnInput], texts: Sequence[RuleTexts] | None = None) -> list[RuleMatch | None]:
        """The first matching rule for each transaction (None where no rule matches), in input order.

        ``texts``, if given, must be ``prepare_texts(txns)``: callers that need the normalized text
        for other stages as well normalize once and pass it in.
        """
        if texts is not None:
            if len(texts) != len(txns):
                raise ValueError(f"got {len(texts)} texts for {len(txns)} transactions")
            return self._match_pairs(txns, texts)
        return self._match_pairs(txns, self._texts(txns))

    def _texts(self, txns: Sequence[TxnInput]) -> list[tuple[str, str]]:
        """Normalize each distinct raw string of the batch once, and only the texts some rule reads."""
        uses_description, uses_counterparty = self._uses_description, self._uses_counterparty
        descriptions: dict[str, tuple[str, str]] = {}  # raw -> (normalized text, vendor key), one tokenization
        counterparties: dict[str, str] = {}
        pairs: list[tuple[str, str]] = []
        append = pairs.append
        for txn in txns:
            counterparty = ""
            if uses_counterparty:
                counterparty = counterparties.get(txn.counterparty)  # type: ignore[assignment]
                if counterparty is None:
                    counterparty = counterparties[txn.counterparty] = normalize_description(txn.counterparty)
            description = ""
            if uses_description or not counterparty and uses_counterparty:
                raw_description = txn.description
                texts = descriptions.get(raw_description)
                if texts is None:
                    texts = descriptions[raw_description] = normalize_with_vendor_key(raw_description)
                if uses_description:
                    description = texts[0]
                if uses_counterparty and not counterparty:  # no usable counterparty: the vendor key stands in
                    counterparty = texts[1]
            append((description, counterparty))
        return pairs

    def _match_pairs(
        self, txns: Sequence[TxnInput], pairs: Sequence[tuple[str, str]]
    ) -> list[RuleMatch | None]:
        """Walk each transaction's plan; the hot loop, so it avoids attribute lookups and calls."""
        plans = self._plans
        plan_for = self._plan
        results: list[RuleMatch | None] = []
        append = results.append
        for txn, pair in zip(txns, pairs):
            plan = plans.get(pair)
            if plan is None:
                plan = plan_for(pair[0], pair[1])
            for result, value_test in plan:
                if value_test is None or value_test(txn.amount, txn.bank_account):
                    append(result)
                    break
            else:
                append(None)
        return results

    def _plan(self, description: str, counterparty: str) -> Plan:
        """Build (and memoize) the plan for one text pair: see the module docstring, step 3."""
        texts = (description, counterparty)
        candidates: set[int] = set(self._always)
        self._indexes[DESCRIPTION].candidates(description, candidates)
        self._indexes[COUNTERPARTY].candidates(counterparty, candidates)
        entries: list[PlanEntry] = []
        rules = self._rules
        for order in sorted(candidates):
            entry = rules[order].plan_entry(texts)
            if entry is not None:
                entries.append(entry)
                if entry[1] is None:
                    break  # decided by text alone: later rules are unreachable
        plan = tuple(entries)
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[texts] = plan
        return plan


def compile_rules(specs: Iterable[RuleSpec]) -> CompiledRules:
    """Validate and compile rules; raises ``InvalidRulesError`` listing every problem of every bad spec.

    Pass one version per rule (the active one): a rule_id appearing twice is an error.
    """
    specs = tuple(specs)
    errors: dict[int, list[RuleError]] = {}
    seen: set[int] = set()
    for spec in specs:
        problems = validate_rule(spec)
        if spec.rule_id in seen:
            problems.append(RuleError("rule_id", f"rule {spec.rule_id} appears more than once; compile one version"))
        seen.add(spec.rule_id)
        if problems:
            errors.setdefault(spec.rule_id, []).extend(problems)
    if errors:
        raise InvalidRulesError(errors)
    return CompiledRules(specs)


def _compile_rule(spec: RuleSpec, order: int) -> _Rule:
    """Split a spec into text checks and one combined non-text test."""
    text_checks = tuple(compile_text_condition(c) for c in spec.conditions if c.field in TEXT_FIELDS)
    value_tests = tuple(compile_value_condition(c) for c in spec.conditions if c.field not in TEXT_FIELDS)
    combine_all = spec.combine == "all"
    value_test = None
    if value_tests:
        value_test = all_of(value_tests) if combine_all else any_of(value_tests)
    return _Rule(
        order=order,
        result=RuleMatch(spec.rule_id, spec.version, spec.account_code),
        combine_all=combine_all,
        text_checks=text_checks,
        value_test=value_test,
    )


def _anchors(rule: _Rule) -> tuple[TextCheck, ...] | None:
    """The text checks to file the rule under, or None when the rule must be a candidate everywhere.

    An "all" rule needs one anchor (every condition must hold, so any one will do): the most
    selective one.  An "any" rule can match through each of its conditions, so it is filed under
    all of them - and cannot be filed at all if one of them is not about text.
    """
    if not rule.text_checks:
        return None
    if rule.combine_all:
        return (min(rule.text_checks, key=_selectivity),)
    if rule.value_test is not None:
        return None
    return rule.text_checks


def _selectivity(check: TextCheck) -> tuple[int, int]:
    """Sort key, most selective anchor first: equals, then literals with a long anchor word, then regex."""
    if check.op == "equals":
        return (0, 0)
    if check.op == "regex":
        return (2, 0)
    return (1, -len(_anchor_word(check.literal)))
