"""Forms of the upload flow: choose files, then confirm or correct the detected column mapping."""
from __future__ import annotations

from typing import Any

from django import forms

from transactions.models import Account, Company
from transactions.parsing import ColumnMapping, Layout
from transactions.parsing.models import INDEX_ROLES

COMMON_DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%m/%d/%y", "%d/%m/%y", "%d %b %Y"]
ROLE_LABELS = {
    "date": "Date", "description": "Description", "counterparty": "Counterparty", "amount": "Amount (signed)",
    "debit": "Money out (debit)", "credit": "Money in (credit)", "direction": "CR/DR column",
    "balance": "Balance", "currency": "Currency", "reference": "Bank reference", "check_number": "Check number",
    "account": "Account (labeled files)",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else [data]
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files if item]
        if not cleaned:
            raise forms.ValidationError("Choose at least one bank file.")
        return cleaned


class UploadForm(forms.Form):
    bank_account = forms.ModelChoiceField(queryset=Account.objects.none(), empty_label=None)
    files = MultipleFileField(label="Bank files (CSV, OFX, QFX)")
    labeled = forms.BooleanField(required=False, label="Files carry an account column (categorized history)")

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["bank_account"]
        field.queryset = (
            Account.objects.filter(company__in=Company.objects.for_user(user), is_bank=True, is_active=True)
            .select_related("company")
            .order_by("company__name", "code")
        )
        field.label_from_instance = lambda account: f"{account.company.name} — {account.code} {account.name}"


class MappingForm(forms.Form):
    """Column roles for one file; cleaned_data["layout"] is the corrected Layout."""

    decimal_comma = forms.BooleanField(required=False, label="Decimal comma (1.234,56)")

    def __init__(self, *args: Any, layout: Layout, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.layout = layout
        mapping = layout.mapping
        columns = [("", "—")] + [(str(index), f"{index + 1}: {name}") for index, name in enumerate(layout.header)]
        for role in INDEX_ROLES:
            current = getattr(mapping, role) if mapping else None
            self.fields[role] = forms.ChoiceField(
                choices=columns, required=role == "date", label=ROLE_LABELS[role],
                initial="" if current is None else str(current),
            )
        formats = list(dict.fromkeys([*layout.date_format_candidates, *COMMON_DATE_FORMATS]))
        self.fields["date_format"] = forms.ChoiceField(
            choices=[(f, f) for f in formats], label="Date format",
            initial=mapping.date_format if mapping and not layout.is_ambiguous else "",
        )
        if layout.is_ambiguous:
            self.fields["date_format"].choices = [("", "— choose —")] + self.fields["date_format"].choices
            self.fields["date_format"].help_text = "The dates fit more than one format: choose the right one."
        self.fields["decimal_comma"].initial = bool(mapping and mapping.decimal_comma)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        values = {role: int(data[role]) if data.get(role) not in (None, "") else None for role in INDEX_ROLES}
        try:
            mapping = ColumnMapping(**values, date_format=data["date_format"], decimal_comma=data["decimal_comma"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        layout_data = self.layout.to_dict()
        layout_data["mapping"] = mapping.to_dict()
        layout_data["date_format_candidates"] = [mapping.date_format]
        data["layout"] = layout_data
        return data
