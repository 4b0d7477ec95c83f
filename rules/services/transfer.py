"""A company's rules as a YAML file, and back: for backups, for moving rules between companies, and for the
rules report the first prototype wrote (`rules: - name, counterparty, account, confidence, auto_promoted,
promoted_at, support, precision`), which must still import as is.

One rule in the file::

    - name: Coffee under 20
      conditions:                        # or `counterparty: X`, short for one "counterparty equals X"
        - {field: counterparty, op: starts_with, value: HAMILTON}
        - {field: amount, op: between, value: ["0", "20.00"]}
      account: "6100"                    # a code, an account name, or "code name" of the company's chart
      combine: all
      priority: 100
      status: active                     # proposed | active; retired/rejected entries are skipped
      source: imported
      confidence: "0.9800"               # evidence, exact decimals; support a whole number
      auto_promoted: false
      promoted_at: "2025-10-09T02:15:00+00:00"   # auto-promoted rules only: when the rule went into use
                                         # (kept as approved_at of a new active rule; no offset = TIME_ZONE)

Decisions that are easy to get wrong:

* No float ever exists: the loader reads YAML numbers with a fraction (`12.5`, `0.98`) as `Decimal` of their
  own text, so `value: 12.50` is Decimal("12.50") exactly, and decimal strings work as well.
* Only `true`/`false` are booleans (YAML 1.1 also reads yes/no/on/off, which would turn a vendor called
  "NO" into False).
* A file is validated whole before anything is written, then written in one transaction: an invalid file
  imports nothing. Errors are keyed by the path the author wrote (`rules[3].account`, `rules[1].counterparty`).
* Existing rules are matched by name within the company and keep their status and source: approving and
  retiring are an admin's acts with their own audit trail, not a side effect of a file. A name that is
  retired or rejected here is skipped (a retired rule is history; a rejected one was turned down), and so
  are file entries whose status is retired or rejected, so a company's own export re-imports cleanly.
* New rules are recorded as `imported` (that is how they arrived here), or `auto_promoted` when the file
  says so, which keeps the meaning of their evidence.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rules.codec import RuleData
from rules.exceptions import RuleInvalid
from rules.models import Rule, RuleSource, RuleStatus
from rules.services.lifecycle import _require_role, rule_create, rule_update, rule_validate
from transactions.models import Account, Company, Role
from transactions.services.audit import audit_record
from transactions.services.ingest import chart_lookup

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_RULES = 10_000

ALLOWED_KEYS = (
    "name", "counterparty", "conditions", "account", "combine", "priority", "status", "source", "overrides",
    "confidence", "auto_promoted", "promoted_at", "support", "precision",
)
IMPORTABLE_STATUSES = (RuleStatus.PROPOSED, RuleStatus.ACTIVE)
SKIPPED_STATUSES = (RuleStatus.RETIRED, RuleStatus.REJECTED)
EVIDENCE_PLACES = Decimal("0.0001")  # Rule.confidence / Rule.precision have 4 decimal places


# --- Reading YAML -----------------------------------------------------------------------------------------

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _RulesLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """safe_load with exact decimals, YAML 1.2 booleans and duplicate keys refused."""


_RulesLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_RulesLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_decimal(loader: Any, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return loader.construct_yaml_float(node)  # .inf, .nan, 1:30.5 - validation refuses what is not finite


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | Decimal | bool | date) or key is None:
            raise yaml.constructor.ConstructorError(None, None, "keys must be plain text", key_node.start_mark)
        if key in mapping:
            # PyYAML would keep the last one silently; in a rules file that hides half a rule.
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_RulesLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_RulesLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _parse(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_RulesLoader)  # safe: a SafeLoader subclass, no Python objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(part for part in (error.context, error.problem) if part) or "not valid YAML"
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        raise RuleInvalid(
            f"The file is not valid YAML: {where}: {problem}",
            extra={"fields": {"file": [f"{where}: {problem}"]},
                   **({"line": mark.line + 1, "column": mark.column + 1} if mark is not None else {})},
        ) from None
    except yaml.YAMLError as error:
        raise RuleInvalid(f"The file is not valid YAML: {error}", extra={"fields": {"file": [str(error)]}}) from None
    except RecursionError:
        raise RuleInvalid("The file nests too deeply to be a rules file.",
                          extra={"fields": {"file": ["nested too deeply"]}}) from None


def _file_error(path: str, message: str) -> RuleInvalid:
    return RuleInvalid(f"{path}: {message}; nothing was imported.", extra={"fields": {path: [message]}})


def _rule_items(text: str) -> list[Any]:
    """The `rules` list of the file, or RuleInvalid saying exactly what is wrong with the file as a whole."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise _file_error("file", f"the file has {size} bytes; at most {MAX_FILE_BYTES} (5 MB) are accepted")
    document = _parse(text)
    if document is None:
        raise _file_error("file", "the file is empty; expected a mapping with a `rules` list")
    if not isinstance(document, dict):
        raise _file_error("file", f"expected a mapping with a `rules` list at the top, got a {_kind(document)}")
    unknown = sorted(str(key) for key in document if key != "rules")
    if unknown:
        raise _file_error("file", f"unknown top-level keys {', '.join(unknown)}; expected only `rules`")
    if "rules" not in document:
        raise _file_error("rules", "missing; expected a list of rules")
    items = document["rules"]
    if not isinstance(items, list):
        raise _file_error("rules", f"expected a list of rules, got a {_kind(items)}")
    if len(items) > MAX_RULES:
        raise _file_error("rules", f"the file has {len(items)} rules; at most {MAX_RULES} are accepted per file")
    return items


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "text", int: "number", Decimal: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


