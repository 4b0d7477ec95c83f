"""The rules stage of classification, and people's approvals and corrections feeding rule retirement."""
from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.exceptions import DecisionInvalid
from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import transaction_categorize, transactions_classify
from rules.models import Rule
from rules.services.lifecycle import rule_create, rule_update
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import Account, AuditEvent, Transaction, TransactionStatus


def test_a_matching_rule_decides_and_the_decision_names_the_rule_and_its_version(company_a, admin_a):
    rule = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    rule_update(rule=rule, user=admin_a, raw={"priority": 10})  # version 2
    [staples] = add_lines(company_a, "STAPLES STORE", 1)
    add_lines(company_a, "OFFICE DEPOT", 1)

    result = transactions_classify(company=company_a)

    assert result["by_method"] == {"rule": 1, "review": 1}
    decision = Decision.objects.get(method=DecisionMethod.RULE)
    assert (decision.transaction_id, decision.method, decision.status) == (
        staples.id, DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED
    )
    assert (decision.rule_id, decision.rule_version, decision.account.code) == (rule.id, 2, "6100")
    assert decision.explanation == {"rule_id": rule.id, "rule_version": 2, "rule_name": "STAPLES rule"}
    staples.refresh_from_db()
    assert (staples.account.code, staples.status, staples.confirmed_at) == ("6100", TransactionStatus.CATEGORIZED, None)
    rule.refresh_from_db()
    assert rule.hit_count == 1 and rule.last_hit_at is not None


def test_reclassifying_never_touches_decided_or_confirmed_transactions(company_a, admin_a):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    add_lines(company_a, "STAPLES STORE", 3)
    [confirmed] = add_lines(company_a, "STAPLES STORE", 1, account="8000")  # a person said 8000
    transactions_classify(company=company_a)

    again = transactions_classify(company=company_a)

    assert again["transactions"] == 0
    assert Decision.objects.count() == 3
    confirmed.refresh_from_db()
    assert not Decision.objects.filter(transaction=confirmed).exists()
    assert confirmed.account.code == "8000"


def test_one_company_s_rules_never_decide_another_company_s_transactions(company_a, company_b, admin_a):
    from transactions.tests.factories import AccountFactory

    AccountFactory(company=company_b, code="6100", name="Office")
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    add_lines(company_b, "STAPLES STORE", 2)

    assert transactions_classify(company=company_b)["by_method"] == {"review": 2}
    assert not Decision.objects.filter(method=DecisionMethod.RULE).exists()


def test_classification_issues_a_bounded_number_of_queries_per_chunk(company_a, admin_a, settings):
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 50
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STRIPE", name="Sales", account="8000",
                                                                  field="description", op="contains"))
    add_lines(company_a, "STAPLES STORE", 100)
    add_lines(company_a, "STRIPE PAYOUT", 50, amount="250.00")
    transactions_classify(company=company_a)  # warm the compiled-rules cache
    Transaction.objects.update(status=TransactionStatus.UNCATEGORIZED, account=None)
    Decision.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        result = transactions_classify(company=company_a)

    assert result["by_method"] == {"rule": 150}
    assert Transaction.objects.filter(account__code="8000").count() == 50
    # Per chunk: lock/read, rules stamp, chart, rule rows, chart codes, insert, 1 update per account, 1 per rule,
    # savepoint bookkeeping. 3 chunks of 50 must not cost 150 queries.
    assert len(queries) <= 3 * 12 + 6


def test_classify_command_prints_counts_by_method(company_a, admin_a):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    add_lines(company_a, "STAPLES STORE", 2)
    add_lines(company_a, "OFFICE DEPOT", 1)
    out = StringIO()

    call_command("classify", "--company", company_a.slug, stdout=out)

    assert json.loads(out.getvalue())["by_method"] == {"rule": 2, "review": 1}


def _rule_decided(company, admin, count):
    rule = rule_create(company=company, user=admin, raw=vendor_rule("STAPLES"))
    lines = add_lines(company, "STAPLES STORE", count)
    transactions_classify(company=company)
    return rule, lines


