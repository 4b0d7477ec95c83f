"""Reads for decisions, scoped to the user's companies."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from decisions.models import Decision
from transactions.models import Company, Role, Transaction
from transactions.selectors import user_has_role


def transaction_get_for_user(*, user: Any, transaction_id: Any, role: str = Role.ACCOUNTANT) -> Transaction:
    """A transaction of one of the user's companies (404 otherwise; 403 when the role is too low)."""
    txn = (
        Transaction.objects.filter(company__in=Company.objects.for_user(user), pk=transaction_id)
        .select_related("company")
        .first()
    )
    if txn is None:
        raise Http404("No such transaction.")
    if not user_has_role(user=user, company=txn.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {txn.company.name}.")
    return txn


def decision_history(*, transaction: Transaction) -> QuerySet[Decision]:
    """Every decision on the transaction, newest first: why it is categorized as it is, and what came before."""
    return Decision.objects.filter(transaction=transaction).select_related("account", "rule", "reviewer")