# --- Export -----------------------------------------------------------------------------------------------

def rules_export_yaml(*, company: Company | None) -> str:
    """The company's rules (the global rules when `company` is None) as YAML that `rules_import_yaml` reads back."""
    rules = Rule.objects.filter(company=company) if company is not None else Rule.objects.filter(company__isnull=True)
    rows = [_rule_as_yaml(rule) for rule in rules.select_related("overrides").order_by("priority", "name", "id")]
    return yaml.safe_dump({"rules": rows}, sort_keys=False, allow_unicode=True, width=4096)


def _rule_as_yaml(rule: Rule) -> dict[str, Any]:
    row: dict[str, Any] = {"name": rule.name}
    # Rebuilt key by key: PostgreSQL's jsonb does not keep the order the keys were written in.
    conditions = [
        {"field": item["field"], "op": item["op"], "value": item.get("value", "")} for item in rule.conditions
    ]
    if len(conditions) == 1 and _is_counterparty_shorthand(conditions[0]):
        row["counterparty"] = conditions[0]["value"]  # the report's shape; imports as the same single condition
    else:
        row["conditions"] = conditions
    row |= {"account": rule.account_code, "combine": rule.combine, "priority": rule.priority,
            "status": rule.status, "source": rule.source}
    if rule.overrides is not None:
        row["overrides"] = rule.overrides.name
    auto_promoted = rule.source == RuleSource.AUTO_PROMOTED
    if rule.confidence is not None:
        row["confidence"] = str(rule.confidence)  # a string, so no YAML reader turns it into a float
    row["auto_promoted"] = auto_promoted
    if auto_promoted and rule.approved_at is not None:
        row["promoted_at"] = rule.approved_at.astimezone(UTC).isoformat()
    if rule.support is not None:
        row["support"] = rule.support
    if rule.precision is not None:
        row["precision"] = str(rule.precision)
    return row


def _is_counterparty_shorthand(condition: Mapping[str, Any]) -> bool:
    return (
        condition["field"] == "counterparty"
        and condition["op"] == "equals" and isinstance(condition["value"], str)
    )


# --- Import: validation -----------------------------------------------------------------------------------

class _Problems:
    """Every problem of the file, by the path its author wrote."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.fields.setdefault(path, [])
        if message not in messages:
            messages.append(message)

    def has(self, path: str) -> bool:
        return path in self.fields

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        count = sum(len(messages) for messages in self.fields.values())
        rules = {match.group(0) for path in self.fields if (match := re.match(r"rules\[\d+\]", path))}
        first_path, first_messages = next(iter(self.fields.items()))
        where = f" in {len(rules)} rule{'s' if len(rules) != 1 else ''}" if rules else ""
        raise RuleInvalid(
            f"{count} problem{'s' if count != 1 else ''}{where}; nothing was imported "
            f"(first: {first_path}: {first_messages[0]})",
            extra={"fields": self.fields},
        )


class _Planned:
    """One valid file entry and what importing it will do."""

    def __init__(self, *, index: int, data: RuleData, status: str, source: str, overrides: Rule | None,
                 evidence: dict[str, Any], promoted_at: datetime | None) -> None:
        self.index, self.data, self.status, self.source = index, data, status, source
        self.overrides, self.evidence, self.promoted_at = overrides, evidence, promoted_at


class _Chart:
    """Accounts of the company's chart by code, name or "code name"; a name two accounts share is ambiguous."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.lookup = chart_lookup(company_id=company.id)
        accounts = {account.pk: account for account in self.lookup.values()}.values()
        self.by_code = {account.code: account for account in accounts}  # a code is unique: it always wins
        names: dict[str, int] = {}
        for account in accounts:
            names[account.name.casefold()] = names.get(account.name.casefold(), 0) + 1
        self.ambiguous = {name for name, count in names.items() if count > 1}

    def resolve(self, value: str) -> Account | str:
        """The account, or why there is none."""
        account = self.by_code.get(value) or self.lookup.get(value.casefold())
        if account is not None and account.code != value and value.casefold() in self.ambiguous:
            return f"{value!r} names more than one account in {self.company.name}'s chart; give the code"
        if account is None:
            return (f"{value!r} is not an active account in {self.company.name}'s chart "
                    "(give its code, its name, or 'code name')")
        return account


