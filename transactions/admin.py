"""Admin for tenants, charts and imports. Staff see only the companies they belong to; superusers see all."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from transactions.models import Account, Company, ImportBatch, ImportRowError, Membership, Transaction


class CompanyScopedAdmin(admin.ModelAdmin):
    """Filters the list, and every company/account choice, to the staff user's companies."""

    company_path = "company"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.company_path}__in": Company.objects.for_user(request.user)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            companies = Company.objects.for_user(request.user)
            if db_field.related_model is Company:
                kwargs["queryset"] = companies
            elif db_field.related_model is Account:
                kwargs["queryset"] = Account.objects.filter(company__in=companies)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdmin):
    company_path = "pk"
    list_display = ["name", "slug", "ml_confidence_threshold", "ml_review_threshold"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(CompanyScopedAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]
    search_fields = ["user__username", "company__name"]


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "type", "is_bank", "is_active", "company"]
    list_filter = ["type", "is_bank", "is_active", "company"]
    search_fields = ["code", "name"]


class ReadOnlyAdmin(CompanyScopedAdmin):
    """Imported data is changed through the product's services, not edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["original_filename", "company", "bank_account", "status", "imported_count",
                    "duplicate_count", "rejected_count", "created_at"]
    list_filter = ["status", "company"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["date", "description", "amount", "currency", "status", "account", "company"]
    list_filter = ["status", "company"]
    search_fields = ["description", "counterparty"]
    list_select_related = ["company", "account"]


@admin.register(ImportRowError)
class ImportRowErrorAdmin(ReadOnlyAdmin):
    company_path = "batch__company"
    list_display = ["batch", "line", "column", "message"]
