"""Forms of the rule pages: a rule's header fields plus condition rows, turned into the codec's plain data.

The forms only shape input (rows -> ``{"field", "op", "value"}``); what makes a rule valid is decided by the
services (``rule_validate`` via ``rule_create`` / ``rule_update`` / ``rule_test``), and their
``RuleInvalid.extra["fields"]`` errors are put back next to the field or row they are about.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from rules.engine.spec import FIELD_OPS
from rules.models import Combine, Rule
from transactions.models import Account, Company

CONDITION_ROWS = 4  # rows shown for a new rule; an edited rule shows its conditions plus one empty row
MAX_CONDITION_ROWS = 20  # rules.codec.MAX_CONDITIONS

FIELD_CHOICES = [
    ("", "—"),
    ("counterparty", "Counterparty"),
    ("description", "Description"),
    ("amount", "Amount (size)"),
    ("direction", "Direction"),
    ("bank_account", "Bank account"),
]
OP_CHOICES = [
    ("Text / bank account", [("equals", "equals"), ("contains", "contains"), ("starts_with", "starts with"),
                             ("regex", "matches regex")]),
    ("Amount", [("eq", "= equals"), ("lt", "< less than"), ("gt", "> more than"), ("between", "between")]),
    ("Direction", [("out", "money out"), ("in", "money in")]),
]
# For the form script: which operators each field takes (the engine's own table).
FIELD_OPS_JSON = json.dumps({field: list(ops) for field, ops in FIELD_OPS.items()})

_CONDITION_PATH = re.compile(r"^conditions\[(\d+)\](?:\.(field|op|value))?$")


class RuleForm(forms.Form):
    """Name, combine, account and priority. Name is checked by the codec, so Test works without one."""

    name = forms.CharField(max_length=200, required=False)
    combine = forms.ChoiceField(choices=Combine.choices, initial=Combine.ALL, label="Match")
    account_code = forms.ChoiceField(label="Account")
    priority = forms.IntegerField(initial=100, min_value=-1_000_000, max_value=1_000_000,
                                  help_text="Lower numbers are tried first.")

    def __init__(self, *args: Any, company: Company, current_code: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        accounts = Account.objects.filter(company=company, is_bank=False, is_active=True).order_by("code")
        choices = [("", "Choose an account…")] + [(a.code, f"{a.code} — {a.name}") for a in accounts]
        if current_code and current_code not in {code for code, _ in choices}:
            # Keep a rule's account visible even if it left the chart; saving then explains the problem.
            choices.append((current_code, f"{current_code} — not in the chart"))
        self.fields["account_code"].choices = choices
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "size": 40})
        self.fields["priority"].widget.attrs.update({"class": "narrow"})


class ConditionForm(forms.Form):
    """One condition row: field, operator, value, and the upper bound used only by `between`."""

    field = forms.ChoiceField(choices=FIELD_CHOICES, required=False)
    op = forms.ChoiceField(choices=OP_CHOICES, required=False, label="Operator")
    value = forms.CharField(required=False, max_length=300)
    value_to = forms.CharField(required=False, max_length=50, label="to")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["field"].widget.attrs["class"] = "condition-field"
        self.fields["op"].widget.attrs["class"] = "condition-op"
        self.fields["value"].widget.attrs.update({"class": "condition-value", "autocomplete": "off"})
        self.fields["value_to"].widget.attrs.update(
            {"class": "condition-to narrow", "autocomplete": "off", "placeholder": "to"}
        )

    def is_empty(self) -> bool:
        return not self.cleaned_data.get("field")

    def condition(self) -> dict[str, Any]:
        """The row in the codec's JSON format."""
        field, op = self.cleaned_data["field"], self.cleaned_data.get("op") or ""
        value: Any = (self.cleaned_data.get("value") or "").strip()
        if field == "amount" and op == "between":
            value = [value, (self.cleaned_data.get("value_to") or "").strip()]
        elif field == "direction":
            value = ""  # the operator carries the direction
        return {"field": field, "op": op, "value": value}


ConditionFormSet = forms.formset_factory(
    ConditionForm, extra=0, max_num=MAX_CONDITION_ROWS, validate_max=True, absolute_max=MAX_CONDITION_ROWS
)


def condition_initial(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Form rows for stored conditions (the inverse of ConditionForm.condition)."""
    rows = []
    for condition in conditions:
        value = condition.get("value", "")
        row = {"field": condition.get("field", ""), "op": condition.get("op", ""), "value": value, "value_to": ""}
        if isinstance(value, list | tuple):
            row["value"], row["value_to"] = (list(value) + ["", ""])[:2]
        rows.append(row)
    return rows


class RuleEditor:
    """The rule form and its condition rows, read together and turned into the services' `raw` data."""

    def __init__(self, data: Any, *, company: Company, rule: Rule | None = None):
        initial_rows = condition_initial(rule.conditions) if rule else []
        blank_rows = max(1, CONDITION_ROWS - len(initial_rows)) if len(initial_rows) < MAX_CONDITION_ROWS else 0
        initial = (
            {"name": rule.name, "combine": rule.combine, "account_code": rule.account_code, "priority": rule.priority}
            if rule else None
        )
        self.form = RuleForm(data, company=company, initial=initial, current_code=rule.account_code if rule else "")
        # Unbound, the formset shows one form per initial row (extra=0): the stored conditions, then blanks.
        rows = None if data is not None else initial_rows + [{}] * blank_rows
        self.formset = ConditionFormSet(data, prefix="conditions", initial=rows)
        self.condition_errors: list[str] = []  # about the list as a whole ("needs at least one condition")
        self._rows: list[ConditionForm] = []  # the non-empty rows, in the order sent to the service

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        formset_valid = self.formset.is_valid()
        return form_valid and formset_valid

    def raw(self, *, with_name: bool = True) -> dict[str, Any]:
        """The services' input. Empty rows are left out; `with_name=False` for a test run."""
        self._rows = [row for row in self.formset.forms if not row.is_empty()]
        data = self.form.cleaned_data
        raw: dict[str, Any] = {
            "conditions": [row.condition() for row in self._rows],
            "combine": data["combine"],
            "account_code": data["account_code"],
            "priority": data["priority"],
        }
        if with_name:
            raw["name"] = data["name"]
        return raw

    def show_errors(self, fields: Mapping[str, Sequence[str]]) -> None:
        """Put RuleInvalid's `extra["fields"]` next to what they are about (condition i -> its row)."""
        for path, messages in fields.items():
            for message in messages:
                self._show_error(path, message)

    def _show_error(self, path: str, message: str) -> None:
        if path in self.form.fields:
            self.form.add_error(path, message)
            return
        match = _CONDITION_PATH.match(path)
        if match and int(match.group(1)) < len(self._rows):
            self._rows[int(match.group(1))].add_error(match.group(2), message)
        elif path == "conditions" or path.startswith("conditions"):
            self.condition_errors.append(message)
        else:
            self.form.add_error(None, f"{path}: {message}")