def test_approving_a_decision_confirms_the_transaction(company_a, admin_a, reviewer_a):
    _, [line] = _rule_decided(company_a, admin_a, 1)

    decision = transaction_categorize(transaction_id=line.id, user=reviewer_a, account=line.company.accounts.get(code="6100"))

    assert (decision.method, decision.status, decision.reviewer) == (DecisionMethod.RULE, DecisionStatus.APPROVED, reviewer_a)
    line.refresh_from_db()
    assert line.confirmed_at is not None
    assert AuditEvent.objects.filter(action="decision.approve", actor=reviewer_a).exists()


def test_a_correction_keeps_the_rules_decision_as_history(company_a, admin_a, reviewer_a):
    rule, [line] = _rule_decided(company_a, admin_a, 1)
    sales = Account.objects.get(company=company_a, code="8000")

    decision = transaction_categorize(transaction_id=line.id, user=reviewer_a, account=sales)

    assert (decision.method, decision.is_current, decision.account) == (DecisionMethod.HUMAN, True, sales)
    old = Decision.objects.get(transaction=line, is_current=False)
    assert (old.method, old.status, old.rule_id) == (DecisionMethod.RULE, DecisionStatus.CORRECTED, rule.id)
    assert decision.explanation == {"corrects": old.id}
    line.refresh_from_db()
    assert (line.account, line.confirmed_at is not None) == (sales, True)
    rule.refresh_from_db()
    assert (rule.corrected_count, rule.flagged_at) == (1, None)  # one slip does not flag a rule


def test_a_rule_whose_corrections_push_precision_below_the_bar_is_flagged(company_a, admin_a, reviewer_a):
    rule, lines = _rule_decided(company_a, admin_a, 40)
    sales = Account.objects.get(company=company_a, code="8000")

    for line in lines[:2]:  # 38/40 = 95%: still at the bar
        transaction_categorize(transaction_id=line.id, user=reviewer_a, account=sales)
    rule.refresh_from_db()
    assert (rule.corrected_count, rule.flagged_at) == (2, None)

    transaction_categorize(transaction_id=lines[2].id, user=reviewer_a, account=sales)  # 37/40 = 92.5%

    rule.refresh_from_db()
    assert rule.flagged_at is not None
    assert "3 of its 40 decisions" in rule.flag_reason and "92.5%" in rule.flag_reason
    assert rule.status == "active"  # flagged for an admin, not silently retired
    assert AuditEvent.objects.filter(action="rule.flag", object_id=str(rule.id)).count() == 1


def test_corrections_of_an_older_version_do_not_count_against_the_new_one(company_a, admin_a, reviewer_a):
    rule, [line] = _rule_decided(company_a, admin_a, 1)
    rule_update(rule=rule, user=admin_a, raw={"priority": 5})

    transaction_categorize(transaction_id=line.id, user=reviewer_a,
                           account=Account.objects.get(company=company_a, code="8000"))

    assert Rule.objects.get(pk=rule.pk).corrected_count == 0


@pytest.mark.parametrize("code", ["1000", "9999"])
def test_a_person_cannot_categorize_to_a_bank_or_foreign_account(company_a, company_b, reviewer_a, code):
    [line] = add_lines(company_a, "STAPLES STORE", 1)
    from transactions.tests.factories import AccountFactory

    account = Account.objects.get(company=company_a, code="1000") if code == "1000" else AccountFactory(
        company=company_b, code="9999", name="Elsewhere")

    with pytest.raises(DecisionInvalid):
        transaction_categorize(transaction_id=line.id, user=reviewer_a, account=account)
    assert not Decision.objects.exists()


def test_switching_rules_off_leaves_their_transactions_to_the_next_stage(company_a, admin_a, settings):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    add_lines(company_a, "STAPLES STORE", 3)
    settings.USE_RULES = False

    assert transactions_classify(company=company_a)["by_method"] == {"review": 3}
    assert Rule.objects.get().hit_count == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a plan of PostgreSQL's")