def _account_code(value: Any, chart: _Chart | None) -> tuple[str | None, str | None]:
    """(code, None) or (None, why): YAML reads 6100 as a number, so whole numbers are codes too."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None, "a rule needs the account it assigns: its code, its name, or 'code name'"
    value = value.strip()
    if chart is None:  # global rules: every company resolves the code against its own chart
        return value, None
    account = chart.resolve(value)
    return (account.code, None) if isinstance(account, Account) else (None, account)


def _evidence_ratio(value: Any) -> Decimal | str:
    """A share between 0 and 1 with at most 4 decimals, or why not (numbers accepted: the loader made them exact)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return f"expected a decimal between 0 and 1 such as \"0.98\", got {_kind(value)}"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"expected a decimal between 0 and 1 such as \"0.98\", got {value!r}"
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        return f"expected a decimal between 0 and 1, got {value}"
    if number != number.quantize(EVIDENCE_PLACES):
        return f"at most 4 decimal places, got {value}"
    return number.quantize(EVIDENCE_PLACES)


def _promoted_at(value: Any) -> datetime | str:
    """An aware datetime; times without an offset are read in the installation's time zone."""
    if isinstance(value, datetime):
        moment: datetime | None = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None:
        return f"expected a date and time such as \"2025-10-09T02:15:00\", got {value!r}"
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _check_item(
    *, index: int, item: Any, company: Company | None, chart: _Chart | None, problems: _Problems,
    existing: Mapping[str, Rule],
) -> _Planned | None:
    """Check one file entry; records its problems and returns what to import (None when invalid or skipped)."""
    at = f"rules[{index}]"
    known_problems = len(problems.fields)
    if not isinstance(item, dict):
        problems.add(at, f"expected a mapping with name, account and conditions, got {_kind(item)}")
        return None
    unknown = sorted(str(key) for key in item if key not in ALLOWED_KEYS)
    for key in unknown:
        problems.add(f"{at}.{key}", f"unknown key; allowed keys are {', '.join(ALLOWED_KEYS)}")

    status = item.get("status", None)
    if status is not None and status not in (*IMPORTABLE_STATUSES, *SKIPPED_STATUSES):
        problems.add(f"{at}.status", f"expected proposed or active (retired and rejected entries are skipped), got {status!r}")
    skipped = status in SKIPPED_STATUSES

    conditions = item.get("conditions")
    shorthand_index: int | None = None
    if "counterparty" in item:
        listed = conditions if isinstance(conditions, list) else []
        if conditions is not None and not isinstance(conditions, list):
            problems.add(f"{at}.conditions", f"expected a list of conditions, got {_kind(conditions)}")
        shorthand_index = len(listed)
        conditions = [*listed, {"field": "counterparty", "op": "equals", "value": item["counterparty"]}]
    elif conditions is None:
        problems.add(f"{at}.conditions", "a rule needs `conditions` (a list) or the `counterparty` shorthand")

    code, account_problem = _account_code(item.get("account"), None if skipped else chart)
    if account_problem:
        problems.add(f"{at}.account", account_problem)

    raw = {key: item[key] for key in ("name", "combine", "priority") if key in item}
    raw |= {"conditions": conditions if conditions is not None else [], "account_code": code or "-"}
    data = _validated(raw=raw, company=None if skipped or code is None else company, at=at,
                      shorthand_index=shorthand_index, problems=problems)

    source = _source(item, at=at, problems=problems)
    evidence = _evidence(item, at=at, problems=problems)
    promoted_at = None
    if "promoted_at" in item and item["promoted_at"] is not None:
        parsed = _promoted_at(item["promoted_at"])
        if isinstance(parsed, str):
            problems.add(f"{at}.promoted_at", parsed)
        elif source != RuleSource.AUTO_PROMOTED:
            problems.add(f"{at}.promoted_at", "only auto-promoted rules keep promoted_at (set auto_promoted: true)")
        else:
            promoted_at = parsed

    overrides = None
    if item.get("overrides") is not None:
        overrides = _overridden(item["overrides"], company=company, at=at, problems=problems)
        current = existing.get(data.name) if data is not None else None
        if current is not None and overrides is not None and current.overrides_id != overrides.pk:
            problems.add(f"{at}.overrides", f"{current.name!r} exists here and does not override {overrides.name!r}; "
                                            "what a rule overrides cannot be changed by an import")
    if data is None or skipped or len(problems.fields) > known_problems:
        return None
    return _Planned(index=index, data=data, status=status or "", source=source, overrides=overrides,
                    evidence=evidence, promoted_at=promoted_at)


