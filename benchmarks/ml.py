"""Timing script (not a test): training and batch inference of the ML classifier (``mlmodels.pipeline``).

Run from the repository root:

    .venv/bin/python -m benchmarks.ml [--train-rows 100000] [--predict-rows 1000000] [--runs 3] [--batch 50000]

Data: ``transactions.demo_data.generate_transactions``.  Training rows are the five demo companies
pooled (``--train-rows`` / 5 rows each, seed 1, ``company`` set to the company's slug): the global
model's case, and the harder one (41 accounts, vendors booked differently per company).  Prediction
rows are another stream (seed 7, the companies interleaved row by row), generated batch by batch and
converted to ``Txn`` outside the timed sections.  Bank account "1000" throughout.

Per algorithm (DEFAULT_ALGORITHM and ``original_design``) and run:

* ``train_and_evaluate`` on the training rows (newest 20% held out, 5-fold CV on the rest, refit on all):
  wall-clock and CPU seconds (the default algorithm's SGD uses both cores through threads);
* plain ``train`` on the same rows: wall-clock and CPU seconds;
* ``predict`` by the trained model over ``--predict-rows`` rows in batches of ``--batch``, each batch
  with and without explanations: rows per CPU second of this process (prediction runs on one core),
  one algorithm at a time after a ``gc.collect()`` (the collections ``predict``'s own objects cause
  later are included: CPython's collector is only paused inside ``predict``);
* held-out quality from ``train_and_evaluate``'s metrics (identical in every run: same rows, same seed).

The table gives median / min / max over runs, then the held-out coverage/precision curve.  The
machine is shared: CPU time is the fair measure for prediction; training is reported both ways.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from mlmodels.pipeline import DEFAULT_ALGORITHM, LabeledTxn, Txn, train, train_and_evaluate
from transactions.demo_data import COMPANIES, generate_transactions

BANK_ACCOUNT = "1000"
TRAIN_SEED = 1
PREDICT_SEED = 7
THRESHOLD = 0.85
ALGORITHMS = (DEFAULT_ALGORITHM, "original_design")


# --- data ----------------------------------------------------------------------------------------


def training_rows(rows: int) -> list[LabeledTxn]:
    """``rows`` labeled rows, an equal share from every demo company, tagged with the company's slug."""
    share, extra = divmod(rows, len(COMPANIES))
    return [
        LabeledTxn(row.description, row.counterparty, row.amount, row.date, BANK_ACCOUNT, row.account_code,
                   company=company.slug)
        for index, company in enumerate(COMPANIES)
        for row in generate_transactions(company_slug=company.slug, count=share + (index < extra), seed=TRAIN_SEED)
    ]


def prediction_batches(rows: int, size: int) -> Iterator[list[Txn]]:
    """``rows`` unlabeled transactions of all companies interleaved, in batches of ``size``."""
    share, extra = divmod(rows, len(COMPANIES))
    streams = [
        ((company.slug, row) for row in
         generate_transactions(company_slug=company.slug, count=share + (index < extra), seed=PREDICT_SEED))
        for index, company in enumerate(COMPANIES)
    ]
    stream = (
        Txn(row.description, row.counterparty, row.amount, row.date, BANK_ACCOUNT, company=slug)
        for slug, row in (item for item in itertools.chain.from_iterable(itertools.zip_longest(*streams)) if item)
    )
    while batch := list(itertools.islice(stream, size)):
        yield batch


# --- timing --------------------------------------------------------------------------------------


@dataclass
class Timings:
    """One algorithm's measurements over all runs."""

    evaluate_wall: list[float] = field(default_factory=list)
    evaluate_cpu: list[float] = field(default_factory=list)
    train_wall: list[float] = field(default_factory=list)
    train_cpu: list[float] = field(default_factory=list)
    predict_rate: list[float] = field(default_factory=list)  # rows per CPU second, with explanations
    predict_plain_rate: list[float] = field(default_factory=list)  # rows per CPU second, explain=False
    metrics: dict = field(default_factory=dict)


