"""YAML import/export of rules: the original report's shape, exact round trips, all-or-nothing imports."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from rules.exceptions import RuleInvalid
from rules.models import Rule, RuleSource, RuleStatus, RuleVersion
from rules.services.lifecycle import rule_create
from rules.services.transfer import MAX_FILE_BYTES, MAX_RULES, rules_export_yaml, rules_import_yaml
from transactions.models import AuditEvent
from transactions.tests.factories import AccountFactory

REPORT = """\
rules:
  - name: "Auto-promoted: Square"
    counterparty: "Square"
    account: "8000 Sales Revenue"
    confidence: 0.98
    auto_promoted: true
    promoted_at: "2025-10-09T02:15:00"
    support: 45
    precision: 0.98
"""

EVERY_KIND = """\
rules:
  - name: Coffee
    conditions:
      - {field: counterparty, op: regex, value: '^hamilton\\b'}
      - {field: amount, op: between, value: ["0", "20.00"]}
      - {field: direction, op: out}
    account: "6100"
    priority: 10
  - name: Paper
    conditions:
      - {field: description, op: starts_with, value: STAPLES}
      - {field: description, op: contains, value: PAPER}
      - {field: bank_account, op: equals, value: "1000"}
    combine: any
    account: Office Supplies
  - name: Square
    counterparty: Square
    account: 8000
    status: proposed
    confidence: "0.9712"
    support: 12
    precision: "0.9500"
    auto_promoted: true
  - name: Big sales
    conditions:
      - {field: amount, op: gt, value: "1000"}
      - {field: direction, op: in, value: ""}
    account: 8000 sales revenue
"""

EVERY_KIND_EXPORTED = """\
rules:
- name: Coffee
  conditions:
  - field: counterparty
    op: regex
    value: ^hamilton\\b
  - field: amount
    op: between
    value:
    - '0'
    - '20.00'
  - field: direction
    op: out
    value: ''
  account: '6100'
  combine: all
  priority: 10
  status: active
  source: imported
  auto_promoted: false
- name: Big sales
  conditions:
  - field: amount
    op: gt
    value: '1000'
  - field: direction
    op: in
    value: ''
  account: '8000'
  combine: all
  priority: 100
  status: active
  source: imported
  auto_promoted: false
- name: Paper
  conditions:
  - field: description
    op: starts_with
    value: STAPLES
  - field: description
    op: contains
    value: PAPER
  - field: bank_account
    op: equals
    value: '1000'
  account: '6100'
  combine: any
  priority: 100
  status: active
  source: imported
  auto_promoted: false
- name: Square
  counterparty: Square
  account: '8000'
  combine: all
  priority: 100
  status: proposed
  source: auto_promoted
  confidence: '0.9712'
  auto_promoted: true
  support: 12
  precision: '0.9500'
"""


@pytest.fixture
def company_b_with_chart(company_b):
    """Company B with the same account codes as company A (and other names: codes are what rules carry)."""
    AccountFactory(company=company_b, code="6100", name="Supplies")
    AccountFactory(company=company_b, code="8000", name="Revenue", type="income")
    return company_b


def fields_of(error: pytest.ExceptionInfo[RuleInvalid]) -> dict[str, list[str]]:
    return error.value.extra["fields"]


# --- the original report ----------------------------------------------------------------------------------

def test_the_original_reports_example_imports_as_is(company_a):
    summary = rules_import_yaml(company=company_a, text=REPORT)

    assert summary == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rules": ["Auto-promoted: Square"],
                       "skipped_rules": []}
    rule = Rule.objects.get(company=company_a)
    assert rule.name == "Auto-promoted: Square"
    assert rule.conditions == [{"field": "counterparty", "op": "equals", "value": "Square"}]
    assert rule.account_code == "8000"
    assert (rule.source, rule.status) == (RuleSource.AUTO_PROMOTED, RuleStatus.ACTIVE)
    assert (rule.confidence, rule.support, rule.precision) == (Decimal("0.9800"), 45, Decimal("0.9800"))
    assert isinstance(rule.confidence, Decimal)
    assert rule.approved_at == datetime.datetime(2025, 10, 9, 2, 15, tzinfo=datetime.UTC)


def test_the_report_exports_back_in_its_own_shape(company_a):
    rules_import_yaml(company=company_a, text=REPORT)

    assert rules_export_yaml(company=company_a) == """\
rules:
- name: 'Auto-promoted: Square'
  counterparty: Square
  account: '8000'
  combine: all
  priority: 100
  status: active
  source: auto_promoted
  confidence: '0.9800'
  auto_promoted: true
  promoted_at: '2025-10-09T02:15:00+00:00'
  support: 45
  precision: '0.9800'