def _validated(*, raw: dict[str, Any], company: Company | None, at: str, shorthand_index: int | None,
               problems: _Problems) -> RuleData | None:
    """rule_validate (the one home of rule validity), with its paths renamed to the keys the file uses."""
    try:
        return rule_validate(company=company, raw=raw)
    except RuleInvalid as invalid:
        for path, messages in invalid.extra["fields"].items():
            if path == "account_code":
                path = "account"
                if problems.has(f"{at}.account"):
                    continue  # already explained in the file's terms
            elif shorthand_index is not None and re.match(rf"conditions\[{shorthand_index}\](\.|$)", path):
                path = "counterparty"
            elif path == "conditions" and problems.has(f"{at}.conditions"):
                continue
            for message in messages:
                problems.add(f"{at}.{path}", message)
        return None


def _source(item: Mapping[str, Any], *, at: str, problems: _Problems) -> str:
    source = item.get("source")
    if source is not None and source not in RuleSource.values:
        problems.add(f"{at}.source", f"expected one of {', '.join(RuleSource.values)}, got {source!r}")
    auto_promoted = item.get("auto_promoted")
    if auto_promoted is not None and not isinstance(auto_promoted, bool):
        problems.add(f"{at}.auto_promoted", f"expected true or false, got {auto_promoted!r}")
        return RuleSource.IMPORTED
    says_auto = source == RuleSource.AUTO_PROMOTED
    if auto_promoted is not None and source in RuleSource.values and auto_promoted != says_auto:
        problems.add(f"{at}.auto_promoted", f"{str(auto_promoted).lower()} contradicts source {source!r}")
    return RuleSource.AUTO_PROMOTED if auto_promoted or says_auto else RuleSource.IMPORTED


def _evidence(item: Mapping[str, Any], *, at: str, problems: _Problems) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    for key in ("confidence", "precision"):
        if item.get(key) is not None:
            ratio = _evidence_ratio(item[key])
            if isinstance(ratio, str):
                problems.add(f"{at}.{key}", ratio)
            else:
                evidence[key] = ratio
    if item.get("support") is not None:
        support = item["support"]
        if isinstance(support, bool) or not isinstance(support, int) or support < 0:
            problems.add(f"{at}.support", f"expected a whole number of transactions (0 or more), got {support!r}")
        else:
            evidence["support"] = support
    return evidence


def _overridden(name: Any, *, company: Company | None, at: str, problems: _Problems) -> Rule | None:
    if company is None:
        problems.add(f"{at}.overrides", "a global rule cannot override another rule")
        return None
    found = Rule.objects.filter(company__isnull=True, name=name).first() if isinstance(name, str) else None
    if found is None:
        problems.add(f"{at}.overrides", f"no global rule is named {name!r}")
    return found


def _plan(*, items: list[Any], company: Company | None, existing: Mapping[str, Rule]
          ) -> tuple[list[_Planned], list[dict[str, str]]]:
    """Check every entry; raise RuleInvalid with all problems, or return (what to import, what to skip)."""
    chart = _Chart(company) if company is not None else None
    problems = _Problems()
    planned: list[_Planned] = []
    skipped: list[dict[str, str]] = []
    first_index_of_name: dict[str, int] = {}
    first_index_of_override: dict[int, int] = {}
    for index, item in enumerate(items):
        entry = _check_item(index=index, item=item, company=company, chart=chart, problems=problems,
                            existing=existing)
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip():
            first = first_index_of_name.setdefault(name.strip(), index)
            if first != index:
                problems.add(f"rules[{index}].name", f"{name.strip()!r} is also the name of rules[{first}]")
                continue
        if isinstance(item, dict) and item.get("status") in SKIPPED_STATUSES and isinstance(name, str):
            skipped.append({"name": name.strip(), "reason": f"its status in the file is {item['status']}"})
        if entry is None:
            continue
        if entry.overrides is not None:
            first = first_index_of_override.setdefault(entry.overrides.pk, index)
            if first != index:
                problems.add(f"rules[{index}].overrides", f"rules[{first}] already overrides {entry.overrides.name!r}")
        planned.append(entry)
    problems.raise_if_any()
    return planned, skipped


