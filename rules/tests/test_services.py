"""Rule lifecycle: who may create/edit/approve/reject/retire, versions, audit, the compiled-rules cache, backtests."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from rules.exceptions import RuleInvalid, RuleStateConflict
from rules.models import Rule, RuleStatus, RuleVersion
from rules.selectors import company_rules_compiled
from rules.services.backtest import rule_test
from rules.services.lifecycle import rule_approve, rule_create, rule_reject, rule_retire, rule_update
from rules.tests.factories import add_lines, vendor_rule
from transactions.models import AuditEvent


def test_an_admins_new_rule_is_active_and_a_reviewers_is_proposed(company_a, admin_a, reviewer_a):
    by_admin = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    by_reviewer = rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("OFFICE DEPOT"))

    assert (by_admin.status, by_admin.approved_by) == (RuleStatus.ACTIVE, admin_a)
    assert (by_reviewer.status, by_reviewer.approved_by) == (RuleStatus.PROPOSED, None)
    assert list(RuleVersion.objects.filter(rule=by_admin).values_list("version", flat=True)) == [1]
    assert AuditEvent.objects.filter(action="rule.create", object_id=str(by_admin.pk), actor=admin_a).exists()


def test_an_accountant_cannot_create_rules(company_a, accountant_a):
    with pytest.raises(PermissionDenied):
        rule_create(company=company_a, user=accountant_a, raw=vendor_rule("STAPLES"))
    assert not Rule.objects.exists()


def test_a_reviewer_cannot_create_an_active_rule(company_a, reviewer_a):
    with pytest.raises(PermissionDenied):
        rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("STAPLES"), activate=True)


def test_every_problem_of_a_rule_is_reported_with_its_path(company_a, admin_a):
    raw = {
        "name": "",
        "conditions": [
            {"field": "description", "op": "regex", "value": "(a+)+$"},
            {"field": "amount", "op": "between", "value": ["20", "10"]},
            {"field": "colour", "op": "equals", "value": "red"},
        ],
        "account_code": "6100",
    }
    with pytest.raises(RuleInvalid) as caught:
        rule_create(company=company_a, user=admin_a, raw=raw)

    fields = caught.value.extra["fields"]
    assert set(fields) == {"name", "conditions[0].value", "conditions[1].value", "conditions[2].field"}
    assert "exponential time" in " ".join(fields["conditions[0].value"])
    assert not Rule.objects.exists()


def test_a_rule_must_assign_an_account_of_the_companys_chart(company_a, company_b, admin_a):
    with pytest.raises(RuleInvalid) as caught:
        rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES", account="9999"))
    assert list(caught.value.extra["fields"]) == ["account_code"]
    with pytest.raises(RuleInvalid):  # the bank account is no category
        rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES", account="1000"))


def test_names_are_unique_per_company(company_a, admin_a):
    rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES", name="Office"))
    with pytest.raises(RuleInvalid) as caught:
        rule_create(company=company_a, user=admin_a, raw=vendor_rule("OFFICE DEPOT", name="Office"))
    assert caught.value.extra["fields"] == {"name": ["already taken"]}


def test_changing_what_a_rule_matches_makes_a_new_version_and_resets_its_evidence(company_a, admin_a):
    rule = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    Rule.objects.filter(pk=rule.pk).update(hit_count=40, corrected_count=3)

    renamed = rule_update(rule=rule, user=admin_a, raw={"name": "Staples supplies"})
    assert (renamed.version, renamed.hit_count) == (1, 40)

    retargeted = rule_update(rule=rule, user=admin_a, raw={"account_code": "8000"})
    assert (retargeted.version, retargeted.hit_count, retargeted.corrected_count) == (2, 0, 0)
    snapshots = {version.version: version.snapshot["account_code"] for version in RuleVersion.objects.filter(rule=rule)}
    assert snapshots == {1: "6100", 2: "8000"}


def test_only_admins_edit_active_rules_and_reviewers_edit_proposed_ones(company_a, admin_a, reviewer_a):
    active = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    proposed = rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("OFFICE DEPOT"))

    with pytest.raises(PermissionDenied):
        rule_update(rule=active, user=reviewer_a, raw={"priority": 5})
    assert rule_update(rule=proposed, user=reviewer_a, raw={"priority": 5}).priority == 5


def test_approve_reject_retire_move_rules_through_their_states(company_a, admin_a, reviewer_a):
    first, second, third = (
        rule_create(company=company_a, user=reviewer_a, raw=vendor_rule(name)) for name in ("A", "B", "C")
    )
    rule_approve(rules=[first, second], user=admin_a)
    rule_reject(rules=[third], user=admin_a, reason="too broad")
    rule_retire(rules=[second], user=admin_a, reason="vendor changed")

    assert dict(Rule.objects.values_list("name", "status")) == {
        "A rule": RuleStatus.ACTIVE, "B rule": RuleStatus.RETIRED, "C rule": RuleStatus.REJECTED,
    }
    reject = AuditEvent.objects.get(action="rule.reject")
    assert (reject.before["status"], reject.after["status"], reject.after["reason"]) == (
        "proposed", "rejected", "too broad"
    )


def test_a_bulk_action_with_one_rule_in_the_wrong_state_changes_none(company_a, admin_a, reviewer_a):
    proposed = rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("A"))
    rejected = rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("B"))
    rule_reject(rules=[rejected], user=admin_a)

    with pytest.raises(RuleStateConflict):
        rule_approve(rules=[proposed, rejected], user=admin_a)
    assert Rule.objects.get(pk=proposed.pk).status == RuleStatus.PROPOSED


def test_only_admins_approve(company_a, reviewer_a):
    proposed = rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("A"))
    with pytest.raises(PermissionDenied):
        rule_approve(rules=[proposed], user=reviewer_a)
    assert Rule.objects.get(pk=proposed.pk).status == RuleStatus.PROPOSED


def test_the_compiled_rules_are_reused_until_a_rule_changes(company_a, admin_a):
    rule = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES"))
    first = company_rules_compiled(company_id=company_a.id)
    assert company_rules_compiled(company_id=company_a.id) is first

    rule_update(rule=rule, user=admin_a, raw={"account_code": "8000"})
    recompiled = company_rules_compiled(company_id=company_a.id)
    assert recompiled is not first
    assert [spec.account_code for spec in recompiled.specs] == ["8000"]


def test_proposed_and_retired_rules_are_not_compiled(company_a, admin_a, reviewer_a):
    rule_create(company=company_a, user=reviewer_a, raw=vendor_rule("PROPOSED"))
    retired = rule_create(company=company_a, user=admin_a, raw=vendor_rule("RETIRED"))
    rule_retire(rules=[retired], user=admin_a)
    assert len(company_rules_compiled(company_id=company_a.id)) == 0


def test_a_global_rule_applies_to_every_company_until_a_company_overrides_it(company_a, company_b, admin_a):
    from transactions.tests.factories import AccountFactory

    AccountFactory(company=company_b, code="6100", name="Office")
    shared = rule_create(company=None, user=None, raw=vendor_rule("STAPLES", name="Staples"))
    assert [spec.rule_id for spec in company_rules_compiled(company_id=company_b.id).specs] == [shared.id]

    override = rule_create(company=company_a, user=admin_a, raw=vendor_rule("STAPLES", account="8000"),
                           overrides=shared)
    assert [spec.rule_id for spec in company_rules_compiled(company_id=company_a.id).specs] == [override.id]
    assert [spec.rule_id for spec in company_rules_compiled(company_id=company_b.id).specs] == [shared.id]


def test_a_global_rule_is_skipped_where_its_account_is_not_in_the_chart(company_b):
    rule_create(company=None, user=None, raw=vendor_rule("STAPLES", name="Staples"))  # company B has no 6100
    assert len(company_rules_compiled(company_id=company_b.id)) == 0


def test_only_a_superuser_changes_global_rules(company_a, admin_a, superuser):
    shared = rule_create(company=None, user=superuser, raw=vendor_rule("STAPLES", name="Staples"))
    with pytest.raises(PermissionDenied):
        rule_retire(rules=[shared], user=admin_a)
    with pytest.raises(PermissionDenied):
        rule_create(company=None, user=admin_a, raw=vendor_rule("OFFICE DEPOT"))


def test_testing_a_rule_counts_matches_and_conflicts_on_known_history(company_a):
    add_lines(company_a, "STAPLES STORE", 7, account="6100")
    add_lines(company_a, "STAPLES STORE", 2, account="8000")
    add_lines(company_a, "STAPLES STORE", 3)  # uncategorized
    add_lines(company_a, "OFFICE DEPOT", 5, account="6100")

    result = rule_test(company=company_a, raw=vendor_rule("STAPLES", op="contains", field="description"))

    assert (result.would_match, result.conflicts, result.uncategorized, result.scanned) == (12, 2, 3, 17)
    assert [example["current_account"] for example in result.conflict_examples] == ["8000", "8000"]
    assert len(result.match_examples) == 5
    assert not result.truncated
    assert not Rule.objects.exists()


def test_testing_a_rule_scans_at_most_the_configured_number_of_transactions(company_a, settings):
    settings.RULE_TEST_MAX_TRANSACTIONS = 4
    add_lines(company_a, "STAPLES STORE", 10, account="6100")
    result = rule_test(company=company_a, raw=vendor_rule("STAPLES", op="contains", field="description"))
    assert (result.scanned, result.would_match, result.truncated) == (4, 4, True)


def test_testing_an_invalid_rule_raises_like_saving_it(company_a):
    with pytest.raises(RuleInvalid):
        rule_test(company=company_a, raw=vendor_rule("(x+x+)+y", op="regex"))


def test_hits_are_added_to_each_rules_counter_in_one_statement(company_a, admin_a):
    """Classify records a chunk's hits at its end: each rule's counter grows by its hits, last_hit_at is set,
    rules without hits and updated_at (the compiled-rules cache stamp) are untouched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rules.services.lifecycle import rule_hits_record

    staples, depot, idle = (rule_create(company=company_a, user=admin_a, raw=vendor_rule(name))
                            for name in ("STAPLES", "OFFICE DEPOT", "COSTCO"))
    Rule.objects.filter(pk=staples.pk).update(hit_count=40)
    stamps = dict(Rule.objects.values_list("pk", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        rule_hits_record(hits={depot.pk: 5, staples.pk: 3})

    rules = {rule.pk: rule for rule in Rule.objects.all()}
    assert [(rules[r.pk].hit_count, rules[r.pk].last_hit_at is not None) for r in (staples, depot, idle)] == [
        (43, True), (5, True), (0, False)]
    assert rules[staples.pk].last_hit_at == rules[depot.pk].last_hit_at
    assert dict(Rule.objects.values_list("pk", "updated_at")) == stamps
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_chunks_add_up_their_hits_on_shared_counters(company_a, admin_a):
    """Chunks of many companies count hits on one global rule at once: none lost, no deadlock (ids in order)."""
    import threading

    from django.db import connection, transaction

    from rules.services.lifecycle import rule_hits_record

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers: PostgreSQL")
    first, second = (rule_create(company=company_a, user=admin_a, raw=vendor_rule(name))
                     for name in ("STAPLES", "OFFICE DEPOT"))
    errors: list[Exception] = []

    def record(hits):
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                rule_hits_record(hits=hits)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=record, args=({first.pk: 1, second.pk: 2} if i % 2 else
                                                     {second.pk: 2, first.pk: 1},)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(Rule.objects.values_list("hit_count", flat=True)) == [10, 20]
