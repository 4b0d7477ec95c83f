"""seed_demo creates the demo installation once; running it again changes nothing."""
from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from jobs.models import Job
from transactions.models import Account, Company, ImportBatch, Membership, Transaction

REPORT_ACCOUNTS = {"6100", "6200", "6300", "6400", "6500", "6600", "7000", "8000"}


def snapshot() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Company, Account, Membership, get_user_model(), ImportBatch, Transaction, Job)
    )


def test_seed_demo_without_transactions_creates_companies_charts_and_users(db):
    out = io.StringIO()

    call_command("seed_demo", "--transactions", "0", stdout=out)

    assert set(Company.objects.values_list("slug", flat=True)) == {
        "hamilton-coffee", "cincy-web-builders", "liberty-childcare", "contreras-re", "midwest-accounting",
    }
    for company in Company.objects.all():
        codes = set(company.accounts.values_list("code", flat=True))
        assert REPORT_ACCOUNTS <= codes
        assert company.accounts.get(code="1000").is_bank
        assert set(company.memberships.values_list("role", flat=True)) == {"accountant", "reviewer", "admin"}
    assert not Transaction.objects.exists()
    assert "hamilton-coffee-reviewer" in out.getvalue()
    assert "ledger-demo-reviewer" in out.getvalue()


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", "--transactions", "40", "--seed", "7", stdout=io.StringIO())
    first = snapshot()

    call_command("seed_demo", "--transactions", "40", "--seed", "7", stdout=io.StringIO())

    assert snapshot() == first
    history = Transaction.objects.filter(import_batch__labeled=True)
    assert history.count() == 5 * 40
    assert not history.filter(account__isnull=True).exists()
    # and this month's statement (a fifth of the history), classified: every line has a current decision
    recent = Transaction.objects.filter(import_batch__labeled=False)
    assert recent.count() == 5 * 8
    assert recent.filter(decisions__is_current=True).count() == 5 * 8


def test_the_demo_history_fills_the_approval_queue_once(db):
    from rules.models import Rule, RuleSource, RuleStatus

    call_command("seed_demo", "--transactions", "600", stdout=io.StringIO())
    proposed = set(Rule.objects.values_list("id", "status", "source"))

    call_command("seed_demo", "--transactions", "600", stdout=io.StringIO())

    assert proposed, "600 confirmed lines per company hold vendors with support >= 20"
    assert {(status, source) for _, status, source in proposed} == {(RuleStatus.PROPOSED, RuleSource.AUTO_PROMOTED)}
    assert set(Rule.objects.values_list("id", "status", "source")) == proposed


def test_the_demo_companies_get_a_trained_model_once(db):
    from mlmodels.models import ModelVersion

    call_command("seed_demo", "--transactions", "300", stdout=io.StringIO())
    call_command("seed_demo", "--transactions", "300", stdout=io.StringIO())

    assert ModelVersion.objects.filter(is_active=True).count() == 5
    assert ModelVersion.objects.count() == 5