def timed(function, *args, **kwargs):
    """(result, wall seconds, CPU seconds of the process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(rows: list[LabeledTxn], options: argparse.Namespace, results: dict[str, Timings], number: int) -> None:
    """Per algorithm: train_and_evaluate, train, then predict the whole stream with the trained model."""
    for algorithm in options.algorithms:
        timings = results[algorithm]
        (_, metrics, _), wall, cpu = timed(train_and_evaluate, rows, threshold=THRESHOLD, algorithm=algorithm)
        timings.evaluate_wall.append(wall)
        timings.evaluate_cpu.append(cpu)
        timings.metrics = metrics
        model, wall, cpu = timed(train, rows, algorithm=algorithm)
        timings.train_wall.append(wall)
        timings.train_cpu.append(cpu)

        gc.collect()  # start the timed predictions from a clean heap (the other models are gone)
        cpu_seconds = {True: 0.0, False: 0.0}
        total = 0
        for batch in prediction_batches(options.predict_rows, options.batch):
            total += len(batch)
            for explain in (True, False):
                started = time.process_time()
                predictions = model.predict(batch, explain=explain)
                cpu_seconds[explain] += time.process_time() - started
                assert len(predictions) == len(batch)
                del predictions
        del model
        timings.predict_rate.append(total / cpu_seconds[True])
        timings.predict_plain_rate.append(total / cpu_seconds[False])
        print(
            f"run {number}, {algorithm}: train_and_evaluate {timings.evaluate_wall[-1]:.1f} s "
            f"({timings.evaluate_cpu[-1]:.1f} s CPU), train {timings.train_wall[-1]:.1f} s "
            f"({timings.train_cpu[-1]:.1f} s CPU), predict {timings.predict_rate[-1]:,.0f} rows/s "
            f"({timings.predict_plain_rate[-1]:,.0f} without explanations)",
            flush=True,
        )


def main() -> None:
    """Parse options, run, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--predict-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS)
    options = parser.parse_args()

    rows = training_rows(options.train_rows)
    print(f"training rows: {len(rows):,} ({len(COMPANIES)} demo companies pooled, company set; "
          f"{rows[0].date}..{max(row.date for row in rows)}), {len({row.account_code for row in rows})} accounts")
    print(f"prediction rows: {options.predict_rows:,} (other seed, companies interleaved), "
          f"batches of {options.batch:,}; threshold {THRESHOLD}")
    results = {algorithm: Timings() for algorithm in options.algorithms}
    for number in range(1, options.runs + 1):
        run(rows, options, results, number)

    def row(label: str, values: list[float], fmt: str) -> str:
        cells = " | ".join(
            f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}-{fmt.format(max(v))})" for v in values
        )
        return f"| {label} | {cells} |"

    names = options.algorithms
    print()
    print(f"| measure: median (min-max) of {options.runs} runs | " + " | ".join(f"`{name}`" for name in names) + " |")
    print("|---|" + "---|" * len(names))
    print(row(f"train_and_evaluate, {len(rows) // 1000}k rows: wall s", [results[n].evaluate_wall for n in names],
              "{:.1f}"))
    print(row("train_and_evaluate: CPU s", [results[n].evaluate_cpu for n in names], "{:.1f}"))
    print(row(f"train, {len(rows) // 1000}k rows: wall s", [results[n].train_wall for n in names], "{:.1f}"))
    print(row("train: CPU s", [results[n].train_cpu for n in names], "{:.1f}"))
    print(row(f"predict {options.predict_rows // 1000}k rows: rows/CPU s, with explanations",
              [results[n].predict_rate for n in names], "{:,.0f}"))
    print(row("predict: rows/CPU s, explain=False", [results[n].predict_plain_rate for n in names], "{:,.0f}"))
    metrics = {name: results[name].metrics for name in names}
    holdout = metrics[names[0]]
    print(f"| held-out ({holdout['rows']:,} newest rows) accuracy | "
          + " | ".join(f"{metrics[n]['accuracy']:.4f}" for n in names) + " |")
    print("| macro-F1 | " + " | ".join(f"{metrics[n]['macro_f1']:.4f}" for n in names) + " |")
    print(f"| coverage at {THRESHOLD} | " + " | ".join(f"{metrics[n]['coverage_at_threshold']:.4f}" for n in names)
          + " |")
    print(f"| precision at {THRESHOLD} | "
          + " | ".join(f"{metrics[n]['precision_at_threshold'] or 0:.4f}" for n in names) + " |")
    print("| calibration error (ECE, 10 bins) | "
          + " | ".join(f"{metrics[n]['calibration_error']:.4f}" for n in names) + " |")
    print("| 5-fold CV accuracy (older 80%) | "
          + " | ".join(f"{metrics[n]['cv']['mean']:.4f} ± {metrics[n]['cv']['std']:.4f}" for n in names) + " |")

    print()
    print("| threshold | " + " | ".join(f"`{name}` coverage / precision" for name in names) + " |")
    print("|---|" + "---|" * len(names))
    curves = [metrics[name]["coverage_curve"] for name in names]
    for points in zip(*curves):
        cells = " | ".join(
            f"{point['coverage']:.4f} / {point['precision']:.4f}" if point["precision"] is not None
            else f"{point['coverage']:.4f} / -" for point in points
        )
        print(f"| {points[0]['threshold']:.2f} | {cells} |")


if __name__ == "__main__":
    main()