def test_a_classify_chunk_reads_its_own_rows_whatever_the_statistics(company_a):
    """The chunk walks txn_company_uncategorized in id order and stops at the chunk size, with no ANALYZE
    (autovacuum may not have run). Before that index it walked (company, status) over every uncategorized row
    left and sorted them: 1.17 s a chunk at 10^6 rows."""
    from decisions.services import _chunk_query, _pending

    bank = company_a.accounts.get(code="1000")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {Transaction._meta.db_table} (line, date, description, counterparty, amount, currency,
                external_id, fingerprint, occurrence, status, created_at, bank_account_id, company_id)
            SELECT n, DATE '2026-06-01', 'LINE ' || n, '', -12.50, 'USD', '', gen_random_uuid(), 1,
                CASE WHEN n <= 5000 THEN 'needs_review' ELSE 'uncategorized' END, now(), %s, %s
            FROM generate_series(1, 20000) n""", [bank.pk, company_a.pk])
    middle = Transaction.objects.order_by("id").values_list("id", flat=True)[10_000]

    plan = _chunk_query(_pending(company=company_a), last_id=middle).explain()

    assert "txn_company_uncategorized" in plan and "Sort" not in plan, plan


def test_classify_writes_every_decision_with_its_explanation_and_mirrors_it(company_a, admin_a, settings):
    """The chunk's decisions and the transactions' status/account, across chunks, on both write paths."""
    settings.LEDGER_CLASSIFY_CHUNK_ROWS = 7
    settings.USE_ML = False
    rule = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    staples = add_lines(company_a, "STAPLES STORE", 10)
    others = add_lines(company_a, "OFFICE DEPOT", 5)

    assert transactions_classify(company=company_a)["by_method"] == {"rule": 10, "review": 5}

    decisions = {d.transaction_id: d for d in Decision.objects.filter(is_current=True)}
    assert len(decisions) == 15
    for line in staples:
        d = decisions[line.id]
        assert (d.method, d.status, d.account.code, d.rule_id, d.rule_version, d.confidence, d.alternatives,
                d.explanation) == (DecisionMethod.RULE, DecisionStatus.AUTO_APPROVED, "6100", rule.id, 1,
                                   rule.confidence or Decimal("1.0000"), [],
                                   {"rule_id": rule.id, "rule_version": 1, "rule_name": "STAPLES rule"})
    for line in others:
        d = decisions[line.id]
        assert (d.method, d.status, d.account_id, d.explanation) == (
            DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, None,
            {"reason": "the classifier is switched off (USE_ML=0)"})
    mirrored = dict(Transaction.objects.values_list("id", "status"))
    assert {mirrored[line.id] for line in staples} == {TransactionStatus.CATEGORIZED}
    assert {mirrored[line.id] for line in others} == {TransactionStatus.NEEDS_REVIEW}
    staples_accounts = Transaction.objects.filter(id__in=[line.id for line in staples]).values_list("account__code",
                                                                                                   flat=True)
    assert set(staples_accounts) == {"6100"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a plan of PostgreSQL's")
@pytest.mark.parametrize(("lookup", "index"), [
    ({"rule_id": 1, "is_current": True}, "decision_rule_current"),
    ({"model_version_id": 1, "created_at__gte": "2026-01-01T00:00:00Z"}, "decision_model_recent"),
    ({"reviewer_id": 1}, "decision_reviewer"),
])
def test_the_partial_indexes_of_mostly_empty_columns_serve_lookups_by_a_value(db, lookup, index):
    """rule, model_version and reviewer are indexed only where set (classify writes no entries for the empty
    ones); a lookup by a value implies the column is set, so the planner may use them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        [(definition,)] = cursor.fetchall()
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would be scanned anyway
        plan = Decision.objects.filter(**lookup).explain()

    assert definition.endswith("IS NOT NULL)"), definition
    assert index in plan, plan
