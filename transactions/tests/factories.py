"""factory_boy factories with fixed data (no random amounts or dates)."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from transactions.models import Account, AccountType, Company, Membership, Role, Transaction


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ("company", "code")

    company = factory.SubFactory(CompanyFactory)
    code = "6100"
    name = "Office Supplies"
    type = AccountType.EXPENSE


class BankAccountFactory(AccountFactory):
    code = "1000"
    name = "Checking"
    type = AccountType.ASSET
    is_bank = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = Role.ACCOUNTANT


def make_transactions(company: Company, count: int) -> None:
    """`count` bank lines for the company: one a day from 2025-01-01, amounts -50.00, -49.00, ..."""
    bank = company.accounts.get(code="1000")
    Transaction.objects.bulk_create(
        Transaction(
            company=company, bank_account=bank, date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
            description=f"VENDOR {i}", amount=Decimal(i) - Decimal("50.00"), fingerprint=uuid.uuid4(),
        )
        for i in range(count)
    )
