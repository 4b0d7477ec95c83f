"""The compiled matcher gives the naive reference's answers, in batches and one by one (no database)."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.engine import (
    CompiledRules,
    Condition,
    NaiveMatcher,
    RuleSpec,
    TxnInput,
    compile_rules,
    counterparty_text,
    prepare_texts,
    validate_rule,
)
from transactions.demo_data import COMPANIES, generate_transactions
from transactions.normalization import normalize_description

BANK_ACCOUNTS = ("1000", "1010")


def demo_transactions(per_company: int, seed: int) -> list[TxnInput]:
    """Demo rows of every company, interleaved, on two bank accounts."""
    rng = random.Random(seed)
    streams = [generate_transactions(company_slug=c.slug, count=per_company, seed=seed) for c in COMPANIES]
    return [
        TxnInput(row.description, row.counterparty, row.amount, rng.choice(BANK_ACCOUNTS))
        for row in itertools.chain.from_iterable(zip(*streams))
    ]


def random_rules(transactions: list[TxnInput], count: int, seed: int) -> list[RuleSpec]:
    """Random valid rules built from the transactions' own vendor strings, so that many of them hit."""
    rng = random.Random(seed)
    descriptions = sorted({normalize_description(t.description) for t in transactions} - {""})
    counterparties = sorted({counterparty_text(t.counterparty, t.description) for t in transactions} - {""})
    words = sorted({word for text in descriptions + counterparties for word in text.split()})
    amounts = sorted({abs(t.amount) for t in transactions})

    def text_value(field: str, op: str) -> str:
        text = rng.choice(descriptions if field == "description" else counterparties)
        word = rng.choice(words)
        if op == "equals":
            return rng.choice([text, text.lower(), f"POS DEBIT {text} #123"])  # raw-looking values normalize back
        if op == "starts_with":
            return text[: rng.randint(3, max(3, len(text)))]
        if op == "contains":
            cut = rng.randint(0, max(0, len(text) - 3))
            return rng.choice([word, word[1:] or word, text[cut : cut + rng.randint(3, 12)], f"{word} {rng.choice(words)}"])
        return rng.choice(
            [rf"^{word}\b", rf"\b{word}$", rf"{word}.*{rng.choice(words)}", rf"^[A-Z]+ {word}", rf"{word[:3]}\w*"]
        )

    def text_condition() -> Condition:
        field = rng.choice(["description", "counterparty"])
        op = rng.choice(["equals", "equals", "contains", "starts_with", "regex"])
        return Condition(field, op, text_value(field, op))

    def condition() -> Condition:
        field = rng.choice(["description", "counterparty", "amount", "direction", "bank_account"])
        if field in ("description", "counterparty"):
            op = rng.choice(["equals", "equals", "contains", "starts_with", "regex"])
            return Condition(field, op, text_value(field, op))
        if field == "amount":
            op = rng.choice(["eq", "lt", "gt", "between"])
            if op == "between":
                low, high = sorted(rng.sample(amounts, 2))
                return Condition(field, op, (low, high))
            return Condition(field, op, rng.choice(amounts))
        if field == "direction":
            return Condition(field, rng.choice(["in", "out"]), "")
        return Condition(field, "equals", rng.choice(BANK_ACCOUNTS))

    specs: list[RuleSpec] = []
    rule_ids = rng.sample(range(1, 10 * count), count)
    while len(specs) < count:
        # Vendor rules lead with a text condition; a few rules test only amount/direction/bank account.
        if rng.random() < 0.03:
            start = rng.randrange(len(amounts) - 20)
            low, high = amounts[start], amounts[start + 20]
            conditions = (Condition("direction", rng.choice(["in", "out"]), ""),
                          Condition("bank_account", "equals", "1010"), Condition("amount", "between", (low, high)))
            combine = "all"
        elif rng.random() < 0.2:
            # "any" rules list alternative spellings; rarely, an amount makes one broad.
            extra = Condition("amount", "eq", rng.choice(amounts)) if rng.random() < 0.1 else text_condition()
            conditions = (text_condition(), extra)
            combine = "any"
        else:
            conditions = (text_condition(), *(condition() for _ in range(rng.choice([0, 0, 1, 2]))))
            combine = "all"
        spec = RuleSpec(rule_ids[len(specs)], rng.randint(1, 3), "random", conditions, combine,
                        rng.choice(["5000", "6100", "6900"]), rng.choice([1, 2, 2, 3]))
        # Skip invalid rules (a fragment that normalizes to nothing) and fragments like "A" that hit everything.
        if not validate_rule(spec) and not any(
            c.op in ("contains", "starts_with") and len(normalize_description(str(c.value))) < 3 for c in conditions
        ):
            specs.append(spec)
    return specs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_matcher_agrees_with_the_naive_reference(seed: int) -> None:
    transactions = demo_transactions(per_company=600, seed=seed)  # 3,000 rows
    specs = random_rules(transactions, count=300, seed=seed)
    compiled = compile_rules(specs)

    expected = NaiveMatcher(specs).match(transactions)
    got = compiled.match(transactions)

    assert got == expected
    matched = sum(result is not None for result in got)
    assert 0.2 * len(got) < matched < len(got)  # the comparison covers both outcomes
    assert len({result.rule_id for result in got if result}) > 30  # and many different rules