# --- Import: writing --------------------------------------------------------------------------------------

def rules_import_yaml(*, company: Company | None, text: str, user: Any = None, activate: bool | None = None
                      ) -> dict[str, Any]:
    """Import a YAML rules file into `company` (global rules when None): all of it, or nothing.

    Parameters:
        user: who imports (None for a command); needs the reviewer role, and admin rights for active rules.
        activate: True/False forces every new rule active/proposed (the command's `--proposed`); None keeps
            each entry's `status`, and without one, rule_create's default (active for admins and commands).

    Returns {"created", "updated", "unchanged", "skipped": counts, "rules": names imported, in file order,
    "skipped_rules": [{"name", "reason"}]}.

    Raises:
        RuleInvalid: the file is too large, not YAML, or has invalid rules; `extra["fields"]` maps every path
            (`rules[2].conditions[0].value`) to its messages. Nothing was written.
        PermissionDenied: the user may not create or change these rules. Nothing was written.
    """
    _require_role(user, company, Role.REVIEWER, "import")
    items = _rule_items(text)
    existing = {rule.name: rule for rule in Rule.objects.filter(company=company)} if company is not None else {
        rule.name: rule for rule in Rule.objects.filter(company__isnull=True)
    }
    planned, skipped = _plan(items=items, company=company, existing=existing)
    summary: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "rules": []}
    with transaction.atomic():
        for entry in planned:
            current = existing.get(entry.data.name)
            if current is not None and current.status in SKIPPED_STATUSES:
                skipped.append({"name": current.name, "reason": f"a {current.status} rule of that name exists here"})
                continue
            try:
                outcome = _import_one(entry, current=current, company=company, user=user, activate=activate)
            except RuleInvalid as invalid:  # e.g. a rule of that name created meanwhile
                fields = {f"rules[{entry.index}].{path}": messages
                          for path, messages in invalid.extra.get("fields", {}).items()}
                raise RuleInvalid(f"rules[{entry.index}]: {invalid.message} Nothing was imported.",
                                  extra={"fields": fields}) from invalid
            summary[outcome] += 1
            summary["rules"].append(entry.data.name)
        summary["skipped"] = len(skipped)
        summary["skipped_rules"] = skipped
        audit_record(action="rule.import", company=company, actor=user, after=summary)
    return summary


def _import_one(entry: _Planned, *, current: Rule | None, company: Company | None, user: Any,
                activate: bool | None) -> str:
    """Create or update one rule; returns "created", "updated" or "unchanged"."""
    data = entry.data
    if current is None:
        wanted_active = activate if activate is not None else (
            entry.status == RuleStatus.ACTIVE if entry.status else None
        )
        rule = rule_create(company=company, user=user, raw=_rule_raw(data), source=entry.source,
                           overrides=entry.overrides, activate=wanted_active)
        changes = dict(entry.evidence)
        if entry.promoted_at is not None and rule.status == RuleStatus.ACTIVE:
            changes["approved_at"] = entry.promoted_at  # when the rule went into use, as the file records it
        if changes:
            # Evidence does not change what the rule matches: no new version, no new stamp for the rules cache.
            Rule.objects.filter(pk=rule.pk).update(**changes)
        return "created"
    matching_changed = (data.conditions_json(), data.combine, data.account_code, data.priority) != (
        current.conditions, current.combine, current.account_code, current.priority
    )
    evidence_changed = {key: value for key, value in entry.evidence.items() if getattr(current, key) != value}
    if matching_changed:
        rule_update(rule=current, user=user, raw=_rule_raw(data))
    if evidence_changed:
        Rule.objects.filter(pk=current.pk).update(**evidence_changed)
    return "updated" if matching_changed or evidence_changed else "unchanged"


def _rule_raw(data: RuleData) -> dict[str, Any]:
    """Validated data back in the codec's plain shape (decimal strings, no YAML types) for the lifecycle services."""
    return {"name": data.name, "conditions": data.conditions_json(), "combine": data.combine,
            "account_code": data.account_code, "priority": data.priority}