"""


# --- round trips ------------------------------------------------------------------------------------------

def test_export_import_export_into_another_company_gives_identical_yaml(company_a, company_b_with_chart):
    rules_import_yaml(company=company_a, text=EVERY_KIND)
    exported = rules_export_yaml(company=company_a)

    summary = rules_import_yaml(company=company_b_with_chart, text=exported)

    assert exported == EVERY_KIND_EXPORTED
    assert (summary["created"], summary["rules"]) == (4, ["Coffee", "Big sales", "Paper", "Square"])
    assert rules_export_yaml(company=company_b_with_chart) == exported
    square = Rule.objects.get(company=company_b_with_chart, name="Square")
    assert (square.status, square.confidence, square.support) == (RuleStatus.PROPOSED, Decimal("0.9712"), 12)


@pytest.mark.parametrize(
    ("condition", "stored"),
    [
        ("{field: counterparty, op: regex, value: '^duke\\b'}", ("counterparty", "regex", r"^duke\b")),
        ("{field: description, op: starts_with, value: UBER}", ("description", "starts_with", "UBER")),
        ("{field: description, op: contains, value: COFFEE}", ("description", "contains", "COFFEE")),
        ("{field: counterparty, op: equals, value: Staples}", ("counterparty", "equals", "Staples")),
        ("{field: amount, op: between, value: ['10.00', '99.99']}", ("amount", "between", ["10.00", "99.99"])),
        ("{field: amount, op: eq, value: '12.50'}", ("amount", "eq", "12.50")),
        ("{field: amount, op: lt, value: 5}", ("amount", "lt", "5")),
        ("{field: direction, op: out}", ("direction", "out", "")),
        ("{field: direction, op: in, value: in}", ("direction", "in", "in")),
        ("{field: bank_account, op: equals, value: '1000'}", ("bank_account", "equals", "1000")),
    ],
)
def test_every_condition_kind_round_trips(company_a, company_b_with_chart, condition, stored):
    text = (
        "rules:\n  - name: One\n    conditions:\n"
        f"      - {condition}\n      - {{field: description, op: contains, value: X}}\n    account: '6100'\n"
    )
    stored = dict(zip(("field", "op", "value"), stored))
    rules_import_yaml(company=company_a, text=text)
    exported = rules_export_yaml(company=company_a)

    rules_import_yaml(company=company_b_with_chart, text=exported)

    assert Rule.objects.get(company=company_a).conditions[0] == stored
    assert Rule.objects.get(company=company_b_with_chart).conditions[0] == stored
    assert rules_export_yaml(company=company_b_with_chart) == exported


def test_yaml_numbers_for_amounts_are_read_as_exact_decimals_never_floats(company_a):
    text = """\
rules:
  - name: Lunch
    conditions:
      - {field: amount, op: eq, value: 12.5}
      - {field: amount, op: between, value: [10, 20.50]}
      - {field: amount, op: lt, value: 0.1}
    account: 6100
"""
    rules_import_yaml(company=company_a, text=text)

    assert [condition["value"] for condition in Rule.objects.get().conditions] == ["12.5", ["10", "20.50"], "0.1"]


def test_re_importing_the_same_file_changes_nothing(company_a):
    rules_import_yaml(company=company_a, text=EVERY_KIND)
    versions = RuleVersion.objects.count()

    again = rules_import_yaml(company=company_a, text=rules_export_yaml(company=company_a))
    once_more = rules_import_yaml(company=company_a, text=EVERY_KIND)

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert (once_more["created"], once_more["updated"], once_more["unchanged"]) == (0, 0, 4)
    assert RuleVersion.objects.count() == versions == 4
    assert set(Rule.objects.values_list("version", flat=True)) == {1}


def test_a_changed_rule_is_updated_to_a_new_version_and_its_evidence_replaced(company_a):
    rules_import_yaml(company=company_a, text=REPORT)

    changed = REPORT.replace("8000 Sales Revenue", "6100").replace("support: 45", "support: 50")
    summary = rules_import_yaml(company=company_a, text=changed)

    rule = Rule.objects.get()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 0)
    assert (rule.account_code, rule.version, rule.support) == ("6100", 2, 50)
    assert rule.source == RuleSource.AUTO_PROMOTED


def test_a_new_rule_is_recorded_as_imported_whatever_source_the_file_names(company_a):
    text = "rules:\n  - {name: Paper, counterparty: Staples, account: '6100', source: manual}\n"

    rules_import_yaml(company=company_a, text=text)

    assert Rule.objects.get().source == RuleSource.IMPORTED


def test_accounts_resolve_by_code_name_or_code_and_name_ignoring_case(company_a):
    text = """\
