"""A person's review: approving, correcting, answering a placeholder, "always like this", bulk approval, and two
reviewers on one item (threads on a real database: exactly one wins)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from decisions.exceptions import DecisionConflict
from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import decisions_approve, transaction_categorize
from rules.models import Rule, RuleStatus
from rules.tests.factories import add_lines
from transactions.models import Account, Transaction


def _suggest(company, count, account="6100", description="STAPLES STORE"):
    lines = add_lines(company, description, count)
    target = Account.objects.get(company=company, code=account)
    return [Decision.objects.create(company=company, transaction=line, method=DecisionMethod.ML_SUGGESTION,
                                    account=target, status=DecisionStatus.NEEDS_REVIEW) for line in lines]


def test_a_review_placeholder_becomes_the_persons_decision(company_a, reviewer_a):
    [line] = add_lines(company_a, "NEW VENDOR", 1)
    placeholder = Decision.objects.create(company=company_a, transaction=line, method=DecisionMethod.HUMAN,
                                          status=DecisionStatus.NEEDS_REVIEW)
    sales = Account.objects.get(company=company_a, code="8000")

    decision = transaction_categorize(transaction_id=line.id, user=reviewer_a, account=sales,
                                      expected_decision_id=placeholder.pk)

    assert decision.pk == placeholder.pk and (decision.account, decision.status) == (sales, DecisionStatus.APPROVED)
    assert Decision.objects.count() == 1


def test_a_stale_page_cannot_overwrite_another_reviewers_decision(company_a, reviewer_a, admin_a):
    [suggestion] = _suggest(company_a, 1)
    sales = Account.objects.get(company=company_a, code="8000")
    transaction_categorize(transaction_id=suggestion.transaction_id, user=admin_a, account=sales,
                           expected_decision_id=suggestion.pk)

    with pytest.raises(DecisionConflict, match="already decided this transaction by admin_a"):
        transaction_categorize(transaction_id=suggestion.transaction_id, user=reviewer_a,
                               account=suggestion.account, expected_decision_id=suggestion.pk)
    assert Transaction.objects.get(pk=suggestion.transaction_id).account == sales


def test_always_like_this_creates_a_rule_for_the_vendor(company_a, reviewer_a, admin_a):
    first, second = _suggest(company_a, 2)
    sales = Account.objects.get(company=company_a, code="8000")

    transaction_categorize(transaction_id=first.transaction_id, user=reviewer_a, account=sales, remember_as_rule=True)

    rule = Rule.objects.get()
    assert (rule.status, rule.account_code) == (RuleStatus.PROPOSED, "8000")  # a reviewer proposes
    assert rule.conditions == [{"field": "counterparty", "op": "equals", "value": "STAPLES"},  # the vendor key
                               {"field": "direction", "op": "out", "value": ""}]


def test_bulk_approval_approves_open_suggestions_and_counts_the_rest(company_a, reviewer_a, admin_a):
    open_ones = _suggest(company_a, 3)
    [placeholder_line] = add_lines(company_a, "NEW VENDOR", 1)
    placeholder = Decision.objects.create(company=company_a, transaction=placeholder_line,
                                          method=DecisionMethod.HUMAN, status=DecisionStatus.NEEDS_REVIEW)
    transaction_categorize(transaction_id=open_ones[0].transaction_id, user=admin_a,
                           account=Account.objects.get(company=company_a, code="8000"))

    result = decisions_approve(decision_ids=[d.pk for d in open_ones] + [placeholder.pk], user=reviewer_a)

    assert (result["approved"], result["skipped"]) == (2, {"already_decided": 1, "no_suggestion": 1})
    assert set(Transaction.objects.filter(account__code="6100").values_list("pk", flat=True)) == {
        d.transaction_id for d in open_ones[1:]}


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_on_one_item_exactly_one_wins(company_a, reviewer_a, admin_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serializes writers anyway")  # CI runs PostgreSQL
    suggestions = _suggest(company_a, 20)
    sales = Account.objects.get(company=company_a, code="8000")
    office = Account.objects.get(company=company_a, code="6100")
    outcomes: list[str] = []
    lock = threading.Lock()

    def review(user, account, decision):
        from django.db import connection as thread_connection

        try:
            transaction_categorize(transaction_id=decision.transaction_id, user=user, account=account,
                                   expected_decision_id=decision.pk)
            result = "won"
        except DecisionConflict:
            result = "lost"
        finally:
            thread_connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=review, args=(user, account, decision))
               for decision in suggestions for user, account in ((reviewer_a, office), (admin_a, sales))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("won") == 20 and outcomes.count("lost") == 20
    assert Decision.objects.filter(is_current=True).count() == 20
    assert Transaction.objects.filter(confirmed_at__isnull=False).count() == 20


def test_always_like_this_twice_for_one_vendor_keeps_one_rule_and_saves_both_corrections(company_a, reviewer_a):
    first, second = _suggest(company_a, 2)
    sales = Account.objects.get(company=company_a, code="8000")

    for suggestion in (first, second):
        transaction_categorize(transaction_id=suggestion.transaction_id, user=reviewer_a, account=sales,
                               remember_as_rule=True)

    assert Rule.objects.count() == 1
    assert Transaction.objects.filter(account=sales).count() == 2
