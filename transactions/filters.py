"""Filters of the transactions list (HTML and API): company, status, dates, account, amounts, text, import."""
from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from transactions.models import Account, Company, ImportBatch, Transaction, TransactionStatus


class DateInput(forms.DateInput):
    input_type = "date"  # the browser's date picker; it submits ISO dates


class TransactionFilter(django_filters.FilterSet):
    company = django_filters.ModelChoiceFilter(queryset=Company.objects.none())
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="From", widget=DateInput)
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="To", widget=DateInput)
    account = django_filters.ModelChoiceFilter(queryset=Account.objects.none())
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label="Amount ≥")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label="Amount ≤")
    q = django_filters.CharFilter(method="search", label="Search")
    import_batch = django_filters.ModelChoiceFilter(queryset=ImportBatch.objects.none(), label="Import")

    class Meta:
        model = Transaction
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        companies = Company.objects.for_user(user)
        # Choices are scoped too: naming another company's account or import finds nothing.
        self.filters["company"].queryset = companies
        self.filters["account"].queryset = Account.objects.filter(company__in=companies).select_related("company")
        self.filters["import_batch"].queryset = ImportBatch.objects.filter(company__in=companies)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(description__icontains=value) | Q(counterparty__icontains=value))