rules:
  - {name: A, counterparty: Staples, account: 6100}
  - {name: B, counterparty: Depot, account: office supplies}
  - {name: C, counterparty: Square, account: 8000 SALES REVENUE}
"""
    rules_import_yaml(company=company_a, text=text)

    assert list(Rule.objects.order_by("name").values_list("account_code", flat=True)) == ["6100", "6100", "8000"]


# --- invalid files import nothing -------------------------------------------------------------------------

def test_an_invalid_file_imports_nothing_and_names_every_problem_by_rule_and_field(company_a):
    text = """\
rules:
  - {name: Fine, counterparty: Staples, account: '6100'}
  - {name: Also fine, counterparty: Depot, account: '6100'}
  - name: Slow
    conditions:
      - {field: description, op: regex, value: '(a+)+$'}
    account: '6100'
  - {name: Nowhere, counterparty: Square, account: '9999'}
"""
    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    fields = fields_of(caught)
    assert set(fields) == {"rules[2].conditions[0].value", "rules[3].account"}
    assert "exponential time" in fields["rules[2].conditions[0].value"][0]
    assert fields["rules[3].account"] == [
        "'9999' is not an active account in Alpha Bakery's chart (give its code, its name, or 'code name')"
    ]
    assert caught.value.message.startswith("2 problems in 2 rules; nothing was imported")
    assert not Rule.objects.exists()
    assert not AuditEvent.objects.exists()


def test_problems_are_reported_under_the_keys_the_file_uses(company_a):
    text = """\
rules:
  - {name: Bank, counterparty: Staples, account: '1000'}
  - {name: Empty, counterparty: '1234', account: '6100'}
  - {name: Typo, counterparty: Staples, acount: '6100'}
  - {name: Nothing, account: '6100'}
  - {name: Float, conditions: [{field: amount, op: eq, value: -3}], account: '6100', confidence: 1.5}
"""
    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    fields = fields_of(caught)
    assert sorted(fields) == [
        "rules[0].account", "rules[1].counterparty", "rules[2].account", "rules[2].acount",
        "rules[3].conditions", "rules[4].conditions[0].value", "rules[4].confidence",
    ]
    assert "non-bank account" in fields["rules[0].account"][0]
    assert fields["rules[2].acount"][0].startswith(
        "unknown key; allowed keys are name, counterparty, conditions, account, combine, priority, status, source"
    )
    assert fields["rules[3].conditions"] == ["a rule needs `conditions` (a list) or the `counterparty` shorthand"]
    assert fields["rules[4].confidence"] == ["expected a decimal between 0 and 1, got 1.5"]
    assert not Rule.objects.exists()


def test_duplicate_names_in_a_file_are_refused(company_a):
    text = """\
rules:
  - {name: Paper, counterparty: Staples, account: '6100'}
  - {name: Other, counterparty: Depot, account: '6100'}
  - {name: Paper, counterparty: Office Max, account: '6100'}
