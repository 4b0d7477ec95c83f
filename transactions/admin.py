"""Admin for tenants, charts and imports. Staff see only the companies they belong to; superusers see all."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from transactions.models import (
    Account,
    AuditEvent,
    Company,
    ImportBatch,
    ImportRowError,
    Membership,
    Transaction,
)
from transactions.selectors import company_ids_administered_by
from transactions.services.audit import audit_record


def _admin_company_ids(request: HttpRequest) -> set[int]:
    """Companies where the staff user holds the admin role (cached on the request)."""
    if not hasattr(request, "_admin_company_ids"):
        request._admin_company_ids = company_ids_administered_by(user=request.user)  # type: ignore[attr-defined]
    return request._admin_company_ids  # type: ignore[attr-defined]


class CompanyScopedAdmin(admin.ModelAdmin):
    """Filters the list, and every company/account choice, to the staff user's companies.

    Staff who are not superusers get their rights from their company role rather than from Django's model
    permissions: members may view their companies' rows, company admins may change them.
    """

    company_path = "company"

    def _company_id_of(self, obj: Any) -> int:
        return obj.pk if isinstance(obj, Company) else obj.company_id

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or Company.objects.for_user(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        admin_of = _admin_company_ids(request)
        return bool(admin_of) if obj is None else self._company_id_of(obj) in admin_of

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(_admin_company_ids(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.company_path}__in": Company.objects.for_user(request.user)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            # Only companies the user administers can be chosen when adding or changing rows.
            companies = Company.objects.filter(pk__in=_admin_company_ids(request))
            if db_field.related_model is Company:
                kwargs["queryset"] = companies
            elif db_field.related_model is Account:
                kwargs["queryset"] = Account.objects.filter(company__in=companies)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


THRESHOLD_FIELDS = ("ml_confidence_threshold", "ml_review_threshold")


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdmin):
    company_path = "pk"
    list_display = ["name", "slug", "ml_confidence_threshold", "ml_review_threshold"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # new tenants are created by the installation's operators

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        before = {f: str(form.initial.get(f)) for f in THRESHOLD_FIELDS} if change else None
        super().save_model(request, obj, form, change)
        after = {f: str(getattr(obj, f)) for f in THRESHOLD_FIELDS}
        if before != after:
            audit_record(action="company.thresholds", company=obj, actor=request.user, target=obj,
                         before=before, after=after)


@admin.register(Membership)
class MembershipAdmin(CompanyScopedAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]
    search_fields = ["user__username", "company__name"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        before = {"role": form.initial.get("role")} if change else None
        super().save_model(request, obj, form, change)
        audit_record(
            action="membership.update" if change else "membership.create", company=obj.company, actor=request.user,
            target=obj, before=before, after={"user": obj.user.get_username(), "role": obj.role},
        )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        audit_record(action="membership.delete", company=obj.company, actor=request.user, target=obj,
                     before={"user": obj.user.get_username(), "role": obj.role})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for membership in queryset.select_related("user", "company"):
            self.delete_model(request, membership)


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "type", "is_bank", "is_active", "ml_confidence_threshold", "company"]
    list_filter = ["type", "is_bank", "is_active", "company"]
    search_fields = ["code", "name"]

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        before = str(form.initial.get("ml_confidence_threshold")) if change else None
        super().save_model(request, obj, form, change)
        if (before or "None") != str(obj.ml_confidence_threshold):
            audit_record(action="account.threshold", company=obj.company, actor=request.user, target=obj,
                         before={"ml_confidence_threshold": before},
                         after={"ml_confidence_threshold": str(obj.ml_confidence_threshold)})


class ReadOnlyAdmin(CompanyScopedAdmin):
    """Imported data and run records change through the product's services, never by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Viewable, filterable, never editable — not even by superusers."""

    list_display = ["created_at", "company", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "company"]
    search_fields = ["actor_label", "object_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(company__in=_admin_company_ids(request))
