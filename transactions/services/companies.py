"""Tenants and their charts of accounts: creating the demo installation idempotently."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from transactions.demo_data import CompanySpec, chart_for
from transactions.models import Account, Company, Membership, Role

DEMO_PASSWORD_PREFIX = "ledger-demo-"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    company: str


def company_ensure_with_chart(*, spec: CompanySpec) -> Company:
    """Create the company and any missing accounts of its chart; existing rows are left as they are."""
    with transaction.atomic():
        company, _ = Company.objects.get_or_create(slug=spec.slug, defaults={"name": spec.name})
        existing = set(Account.objects.filter(company=company).values_list("code", flat=True))
        Account.objects.bulk_create(
            Account(company=company, code=account.code, name=account.name, type=account.type, is_bank=account.is_bank)
            for account in chart_for(spec.slug)
            if account.code not in existing
        )
    return company


def demo_users_ensure(*, company: Company) -> list[DemoLogin]:
    """One user per role for the company (`<slug>-<role>`); a password is set only when the user is new."""
    User = get_user_model()
    logins = []
    for role in Role:
        username = f"{company.slug}-{role.value}"
        password = f"{DEMO_PASSWORD_PREFIX}{role.value}"
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": role == Role.ADMIN})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, company=company, defaults={"role": role})
        logins.append(DemoLogin(username=username, password=password, role=role.value, company=company.name))
    return logins


def demo_superuser_ensure() -> DemoLogin:
    User = get_user_model()
    password = f"{DEMO_PASSWORD_PREFIX}superuser"
    user, created = User.objects.get_or_create(
        username="demo-superuser", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return DemoLogin(username=user.username, password=password, role="superuser", company="all companies")