def test_batches_single_matches_and_prepared_texts_agree() -> None:
    transactions = demo_transactions(per_company=200, seed=11)
    specs = random_rules(transactions, count=200, seed=11)
    compiled = compile_rules(specs)

    whole = compiled.match(transactions)
    single = [compiled.match_one(t) for t in transactions]
    chunked = [r for start in range(0, len(transactions), 97) for r in compiled.match(transactions[start : start + 97])]
    prepared = compiled.match(transactions, prepare_texts(transactions))
    fresh = compile_rules(reversed(specs)).match(transactions)  # input order of specs does not matter

    assert whole == single == chunked == prepared == fresh


def test_texts_must_line_up_with_the_transactions() -> None:
    transactions = demo_transactions(per_company=2, seed=1)
    compiled = compile_rules([RuleSpec(1, 1, "r", (Condition("description", "contains", "a"),), "all", "6100", 1)])

    with pytest.raises(ValueError, match="got 9 texts for 10 transactions"):
        compiled.match(transactions, prepare_texts(transactions)[:9])


def test_no_rules_match_nothing() -> None:
    transactions = demo_transactions(per_company=5, seed=1)

    assert compile_rules([]).match(transactions) == [None] * len(transactions)
    assert compile_rules([]).match([]) == []


def test_rules_without_text_conditions_apply_everywhere() -> None:
    specs = [
        RuleSpec(1, 1, "deposits", (Condition("direction", "in", ""), Condition("bank_account", "equals", "1010")),
                 "all", "8000", 5),
        RuleSpec(2, 1, "kroger", (Condition("description", "equals", "kroger"),), "all", "5000", 9),
    ]
    compiled = compile_rules(specs)

    assert compiled.match_one(TxnInput("KROGER #123 REFUND", "", Decimal(5), "1010")).rule_id == 1
    assert compiled.match_one(TxnInput("KROGER #123", "", Decimal(-5), "1010")).rule_id == 2
    assert compiled.match_one(TxnInput("ALDI", "", Decimal(5), "1000")) is None


def test_a_rule_that_only_needs_text_hides_every_later_rule_for_that_text() -> None:
    specs = [
        RuleSpec(1, 1, "coffee", (Condition("description", "contains", "coffee"),), "all", "6900", 1),
        RuleSpec(2, 1, "late", (Condition("direction", "out", ""),), "all", "6100", 2),
    ]
    compiled: CompiledRules = compile_rules(specs)

    results = compiled.match([TxnInput("SQ *HAMILTON COFFEE #1", "", Decimal(-4), "1000"),
                              TxnInput("ALDI 123", "", Decimal(-4), "1000")])

    assert [r.rule_id for r in results if r] == [1, 2]


# Hypothesis explores the corners the demo data may miss: literals inside words, across word
# boundaries, "any" rules mixing text and amounts, empty counterparties, ties.
_WORDS = ["AB", "ABC", "BC", "CAB", "ABCAB", "CD", "X"]
_text = st.lists(st.sampled_from(_WORDS), min_size=0, max_size=4).map(" ".join)
_amount = st.integers(min_value=-300, max_value=300).map(lambda cents: Decimal(cents).scaleb(-2))
_condition = st.one_of(
    st.builds(Condition, st.sampled_from(["description", "counterparty"]),
              st.sampled_from(["equals", "contains", "starts_with"]), _text.filter(bool)),
    st.builds(Condition, st.sampled_from(["description", "counterparty"]), st.just("regex"),
              st.sampled_from([r"^AB\b", r"C\b", r"B C", r"^X$", r"CAB|CD"])),
    st.builds(Condition, st.just("amount"), st.sampled_from(["eq", "lt", "gt"]), _amount.map(abs)),
    st.builds(Condition, st.just("direction"), st.sampled_from(["in", "out"]), st.just("")),
    st.builds(Condition, st.just("bank_account"), st.just("equals"), st.sampled_from(BANK_ACCOUNTS)),
)
_rules = st.lists(
    st.tuples(st.lists(_condition, min_size=1, max_size=3), st.sampled_from(["all", "any"]), st.integers(1, 3)),
    max_size=12,
).map(lambda rows: [RuleSpec(i + 1, 1, "r", tuple(c), combine, "6100", priority)
                    for i, (c, combine, priority) in enumerate(rows)])
_transactions = st.lists(
    st.builds(TxnInput, _text, st.one_of(st.just(""), _text), _amount, st.sampled_from(BANK_ACCOUNTS)),
    min_size=1, max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(_rules, _transactions)
def test_compiled_matcher_agrees_with_the_reference_on_arbitrary_rules(
    specs: list[RuleSpec], transactions: list[TxnInput]
) -> None:
    assert compile_rules(specs).match(transactions) == NaiveMatcher(specs).match(transactions)