"""
    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    assert fields_of(caught) == {"rules[2].name": ["'Paper' is also the name of rules[0]"]}
    assert not Rule.objects.exists()


def test_a_yaml_syntax_error_names_its_line_and_column(company_a):
    text = "rules:\n  - name: Paper\n    account: '6100\n"

    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    assert (caught.value.extra["line"], caught.value.extra["column"]) == (4, 1)
    assert fields_of(caught) == {
        "file": ["line 4, column 1: while scanning a quoted scalar found unexpected end of stream"]
    }
    assert caught.value.message.startswith("The file is not valid YAML: line 4, column 1:")


def test_a_duplicate_key_is_an_error_not_silently_the_last_one(company_a):
    text = "rules:\n  - name: Paper\n    account: '6100'\n    account: '8000'\n    counterparty: Staples\n"

    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    assert fields_of(caught) == {"file": ["line 4, column 5: duplicate key 'account'"]}


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("- name: Paper\n", {"file": ["expected a mapping with a `rules` list at the top, got a list"]}),
        ("", {"file": ["the file is empty; expected a mapping with a `rules` list"]}),
        ("rules: Paper\n", {"rules": ["expected a list of rules, got a text"]}),
        ("rule: []\n", {"file": ["unknown top-level keys rule; expected only `rules`"]}),
        ("{}\n", {"rules": ["missing; expected a list of rules"]}),
        ("rules:\n  - just text\n", {"rules[0]": ["expected a mapping with name, account and conditions, got text"]}),
    ],
)
def test_a_file_without_a_rules_list_is_refused_precisely(company_a, text, fields):
    with pytest.raises(RuleInvalid) as caught:
        rules_import_yaml(company=company_a, text=text)

    assert fields_of(caught) == fields
    assert not Rule.objects.exists()


def test_files_over_the_size_and_rule_limits_are_refused(company_a):
    too_big = "rules: []\n" + "#" * MAX_FILE_BYTES
    too_many = "rules:\n" + "- {}\n" * (MAX_RULES + 1)

    with pytest.raises(RuleInvalid) as big:
        rules_import_yaml(company=company_a, text=too_big)
    with pytest.raises(RuleInvalid) as many:
        rules_import_yaml(company=company_a, text=too_many)

    assert fields_of(big) == {
        "file": [f"the file has {MAX_FILE_BYTES + 10} bytes; at most 5242880 (5 MB) are accepted"]
    }
    assert fields_of(many) == {"rules": ["the file has 10001 rules; at most 10000 are accepted per file"]}


def test_only_true_and_false_are_booleans_so_a_vendor_called_no_stays_text(company_a):
    text = "rules:\n  - {name: Norway, counterparty: NO, account: '6100', auto_promoted: false}\n"

    rules_import_yaml(company=company_a, text=text)

    assert Rule.objects.get().conditions == [{"field": "counterparty", "op": "equals", "value": "NO"}]


# --- status, permissions, skipping, audit -----------------------------------------------------------------

def test_a_reviewers_import_is_proposed_and_an_accountant_may_not_import(company_a, reviewer_a, accountant_a):
    with pytest.raises(PermissionDenied):
        rules_import_yaml(company=company_a, text=REPORT, user=accountant_a)
    assert not Rule.objects.exists()

    rules_import_yaml(company=company_a, text=REPORT, user=reviewer_a)

    assert Rule.objects.get().status == RuleStatus.PROPOSED


def test_a_reviewer_cannot_import_an_active_status_and_nothing_is_written(company_a, reviewer_a):
    text = "rules:\n  - {name: A, counterparty: Staples, account: '6100', status: proposed}\n" \
           "  - {name: B, counterparty: Depot, account: '6100', status: active}\n"

    with pytest.raises(PermissionDenied):
        rules_import_yaml(company=company_a, text=text, user=reviewer_a)

    assert not Rule.objects.exists()


def test_activate_false_makes_every_new_rule_proposed_whatever_the_file_says(company_a, admin_a):
    text = "rules:\n  - {name: A, counterparty: Staples, account: '6100', status: active}\n"

    rules_import_yaml(company=company_a, text=text, user=admin_a, activate=False)

    assert Rule.objects.get().status == RuleStatus.PROPOSED


def test_retired_rules_are_skipped_in_the_file_and_in_the_company(company_a, admin_a):
    retired = rule_create(company=company_a, user=admin_a, raw={
        "name": "Old", "conditions": [{"field": "counterparty", "op": "equals", "value": "Staples"}],
        "account_code": "6100",
    })
    Rule.objects.filter(pk=retired.pk).update(status=RuleStatus.RETIRED)
    text = """\
rules:
  - {name: Old, counterparty: Office Depot, account: '6100'}
  - {name: Gone, counterparty: Square, account: '7777', status: retired}
  - {name: New, counterparty: Depot, account: '6100'}
