"""Reads scoped to the companies a user belongs to: the one place tenancy is decided for queries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from jobs.models import Job, JobKind
from ledger_site.api_docs import MAX_ID
from transactions.filters import TransactionFilter
from transactions.models import Account, AuditEvent, Company, ImportBatch, Membership, Role, Transaction

ROLE_RANK = {Role.ACCOUNTANT: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


def company_get_for_user(*, user: Any, reference: str | int, role: str = Role.ACCOUNTANT) -> Company:
    """The company by id or slug if the user belongs to it with at least `role`.

    Not a member: 404, so nobody learns that another company exists. A member whose role is too low: 403.
    This is the one place roles are checked; every view, API endpoint and command goes through it.
    """
    companies = Company.objects.for_user(user)
    text = str(reference)
    is_id = text.isascii() and text.isdigit()  # "²".isdigit() is true, but it is no id
    company = companies.filter(pk=int(text)).first() if is_id else companies.filter(slug=text).first()
    if company is None:
        raise Http404("No such company.")
    if not user_has_role(user=user, company=company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {company.name}.")
    return company


def user_has_role(*, user: Any, company: Company, role: str) -> bool:
    """True if the user's role in the company is `role` or higher (superusers may do everything)."""
    if getattr(user, "is_superuser", False):
        return True
    membership = Membership.objects.filter(user=user, company=company).first()
    return membership is not None and ROLE_RANK[Role(membership.role)] >= ROLE_RANK[Role(role)]


def company_object_get_for_user(
    *, queryset: QuerySet, user: Any, pk: Any, role: str = Role.ACCOUNTANT, not_found: str = "Not found."
) -> Any:
    """An object of `queryset` (which has a `company`) of one of the user's companies: 404 otherwise, 403 when
    the user's role there is below `role`."""
    text = str(pk)
    found = None
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        found = (queryset.filter(company__in=Company.objects.for_user(user), pk=int(text))
                 .select_related("company").first())
    if found is None:
        raise Http404(not_found)
    if not user_has_role(user=user, company=found.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {found.company.name}.")
    return found


def company_or_global_get_for_user(
    *, queryset: QuerySet, user: Any, pk: Any, role: str, not_found: str, global_refusal: str
) -> Any:
    """An object of `queryset` that belongs to one of the user's companies, or to no company (shared by all).

    Not visible: 404 (`not_found`). Visible but the user's role is below `role`: 403. Shared objects are read by
    every member of some company and changed (any role above accountant) only by a superuser (`global_refusal`).
    """
    companies = Company.objects.for_user(user)
    visible = Q(company__in=companies) | (Q(company__isnull=True) if companies.exists() else Q(pk__in=[]))
    text = str(pk)
    found = (
        queryset.filter(visible, pk=int(text)).select_related("company").first()
        if text.isascii() and text.isdigit() else None
    )
    if found is None:
        raise Http404(not_found)
    if found.company is None:
        if role != Role.ACCOUNTANT and not getattr(user, "is_superuser", False):
            raise PermissionDenied(global_refusal)
    elif not user_has_role(user=user, company=found.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {found.company.name}.")
    return found


def company_ids_administered_by(*, user: Any) -> set[int]:
    """Ids of the companies where the user holds the admin role (every company for a superuser)."""
    if getattr(user, "is_superuser", False):
        return set(Company.objects.values_list("id", flat=True))
    return set(Membership.objects.filter(user=user, role=Role.ADMIN).values_list("company_id", flat=True))


def import_batch_get_for_user(*, user: Any, import_id: object, role: str = Role.ACCOUNTANT) -> ImportBatch:
    batch = (
        ImportBatch.objects.filter(company__in=Company.objects.for_user(user), id=import_id)
        .select_related("company", "bank_account", "job")
        .first()
    )
    if batch is None:
        raise Http404("No such import.")
    if not user_has_role(user=user, company=batch.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {batch.company.name}.")
    return batch


@dataclass
class TransactionListing:
    form: Any  # the bound filter form, for re-rendering (with its errors)
    queryset: QuerySet
    errors: dict[str, Any]  # invalid filter values; the queryset is then empty


def transaction_list_for_user(*, user: Any, params: Any) -> TransactionListing:
    """The user's transactions, filtered by `params` (see TransactionFilter), newest first, without N+1."""
    # A literal list of ids, not a subquery: with it PostgreSQL walks the (company, -date, -id) index in order
    # and stops after one page, instead of sorting every row of the company.
    company_ids = list(Company.objects.for_user(user).values_list("id", flat=True))
    base = (
        Transaction.objects.filter(company_id__in=company_ids)
        .select_related("company", "account", "import_batch")
        .order_by("-date", "-id")
    )
    filterset = TransactionFilter(params, queryset=base, user=user)
    if not filterset.is_valid():
        return TransactionListing(form=filterset.form, queryset=base.none(), errors=dict(filterset.errors))
    return TransactionListing(form=filterset.form, queryset=filterset.qs, errors={})


def audit_events_for_company(*, company: Company, params: Any) -> QuerySet:
    """The company's audit trail, newest first, filtered by action, actor and date (`params` from a query)."""
    events = AuditEvent.objects.filter(company=company).select_related("actor")
    if params.get("action"):
        events = events.filter(action=params["action"])
    if params.get("actor"):
        events = events.filter(actor_label__icontains=params["actor"])
    if params.get("date_from"):
        events = events.filter(created_at__date__gte=params["date_from"])
    if params.get("date_to"):
        events = events.filter(created_at__date__lte=params["date_to"])
    return events


def company_has_two_bank_accounts(*, company_id: int) -> bool:
    """Whether the company can have transfers between its own bank accounts (they need two)."""
    return Account.objects.filter(company_id=company_id, is_bank=True).count() > 1


def import_batch_undo_job(*, batch: ImportBatch) -> Any:
    """The import's latest `undo_import` job (None if it was never asked to be undone)."""
    return (Job.objects.filter(company_id=batch.company_id, kind=JobKind.UNDO_IMPORT, params__import_batch=str(batch.pk))
            .order_by("-created_at").first())
