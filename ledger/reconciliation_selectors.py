"""Reading reconciliations and their matches, scoped to the user's companies (writes: ledger.services.reconciliation).

Kept apart from ledger/selectors.py (the journal's reads) so the two capabilities can grow without touching each
other; fold them into a `ledger/selectors/` package when that file grows.
"""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ledger.models import BankMatch, MatchStatus, Reconciliation
from transactions.models import Account, Company, Role, Transaction
from transactions.selectors import company_object_get_for_user


def reconciliation_get_for_user(*, user: Any, reconciliation_id: Any, role: str = Role.ACCOUNTANT) -> Reconciliation:
    """One reconciliation of the user's companies (404 otherwise, 403 when the role is too low)."""
    return company_object_get_for_user(
        queryset=Reconciliation.objects.select_related("bank_account", "job", "created_by"), user=user,
        pk=reconciliation_id, role=role, not_found="No such reconciliation.")


def bank_match_get_for_user(*, user: Any, match_id: Any, role: str = Role.ACCOUNTANT) -> BankMatch:
    """One suggested/accepted/rejected match of the user's companies (404 otherwise, 403 when the role is too low)."""
    return company_object_get_for_user(
        queryset=BankMatch.objects.select_related("transaction", "entry", "reconciliation"), user=user, pk=match_id,
        role=role, not_found="No such match.")


def reconciliations_for_company(*, company: Company) -> QuerySet[Reconciliation]:
    """The company's reconciliation runs, newest first."""
    return (Reconciliation.objects.filter(company=company).select_related("bank_account", "job", "created_by")
            .order_by("-created_at", "-id"))


def reconciliation_matches(*, reconciliation: Reconciliation) -> list[BankMatch]:
    """The run's matches: suggestions best first, then the ones people decided."""
    order = {MatchStatus.SUGGESTED: 0, MatchStatus.ACCEPTED: 1, MatchStatus.REJECTED: 2}
    matches = list(BankMatch.objects.filter(reconciliation=reconciliation)
                   .select_related("transaction", "entry", "decided_by"))
    matches.sort(key=lambda match: (order.get(match.status, 3), -match.score, match.transaction.date, match.pk))
    return matches


def reconciliation_marked_count(*, reconciliation: Reconciliation) -> int:
    """How many bank rows of the run's account and period are marked reconciled now."""
    return Transaction.objects.filter(
        company_id=reconciliation.company_id, bank_account_id=reconciliation.bank_account_id,
        date__range=(reconciliation.period_start, reconciliation.period_end), reconciled_at__isnull=False,
    ).count()


def bank_accounts_of(*, company: Company) -> QuerySet[Account]:
    """The company's bank accounts (what can be reconciled)."""
    return Account.objects.filter(company=company, is_bank=True).order_by("code")