"""
    summary = rules_import_yaml(company=company_a, text=text)

    assert summary == {
        "created": 1, "updated": 0, "unchanged": 0, "skipped": 2, "rules": ["New"],
        "skipped_rules": [{"name": "Gone", "reason": "its status in the file is retired"},
                          {"name": "Old", "reason": "a retired rule of that name exists here"}],
    }
    retired.refresh_from_db()
    assert (retired.status, retired.conditions[0]["value"], retired.version) == (RuleStatus.RETIRED, "Staples", 1)
    assert not Rule.objects.filter(name="Gone").exists()


def test_an_import_records_one_summary_audit_event(company_a, admin_a):
    rules_import_yaml(company=company_a, text=EVERY_KIND, user=admin_a)

    event = AuditEvent.objects.get(action="rule.import")
    assert (event.company, event.actor) == (company_a, admin_a)
    assert (event.after["created"], event.after["rules"]) == (4, ["Coffee", "Paper", "Square", "Big sales"])
    assert AuditEvent.objects.filter(action="rule.create").count() == 4


def test_global_rules_export_and_import_apart_from_company_rules(company_a, superuser):
    rules_import_yaml(company=company_a, text=REPORT)
    text = "rules:\n  - {name: Utilities, counterparty: Duke Energy, account: '6200'}\n"

    rules_import_yaml(company=None, text=text, user=superuser)

    assert Rule.objects.get(company__isnull=True).account_code == "6200"
    assert "Utilities" in rules_export_yaml(company=None)
    assert "Utilities" not in rules_export_yaml(company=company_a)


def test_a_company_rule_keeps_the_global_rule_it_overrides(company_a, company_b_with_chart):
    global_rule = rule_create(company=None, user=None, raw={
        "name": "Utilities", "conditions": [{"field": "counterparty", "op": "equals", "value": "Duke Energy"}],
        "account_code": "6200",
    })
    text = "rules:\n  - {name: Our utilities, counterparty: Duke Energy, account: '6100', overrides: Utilities}\n"
    rules_import_yaml(company=company_a, text=text)

    rules_import_yaml(company=company_b_with_chart, text=rules_export_yaml(company=company_a))

    assert Rule.objects.get(company=company_b_with_chart).overrides == global_rule
    assert "  overrides: Utilities\n" in rules_export_yaml(company=company_a)


# --- commands ---------------------------------------------------------------------------------------------

def test_import_rules_command_prints_the_summary_as_json(company_a, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(REPORT, encoding="utf-8")
    out = StringIO()

    call_command("import_rules", str(path), "--company", "alpha-bakery", stdout=out)

    assert json.loads(out.getvalue()) == {
        "created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "rules": ["Auto-promoted: Square"],
        "skipped_rules": [],
    }
    assert Rule.objects.get().status == RuleStatus.ACTIVE


def test_import_rules_command_with_proposed_leaves_rules_for_an_admin(company_a, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(REPORT, encoding="utf-8")

    call_command("import_rules", str(path), "--company", "alpha-bakery", "--proposed", stdout=StringIO())

    assert Rule.objects.get().status == RuleStatus.PROPOSED


def test_import_rules_command_fails_with_every_problem_on_stderr(company_a, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {name: A, counterparty: Staples, account: '9999'}\n  - {name: B}\n",
                    encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_rules", str(path), "--company", "alpha-bakery", stdout=StringIO(), stderr=err)

    assert str(caught.value).startswith("3 problems in 2 rules; nothing was imported")
    assert err.getvalue().splitlines() == [
        ("rules[0].account: '9999' is not an active account in Alpha Bakery's chart (give its code, its name, or "
         "'code name')"),
        "rules[1].conditions: a rule needs `conditions` (a list) or the `counterparty` shorthand",
        "rules[1].account: a rule needs the account it assigns: its code, its name, or 'code name'",
    ]
    assert not Rule.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--company", "nope"], "No company with slug 'nope'."),
        (["--company", "alpha-bakery", "--proposed"], "is not UTF-8 text (byte 0)."),
    ],
)
def test_import_rules_command_refuses_unknown_companies_and_unreadable_files(company_a, tmp_path, arguments, message):
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"\xff\xfe")

    with pytest.raises(CommandError) as caught:
        call_command("import_rules", str(path), *arguments)

    assert str(caught.value).endswith(message)


def test_export_rules_command_writes_stdout_or_a_file(company_a, tmp_path):
    rules_import_yaml(company=company_a, text=EVERY_KIND)
    out = StringIO()
    path = tmp_path / "out.yaml"

    call_command("export_rules", "--company", "alpha-bakery", stdout=out)
    call_command("export_rules", "--company", "alpha-bakery", "--output", str(path))

    assert out.getvalue() == EVERY_KIND_EXPORTED
    assert path.read_text(encoding="utf-8") == EVERY_KIND_EXPORTED


def test_export_rules_command_exports_global_rules_with_the_global_flag(company_a):
    rule_create(company=None, user=None, raw={
        "name": "Utilities", "conditions": [{"field": "counterparty", "op": "equals", "value": "Duke Energy"}],
        "account_code": "6200",
    })
    out = StringIO()

    call_command("export_rules", "--global", stdout=out)

    assert out.getvalue().startswith("rules:\n- name: Utilities\n  counterparty: Duke Energy\n  account: '6200'\n")


def test_the_readmes_yaml_example_imports(company_a):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]

    result = rules_import_yaml(company=company_a, text=example)

    assert result["created"] == 2
    costco = Rule.objects.get(name="Big Costco runs")
    assert (costco.account_code, costco.priority, costco.conditions[1]) == (
        "6100", 50, {"field": "amount", "op": "gt", "value": "500.00"}
    )
    assert Rule.objects.get(name="Auto-promoted: Square").account_code == "8000"
