"""Rule promotion: thresholds at their boundaries, the lookback window, confirmed history only, re-proposal."""
from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from rules.engine.promotion import LabeledRow, promotion_candidates
from rules.models import Rule, RuleSource, RuleStatus
from rules.services.lifecycle import rule_approve, rule_create, rule_reject
from rules.services.promotion import rules_promote
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import AuditEvent

BARS = {"min_support": 20, "min_precision": Decimal("0.95")}


def _rows(vendor: str, **accounts: int) -> list[LabeledRow]:
    return [LabeledRow(vendor, "out", code.lstrip("_")) for code, count in accounts.items() for _ in range(count)]


def test_support_19_is_not_enough_and_20_is():
    assert promotion_candidates(_rows("STAPLES", _6100=19), **BARS) == []
    [candidate] = promotion_candidates(_rows("STAPLES", _6100=20), **BARS)
    assert (candidate.support, candidate.majority, candidate.precision) == (20, 20, Decimal("1.0000"))


def test_precision_94_9_percent_is_not_enough_and_95_is():
    assert promotion_candidates(_rows("A", _6100=949, _8000=51), **BARS) == []
    [candidate] = promotion_candidates(_rows("A", _6100=950, _8000=50), **BARS)
    assert (candidate.account_code, candidate.precision) == ("6100", Decimal("0.9500"))
    assert candidate.accounts == (("6100", 950), ("8000", 50))


def test_directions_are_separate_groups():
    rows = _rows("ACME", _6100=20) + [LabeledRow("ACME", "in", "8000")] * 20
    assert {(c.direction, c.account_code) for c in promotion_candidates(rows, **BARS)} == {("out", "6100"), ("in", "8000")}


def test_a_vendor_with_twenty_confirmed_lines_becomes_a_proposed_rule_with_its_backtest(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    add_lines(company_a, "HAMILTON COFFEE", 4)  # not categorized yet: the backtest shows the rule would take them

    summary = rules_promote(company=company_a)

    rule = Rule.objects.get()
    assert summary["proposed_rule_ids"] == [rule.id]
    assert (rule.status, rule.source, rule.account_code) == (RuleStatus.PROPOSED, RuleSource.AUTO_PROMOTED, "6100")
    assert rule.conditions == [
        {"field": "counterparty", "op": "equals", "value": "HAMILTON COFFEE"},
        {"field": "direction", "op": "out", "value": ""},
    ]
    assert (rule.support, rule.precision, rule.promotion_key) == (20, Decimal("1.0000"), "out:HAMILTON COFFEE")
    assert (rule.backtest["would_match"], rule.backtest["conflicts"], rule.backtest["uncategorized"]) == (24, 0, 4)
    assert rule.backtest["accounts"] == {"6100": 20}
    assert AuditEvent.objects.filter(action="rule.propose", object_id=str(rule.id), actor_label="system:rule-promotion").exists()


def test_promotion_counts_conflicts_of_unconfirmed_history_in_the_backtest(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    add_lines(company_a, "HAMILTON COFFEE", 3, account="8000", confirmed_days_ago=None)  # a machine's decision

    rules_promote(company=company_a)

    rule = Rule.objects.get()
    assert (rule.support, rule.backtest["would_match"], rule.backtest["conflicts"]) == (20, 23, 3)


def test_only_history_confirmed_by_people_counts(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 30, account="6100", confirmed_days_ago=None)
    assert rules_promote(company=company_a)["candidates"] == 0
    assert not Rule.objects.exists()


@pytest.mark.parametrize(("days_ago", "proposed"), [(89, 1), (91, 0)])
def test_the_lookback_window_is_90_days_of_confirmations(company_a, days_ago, proposed):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100", confirmed_days_ago=days_ago)
    assert rules_promote(company=company_a)["proposed"] == proposed


def test_the_bars_are_settings(company_a, settings):
    settings.RULE_PROMOTION_MIN_SUPPORT = 5
    add_lines(company_a, "HAMILTON COFFEE", 5, account="6100")
    assert rules_promote(company=company_a)["proposed"] == 1


def test_running_promotion_twice_proposes_nothing_new(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    rules_promote(company=company_a)

    again = rules_promote(company=company_a)

    assert (again["proposed"], again["refreshed"], again["skipped"]) == (0, 0, {"unchanged": 1})
    assert Rule.objects.count() == 1


def test_a_waiting_proposal_gets_fresh_evidence(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    rules_promote(company=company_a)
    add_lines(company_a, "HAMILTON COFFEE", 5, account="6100")

    assert rules_promote(company=company_a)["refreshed"] == 1
    assert Rule.objects.get().support == 25


def test_a_rejected_proposal_returns_only_when_the_evidence_grows_materially(company_a, admin_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    rules_promote(company=company_a)
    rule_reject(rules=[Rule.objects.get()], user=admin_a)

    add_lines(company_a, "HAMILTON COFFEE", 9, account="6100")  # 29 < 1.5 x 20
    assert rules_promote(company=company_a)["skipped"] == {"rejected_before": 1}
    assert Rule.objects.get().status == RuleStatus.REJECTED

    add_lines(company_a, "HAMILTON COFFEE", 1, account="6100")  # 30 = 1.5 x 20
    assert rules_promote(company=company_a)["refreshed"] == 1
    rule = Rule.objects.get()
    assert (rule.status, rule.support) == (RuleStatus.PROPOSED, 30)


def test_a_rejected_proposal_returns_when_its_majority_account_changes(company_a, admin_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100", confirmed_days_ago=80)
    rules_promote(company=company_a)
    rule_reject(rules=[Rule.objects.get()], user=admin_a)
    # People now book the vendor elsewhere; the old lines leave the window.
    from transactions.models import Transaction

    Transaction.objects.filter(company=company_a).delete()
    add_lines(company_a, "HAMILTON COFFEE", 20, account="8000")

    rules_promote(company=company_a)

    rule = Rule.objects.get()
    assert (rule.status, rule.account_code, rule.version) == (RuleStatus.PROPOSED, "8000", 2)


def test_an_active_rule_for_the_vendor_means_no_proposal(company_a, admin_a, reviewer_a):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("HAMILTON", op="contains", field="description"))
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")

    summary = rules_promote(company=company_a)

    assert (summary["proposed"], summary["skipped"]) == (0, {"already_covered": 1})


def test_approved_promoted_rules_are_not_proposed_again(company_a, admin_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    rules_promote(company=company_a)
    rule_approve(rules=[Rule.objects.get()], user=admin_a)
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")

    assert rules_promote(company=company_a)["skipped"] == {"already_active": 1}


def test_another_companys_history_never_proposes_rules_here(company_a, company_b):
    from transactions.tests.factories import AccountFactory

    AccountFactory(company=company_b, code="6100", name="Office")
    add_lines(company_b, "HAMILTON COFFEE", 25, account="6100")

    assert rules_promote(company=company_a)["confirmed_transactions"] == 0
    assert not Rule.objects.filter(company=company_a).exists()


def test_promote_rules_command_prints_the_summary_as_json(company_a):
    add_lines(company_a, "HAMILTON COFFEE", 20, account="6100")
    out = StringIO()

    call_command("promote_rules", "--company", company_a.slug, stdout=out)

    summary = json.loads(out.getvalue())
    assert (summary["company"], summary["proposed"], summary["confirmed_transactions"]) == ("alpha-bakery", 1, 20)
