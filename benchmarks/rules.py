"""Timing script (not a test): throughput of the compiled vendor-rules matcher (``rules.engine``).

Run from the repository root:

    .venv/bin/python -m benchmarks.rules [--rules 1000] [--rows 1000000] [--runs 3] [--batch 5000]

Rules are generated from vendor names seen in a sample of demo transactions (other seed than the
timed stream, as rules are written from past transactions), padded with made-up vendors:
~60% counterparty/description ``equals``, ~30% ``contains``/``starts_with``, ~5% ``regex``, ~5% with
amount/direction/bank-account conditions.  Transactions are streamed from
``transactions.demo_data.generate_transactions``, all demo companies interleaved; only ``match``
is timed (generation and conversion to ``TxnInput`` are not).

Per run: compile once, then ``match`` over all rows in batches.  Each batch is also timed in two
stages (``prepare_texts`` = the shared normalizer; ``match(txns, texts)`` = the engine proper) to
show where the time goes.  A naive reference (every rule for every transaction) is timed on a
10,000-row sample for the ratio.  Figures are CPU time of this process (fair on a shared machine).
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from rules.engine import (
    CompiledRules,
    Condition,
    NaiveMatcher,
    RuleSpec,
    TxnInput,
    compile_rules,
    counterparty_text,
    prepare_texts,
)
from transactions.demo_data import CHART_OF_ACCOUNTS, COMPANIES, generate_transactions
from transactions.normalization import normalize_description, vendor_key

BANK_ACCOUNT = "1000"
STREAM_SEED = 7
AUTHORING_SEED = 3  # rules are written from other (older) transactions than the ones matched
NAIVE_ROWS = 10_000
_ACCOUNT_CODES = tuple(account.code for account in CHART_OF_ACCOUNTS if not account.is_bank)
_PRIORITIES = (10, 50, 50, 100, 100, 100)


# --- data ----------------------------------------------------------------------------------------


def transactions(rows: int, seed: int = STREAM_SEED) -> Iterator[TxnInput]:
    """``rows`` demo transactions, the companies interleaved row by row (a multi-company batch)."""
    share, extra = divmod(rows, len(COMPANIES))
    streams = [
        generate_transactions(company_slug=company.slug, count=share + (index < extra), seed=seed)
        for index, company in enumerate(COMPANIES)
    ]
    for row in itertools.chain.from_iterable(itertools.zip_longest(*streams)):
        if row is not None:
            yield TxnInput(row.description, row.counterparty, row.amount, BANK_ACCOUNT)


def batches(rows: int, size: int) -> Iterator[list[TxnInput]]:
    """The transaction stream cut into batches of ``size``."""
    stream = transactions(rows)
    while batch := list(itertools.islice(stream, size)):
        yield batch


@dataclass(frozen=True)
class Vocabulary:
    """Vendor strings as rule authors would see them, most frequent first."""

    descriptions: list[str]  # normalized descriptions
    counterparties: list[str]  # counterparty texts (counterparty, else the description's vendor key)
    keys: list[str]  # vendor keys


def vocabulary(sample_rows: int = 25_000) -> Vocabulary:
    """Collect vendor strings from a sample of past transactions."""
    descriptions: Counter[str] = Counter()
    counterparties: Counter[str] = Counter()
    keys: Counter[str] = Counter()
    for txn in transactions(sample_rows, seed=AUTHORING_SEED):
        descriptions[normalize_description(txn.description)] += 1
        counterparties[counterparty_text(txn.counterparty, txn.description)] += 1
        keys[vendor_key(txn.description)] += 1
    for counter in (descriptions, counterparties, keys):
        counter.pop("", None)
    return Vocabulary(
        [text for text, _ in descriptions.most_common()],
        [text for text, _ in counterparties.most_common()],
        [text for text, _ in keys.most_common()],
    )


def _made_up_vendor(rng: random.Random) -> str:
    """A vendor name no demo transaction has ("KELORA VASTIN"): padding that must not hit."""
    syllables = ("KA", "LO", "RI", "VES", "TIN", "MOR", "DA", "XEN", "QUI", "BRO", "ZU", "PEL")
    return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(2))


def generate_rules(count: int, seed: int = 1) -> list[RuleSpec]:
    """``count`` rules in the mix described in the module docstring; about half use real vendor names."""
    rng = random.Random(seed)
    vocab = vocabulary()
    real = {
        "description": iter(vocab.descriptions),
        "counterparty": iter(vocab.counterparties),
        "key": itertools.cycle(vocab.keys),
    }
    specs: list[RuleSpec] = []

    def value(kind: str) -> str:
        # Every other rule names a real vendor (while any are left), the rest made-up ones.
        if len(specs) % 2 == 0:
            found = next(real[kind], None)
            if found:
                return found
        return _made_up_vendor(rng)

    def add(name: str, conditions: tuple[Condition, ...], combine: str = "all") -> None:
        rule_id = len(specs) + 1
        specs.append(
            RuleSpec(rule_id, 1, f"{name} {rule_id}", conditions, combine, rng.choice(_ACCOUNT_CODES),
                     rng.choice(_PRIORITIES))
        )

    n_equals, n_literal, n_regex = round(count * 0.60), round(count * 0.30), round(count * 0.05)
    n_other = count - n_equals - n_literal - n_regex
    for index in range(n_equals):
        field = "description" if index % 2 else "counterparty"
        add("equals", (Condition(field, "equals", value(field)),))
    for index in range(n_literal):
        key = value("key")
        if index % 3 == 0:
            add("starts with", (Condition("description", "starts_with", key),))
        elif index % 3 == 1:
            add("contains", (Condition("description", "contains", max(key.split(), key=len)),))
        else:
            add("contains", (Condition("counterparty", "contains", key),))
    for index in range(n_regex):
        words = value("key").split()
        if len(words) > 1:
            pattern = rf"^{words[0]}\b.*\b{words[-1]}"
        else:
            pattern = rf"\b{words[0]}( |$)"
        add("regex", (Condition("description" if index % 2 else "counterparty", "regex", pattern),))
    for index in range(n_other):
        key = value("key")
        if index % 4 == 0:
            conditions = (Condition("counterparty", "equals", key), Condition("direction", "out", ""),
                          Condition("amount", "gt", Decimal(rng.choice(("50", "100", "500")))))
        elif index % 4 == 1:
            conditions = (Condition("description", "contains", key), Condition("direction", "in", ""))
        elif index % 4 == 2:
            conditions = (Condition("counterparty", "equals", key),
                          Condition("amount", "between", (Decimal("10.00"), Decimal("99.99"))),
                          Condition("bank_account", "equals", BANK_ACCOUNT))
        else:
            add("any", (Condition("counterparty", "equals", key), Condition("description", "contains", key)), "any")
            continue
        add("amount", conditions)
    return specs


# --- timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """One run over all rows."""

    compile_seconds: float
    match_seconds: float  # end to end: match(txns)
    prepare_seconds: float  # stage 1 only: prepare_texts(txns)
    engine_seconds: float  # stage 2 only: match(txns, texts)
    rows: int
    matched: int
    deciding_rules: int  # distinct rules that decided at least one row


def run(specs: list[RuleSpec], rows: int, batch_size: int) -> RunResult:
    """Compile, then match every batch end to end, then again in two separately timed stages."""
    clock = time.process_time
    started = clock()
    compiled = compile_rules(specs)
    compile_seconds = clock() - started
    match_seconds = prepare_seconds = engine_seconds = 0.0
    total = matched = 0
    deciding: set[int] = set()
    for batch in batches(rows, batch_size):
        started = clock()
        results = compiled.match(batch)
        match_seconds += clock() - started
        started = clock()
        texts = prepare_texts(batch)
        prepare_seconds += clock() - started
        started = clock()
        staged = compiled.match(batch, texts)
        engine_seconds += clock() - started
        assert staged == results, "match(txns) and match(txns, prepare_texts(txns)) disagree"
        total += len(batch)
        matched += sum(result is not None for result in results)
        deciding.update(result.rule_id for result in results if result is not None)
    return RunResult(compile_seconds, match_seconds, prepare_seconds, engine_seconds, total, matched, len(deciding))


def naive_comparison(specs: list[RuleSpec], batch_size: int) -> tuple[float, float, bool]:
    """(naive rows/s, compiled rows/s from a cold compile, same answers?) on a NAIVE_ROWS sample."""
    sample = list(transactions(NAIVE_ROWS, seed=STREAM_SEED + 1))
    naive = NaiveMatcher(specs)
    started = time.process_time()
    expected = naive.match(sample)
    naive_seconds = time.process_time() - started
    compiled: CompiledRules = compile_rules(specs)
    started = time.process_time()
    got: list = []
    for start in range(0, len(sample), batch_size):
        got.extend(compiled.match(sample[start : start + batch_size]))
    compiled_seconds = time.process_time() - started
    return len(sample) / naive_seconds, len(sample) / compiled_seconds, got == expected


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    options = parser.parse_args()

    specs = generate_rules(options.rules)
    kinds = Counter(_kind(spec) for spec in specs)
    print(f"rules: {len(specs)} ({', '.join(f'{n} {kind}' for kind, n in kinds.most_common())})")
    print(f"rows: {options.rows:,} from {len(COMPANIES)} demo companies, batches of {options.batch:,}")

    results = []
    for number in range(1, options.runs + 1):
        result = run(specs, options.rows, options.batch)
        results.append(result)
        print(
            f"run {number}: match {result.rows / result.match_seconds:,.0f} rows/s, "
            f"compile {result.compile_seconds * 1000:.0f} ms, matched {result.matched / result.rows:.1%} "
            f"by {result.deciding_rules} distinct rules"
        )

    def row(label: str, values: list[float], fmt: str) -> str:
        return f"| {label} | {fmt.format(statistics.median(values))} | {fmt.format(min(values))} | {fmt.format(max(values))} |"

    rates = [r.rows / r.match_seconds for r in results]
    print()
    print(f"| measure ({options.runs} runs) | median | min | max |")
    print("|---|---|---|---|")
    print(row("match(txns) rows/s, end to end", rates, "{:,.0f}"))
    print(row("  stage 1: prepare_texts rows/s (shared normalizer)", [r.rows / r.prepare_seconds for r in results], "{:,.0f}"))
    print(row("  stage 2: match(txns, texts) rows/s (engine)", [r.rows / r.engine_seconds for r in results], "{:,.0f}"))
    print(row("compile ms", [r.compile_seconds * 1000 for r in results], "{:,.0f}"))
    print(row("match rate", [r.matched / r.rows for r in results], "{:.1%}"))

    naive_rate, cold_rate, agree = naive_comparison(specs, options.batch)
    print()
    print(f"naive reference on {NAIVE_ROWS:,} rows: {naive_rate:,.0f} rows/s; compiled (cold) on the same rows: "
          f"{cold_rate:,.0f} rows/s ({cold_rate / naive_rate:.0f}x); same answers: {'yes' if agree else 'NO'}")
    print(f"median end-to-end vs naive: {statistics.median(rates) / naive_rate:.0f}x")


def _kind(spec: RuleSpec) -> str:
    """The benchmark category of a rule, for the summary line."""
    fields = {condition.field for condition in spec.conditions}
    if fields - {"description", "counterparty"} or spec.combine == "any":
        return "amount/direction/any"
    return {"equals": "equals", "regex": "regex"}.get(spec.conditions[0].op, "contains/starts_with")


if __name__ == "__main__":
    main()
