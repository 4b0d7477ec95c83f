"""Read-only automation statistics: how much of the bookkeeping the machines do, and what is left for people.

Selectors for the dashboard page, the `/api/automation/` endpoint and the `automation_report` command; all three
show the same numbers because they all come from `automation_stats`.

Definitions (every count is over the given companies only):

- **Decided**: transactions with a current decision (`Decision.is_current`). A transaction without any decision
  (uncategorized, or imported with its account already given) is not counted.
- **Automated**: a current decision that no person had to make: method `rule` or `ml` with status
  `auto_approved`, or `approved` (a reviewer later looked at it and agreed: the machine still did the work), or
  method `llm` with status `auto_approved` (an LLM answer that was *approved* may have been a suggestion a person
  accepted, so it does not count), or method `transfer` (two of the company's own bank lines paired as a
  transfer, ledger.services.transfers). Suggestions (`ml_suggestion`), review placeholders and people's own
  decisions are never automated. Automation rate = automated / decided.
- **By method** (current decisions): `rule`, `ml`, `ml_suggestion`, `llm`, `transfer`, `review` (a review placeholder: method
  `human` without an account yet - nothing could suggest one) and `human` (a person gave the account: an answered
  placeholder or a correction).
- **Backlog**: current decisions with status `needs_review`; their age runs from the decision's `created_at`.
- **Reviews**: decisions a person approved or corrected (`reviewed_at` set), counted once per action: a correction
  marks the old decision `corrected` *and* creates the new one, so `corrected` rows are left out of the count.
  Throughput = reviews in the window / days in the window.
- **Agreement** between reviewers and the model: among the classifier's answers (`ml`, `ml_suggestion`, current or
  not) that a reviewer acted on, the share approved as they were rather than corrected. All time, not windowed:
  reviews are few, and a window would often leave nothing to measure.
- **Daily series** over the last `days` days (today included, in the site's time zone): transactions first
  decided that day (people's corrections, which re-decide a transaction, are left out), the share of them a
  machine approved without a person at the time (rule or ml; llm when still auto-approved) even if a reviewer
  corrected it later, and the reviews done that day.

A bounded number of queries whatever the data and the number of companies: one grouped aggregate per kind of
number (Count with filter=, grouped by company, and by day with TruncDate), two window-function queries for the
backlog's median age, and the company list itself.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from decisions.models import Decision, DecisionMethod, DecisionStatus
from mlmodels.models import ModelVersion
from mlmodels.selectors import model_drift
from rules.models import Rule, RuleStatus
from transactions.models import Company

__all__ = [
    "AGE_BUCKETS",
    "METHODS",
    "automation_stats",
    "automation_table",
    "automation_warnings",
    "format_methods",
]

# The method keys of `by_method`, in the order tables and charts show them.
METHODS = ("rule", "ml", "ml_suggestion", "llm", "transfer", "review", "human")
# Backlog age buckets: (key, label, lower bound in days, upper bound in days or None).
AGE_BUCKETS = (
    ("under_1_day", "< 1 day", 0, 1),
    ("1_to_3_days", "1–3 days", 1, 3),
    ("3_to_7_days", "3–7 days", 3, 7),
    ("over_7_days", "> 7 days", 7, None),
)
MACHINE_METHODS = (DecisionMethod.RULE, DecisionMethod.ML)
MODEL_METHODS = (DecisionMethod.ML, DecisionMethod.ML_SUGGESTION)

# Automated, as defined in the module docstring.
AUTOMATED = (
    Q(method__in=MACHINE_METHODS, status__in=(DecisionStatus.AUTO_APPROVED, DecisionStatus.APPROVED))
    | Q(method__in=(DecisionMethod.LLM, DecisionMethod.TRANSFER), status=DecisionStatus.AUTO_APPROVED)
)
# Automated at the time of the decision (for the daily series): also when a reviewer corrected it since.
AUTOMATED_WHEN_DECIDED = (
    Q(method__in=MACHINE_METHODS) & ~Q(status=DecisionStatus.REJECTED)
    | Q(method__in=(DecisionMethod.LLM, DecisionMethod.TRANSFER), status=DecisionStatus.AUTO_APPROVED)
)
METHOD_FILTERS = {
    "rule": Q(method=DecisionMethod.RULE),
    "ml": Q(method=DecisionMethod.ML),
    "ml_suggestion": Q(method=DecisionMethod.ML_SUGGESTION),
    "llm": Q(method=DecisionMethod.LLM),
    "transfer": Q(method=DecisionMethod.TRANSFER),
    "review": Q(method=DecisionMethod.HUMAN, account__isnull=True),
    "human": Q(method=DecisionMethod.HUMAN, account__isnull=False),
}
OPEN = Q(status=DecisionStatus.NEEDS_REVIEW)
# A person's correction creates a second decision for the transaction; it names the one it corrects.
CORRECTION = Q(explanation__has_key="corrects")


# ------------------------------------------------------------------------------------------------ selectors


def automation_stats(*, companies: Iterable[Company] | QuerySet[Company], days: int = 30,
                     now: datetime.datetime | None = None) -> dict[str, Any]:
    """Automation per company and overall (see the module docstring for every definition).

    Parameters: `companies` - the companies to measure (already scoped to the user); `days` - the window of the
    daily series and of the reviewer throughput (1..366); `now` - the moment ages are measured from (tests).
    Returns: {"window_days", "date_from", "date_to", "generated_at", "overall": {...}, "companies": [{...}]},
    each block with decided, automated, automation_rate, by_method, backlog, throughput, agreement, daily.
    """
    days = max(1, min(int(days), 366))
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time.min))
    window = Period(days=days, first_day=first_day, since=since, now=now)

    company_list = list(companies)
    ids = [company.pk for company in company_list]
    if ids:
        current = _current_counts(ids, now)
        medians = _median_backlog_created(ids)
        overall_median = _median_backlog_created(ids, overall=True).get(None)
        agreement = _agreement_counts(ids)
        decided_daily = _decided_per_day(ids, since)
        reviews_daily = _reviews_per_day(ids, since)
    else:
        current, medians, overall_median, agreement, decided_daily, reviews_daily = {}, {}, None, {}, {}, {}

    blocks = []
    for company in company_list:
        block = _block(
            current=current.get(company.pk, {}), median_created=medians.get(company.pk),
            agreement=agreement.get(company.pk, {}), decided_daily=decided_daily.get(company.pk, {}),
            reviews_daily=reviews_daily.get(company.pk, {}), window=window,
        )
        blocks.append({"company": company.slug, "name": company.name, **block})
    overall = _block(
        current=_sum_dicts(current.values()), median_created=overall_median,
        agreement=_sum_dicts(agreement.values()), decided_daily=_sum_days(decided_daily.values()),
        reviews_daily=_sum_days(reviews_daily.values()), window=window,
    )
    return {
        "window_days": days, "date_from": first_day.isoformat(), "date_to": today.isoformat(),
        "generated_at": now.isoformat(), "overall": overall, "companies": blocks,
    }


def automation_table(companies: Iterable[Company] | QuerySet[Company]) -> list[dict[str, Any]]:
    """Rows of the automation report (company, transactions decided, auto-approved, rate, methods), TOTAL last."""
    stats = automation_stats(companies=companies, days=1)
    rows = [_table_row(block["name"], block) for block in stats["companies"]]
    rows.append(_table_row("TOTAL", stats["overall"], is_total=True))
    return rows


def format_methods(by_method: Mapping[str, int]) -> str:
    """`RULE=40, ML=50, REVIEW=10`: the methods with a count, in METHODS order; "-" when there are none."""
    parts = [f"{method.upper()}={by_method[method]}" for method in METHODS if by_method.get(method)]
    return ", ".join(parts) or "-"


def automation_warnings(*, companies: Iterable[Company]) -> dict[int, dict[str, Any]]:
    """Per company id: its active, flagged rules (count) and whether the classifier version it uses is drifting.

    One query for the flagged rules, one for the active versions, and `model_drift`'s queries once per version
    in use (a company's own active version, else the global one): bounded by the number of active versions.
    """
    company_list = list(companies)
    ids = [company.pk for company in company_list]
    flagged = dict(
        Rule.objects.filter(company_id__in=ids, flagged_at__isnull=False, status=RuleStatus.ACTIVE)
        .values("company_id").order_by("company_id").annotate(count=Count("id")).values_list("company_id", "count")
    )
    active = {version.company_id: version for version in ModelVersion.objects.filter(
        Q(company_id__in=ids) | Q(company__isnull=True), is_active=True)}
    drift_by_version: dict[int, dict[str, Any]] = {}
    warnings = {}
    for company in company_list:
        version = active.get(company.pk) or active.get(None)
        drift = None
        if version is not None:
            if version.pk not in drift_by_version:
                drift_by_version[version.pk] = model_drift(version=version)
            drift = drift_by_version[version.pk]
        warnings[company.pk] = {
            "flagged_rules": flagged.get(company.pk, 0),
            "model": version,
            "drifting": bool(drift and drift["drifting"]),
            "drift_flags": list(drift["flags"]) if drift else [],
        }
    return warnings


# ------------------------------------------------------------------------------------------------ queries


@dataclass(frozen=True)
class Period:
    """The window of the daily series: `days` days from `first_day` (starting at `since`); ages run to `now`."""

    days: int
    first_day: datetime.date
    since: datetime.datetime
    now: datetime.datetime


def _current_counts(ids: list[int], now: datetime.datetime) -> dict[int, dict[str, Any]]:
    """One grouped aggregate over the current decisions: decided, automated, by method, backlog and its ages."""
    counts: dict[str, Any] = {
        "decided": Count("id"),
        "automated": Count("id", filter=AUTOMATED),
        **{f"method_{method}": Count("id", filter=condition) for method, condition in METHOD_FILTERS.items()},
        "open": Count("id", filter=OPEN),
        "oldest": Min("created_at", filter=OPEN),
    }
    for key, _, low, high in AGE_BUCKETS:
        condition = OPEN & Q(created_at__lte=now - datetime.timedelta(days=low))
        if high is not None:
            condition &= Q(created_at__gt=now - datetime.timedelta(days=high))
        counts[f"age_{key}"] = Count("id", filter=condition)
    rows = (Decision.objects.filter(company_id__in=ids, is_current=True)
            .values("company_id").order_by("company_id").annotate(**counts))
    return {row.pop("company_id"): row for row in rows}


def _median_backlog_created(ids: list[int], *, overall: bool = False) -> dict[int | None, datetime.datetime]:
    """The median `created_at` of the open backlog, per company (or overall, keyed None), in one query.

    Numbered by age within each company, the median is the middle row (odd count) or the middle two (even
    count): rows numbered from (n+1)//2 to (n+2)//2. Filtering on window functions needs Django 4.2+.
    """
    partition = None if overall else [F("company_id")]
    oldest_first = [F("created_at").asc(), F("id").asc()]
    rows = (
        Decision.objects.filter(OPEN, company_id__in=ids, is_current=True)
        .annotate(
            position=Window(RowNumber(), partition_by=partition, order_by=oldest_first),
            size=Window(Count("id"), partition_by=partition),
        )
        .filter(position__gte=(F("size") + 1) / 2, position__lte=(F("size") + 2) / 2)
        .values_list("company_id", "created_at")
    )
    middle: dict[int | None, list[datetime.datetime]] = defaultdict(list)
    for company_id, created_at in rows:
        middle[None if overall else company_id].append(created_at)
    return {key: _midpoint(values) for key, values in middle.items()}


def _midpoint(values: list[datetime.datetime]) -> datetime.datetime:
    values = sorted(values)
    return values[0] + (values[-1] - values[0]) / 2


def _agreement_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """The classifier's answers a reviewer acted on, per company: approved as they were, or corrected."""
    rows = (
        Decision.objects.filter(company_id__in=ids, method__in=MODEL_METHODS, reviewed_at__isnull=False)
        .values("company_id").order_by("company_id")
        .annotate(agreed=Count("id", filter=Q(status=DecisionStatus.APPROVED)),
                  corrected=Count("id", filter=Q(status=DecisionStatus.CORRECTED)))
    )
    return {row.pop("company_id"): row for row in rows}


def _decided_per_day(ids: list[int], since: datetime.datetime) -> dict[int, dict[datetime.date, dict[str, int]]]:
    """Transactions first decided per (company, day) since `since`, and how many of them by a machine alone."""
    rows = (
        Decision.objects.filter(company_id__in=ids, created_at__gte=since).exclude(CORRECTION)
        .annotate(day=TruncDate("created_at")).values("company_id", "day").order_by("company_id", "day")
        .annotate(decided=Count("id"), automated=Count("id", filter=AUTOMATED_WHEN_DECIDED))
    )
    result: dict[int, dict[datetime.date, dict[str, int]]] = defaultdict(dict)
    for row in rows:
        result[row["company_id"]][row["day"]] = {"decided": row["decided"], "automated": row["automated"]}
    return result


def _reviews_per_day(ids: list[int], since: datetime.datetime) -> dict[int, dict[datetime.date, dict[str, int]]]:
    """Reviews per (company, day) since `since`: one per approval or correction (see the module docstring)."""
    rows = (
        Decision.objects.filter(company_id__in=ids, reviewed_at__gte=since)
        .exclude(status=DecisionStatus.CORRECTED)
        .annotate(day=TruncDate("reviewed_at")).values("company_id", "day").order_by("company_id", "day")
        .annotate(reviews=Count("id"))
    )
    result: dict[int, dict[datetime.date, dict[str, int]]] = defaultdict(dict)
    for row in rows:
        result[row["company_id"]][row["day"]] = {"reviews": row["reviews"]}
    return result


# ------------------------------------------------------------------------------------------------ shaping


def _block(*, current: Mapping[str, Any], median_created: datetime.datetime | None, agreement: Mapping[str, int],
           decided_daily: Mapping[datetime.date, Mapping[str, int]],
           reviews_daily: Mapping[datetime.date, Mapping[str, int]], window: Period) -> dict[str, Any]:
    decided, automated = current.get("decided", 0), current.get("automated", 0)
    agreed, corrected = agreement.get("agreed", 0), agreement.get("corrected", 0)
    reviewed = agreed + corrected
    daily = []
    for offset in range(window.days):
        day = window.first_day + datetime.timedelta(days=offset)
        made = decided_daily.get(day, {})
        day_decided, day_automated = made.get("decided", 0), made.get("automated", 0)
        daily.append({"date": day.isoformat(), "decided": day_decided, "automated": day_automated,
                      "automation_rate": _rate(day_automated, day_decided),
                      "reviews": reviews_daily.get(day, {}).get("reviews", 0)})
    reviews = sum(day["reviews"] for day in daily)
    oldest = current.get("oldest")
    return {
        "decided": decided,
        "automated": automated,
        "automation_rate": _rate(automated, decided),
        "by_method": {method: current.get(f"method_{method}", 0) for method in METHODS},
        "backlog": {
            "open": current.get("open", 0),
            "oldest_created_at": oldest.isoformat() if oldest else None,
            "oldest_age_hours": _hours(window.now - oldest) if oldest else None,
            "median_age_hours": _hours(window.now - median_created) if median_created else None,
            "age_buckets": [{"key": key, "label": label, "count": current.get(f"age_{key}", 0)}
                            for key, label, _, _ in AGE_BUCKETS],
        },
        "throughput": {"reviews": reviews, "days": window.days, "per_day": round(reviews / window.days, 2)},
        "agreement": {"reviewed": reviewed, "agreed": agreed, "corrected": corrected,
                      "rate": _rate(agreed, reviewed)},
        "daily": daily,
    }


def _table_row(name: str, block: Mapping[str, Any], *, is_total: bool = False) -> dict[str, Any]:
    return {"company": name, "transactions": block["decided"], "auto_approved": block["automated"],
            "rate": block["automation_rate"], "methods": format_methods(block["by_method"]),
            "by_method": dict(block["by_method"]), "is_total": is_total}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _hours(delta: datetime.timedelta) -> float:
    return round(max(delta.total_seconds(), 0) / 3600, 1)


def _sum_dicts(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts added up over companies; `oldest` is the earliest."""
    total: dict[str, Any] = {}
    for row in rows:
        for key, value in row.items():
            if key == "oldest":
                if value is not None and (total.get(key) is None or value < total[key]):
                    total[key] = value
            else:
                total[key] = total.get(key, 0) + value
    return total


def _sum_days(companies: Iterable[Mapping[datetime.date, Mapping[str, int]]]) -> dict[datetime.date, dict[str, int]]:
    total: dict[datetime.date, dict[str, int]] = defaultdict(dict)
    for days in companies:
        for day, counts in days.items():
            for key, value in counts.items():
                total[day][key] = total[day].get(key, 0) + value
    return total
