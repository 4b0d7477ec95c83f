"""Database-level integrity of bank transactions (PostgreSQL: the composite key of migration 0009)."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from transactions.models import Account, Company, Transaction

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the key exists on PostgreSQL")


def insert_checked(*, company_id: int, bank_account: Account) -> Transaction:
    """Create a transaction and check the deferred keys now, as the commit would."""
    with transaction.atomic():
        row = Transaction.objects.create(
            company_id=company_id, bank_account=bank_account, date=date(2026, 1, 5), description="STAPLES",
            amount=Decimal("-12.50"), fingerprint=uuid.uuid4(),
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return row


@postgres_only
def test_a_transaction_on_its_own_companys_bank_account_is_accepted(company_a):
    row = insert_checked(company_id=company_a.id, bank_account=Account.objects.get(company=company_a, code="1000"))
    assert Transaction.objects.filter(id=row.id, company=company_a).exists()


@postgres_only
def test_a_transaction_cannot_point_at_another_companys_bank_account(company_a, company_b):
    theirs = Account.objects.get(company=company_b, code="1000")
    with pytest.raises(IntegrityError, match="transaction_bank_account_of_company"):
        insert_checked(company_id=company_a.id, bank_account=theirs)


@postgres_only
def test_a_transaction_cannot_name_a_company_that_does_not_exist(company_a):
    missing = (Company.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1_000
    with pytest.raises(IntegrityError, match="transaction_bank_account_of_company"):
        insert_checked(company_id=missing, bank_account=Account.objects.get(company=company_a, code="1000"))
