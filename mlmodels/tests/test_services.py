"""Training, activation and rollback of classifier versions, the per-process model cache, and the ML stage of
classification (with a missing or tampered artifact falling back to review)."""
from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import transactions_classify
from mlmodels.exceptions import NotEnoughHistory
from mlmodels.inference import active_model_for
from mlmodels.models import ModelVersion
from mlmodels.services import model_activate, model_train, training_rows
from mlmodels.tests.factories import demo_company_with_history, uncategorized_lines
from transactions.models import AuditEvent, Transaction, TransactionStatus


@pytest.fixture
def company(db):
    return demo_company_with_history(1500)


def test_training_needs_enough_confirmed_history(db, settings):
    settings.ML_MIN_TRAINING_ROWS = 100
    small = demo_company_with_history(40)
    with pytest.raises(NotEnoughHistory) as caught:
        model_train(company=small)
    assert caught.value.extra == {"rows": 40, "needed": 100}
    assert not ModelVersion.objects.exists()


def test_training_learns_only_from_people_and_rules(db):
    company = demo_company_with_history(60)
    demo_company_with_history(30, seed=2, confirmed=False)  # a machine's unreviewed decisions: not labels
    assert len(training_rows(company=company)) == 60


def test_the_first_version_is_trained_stored_and_activated(company):
    version = model_train(company=company)

    version.refresh_from_db()
    assert (version.number, version.is_active, version.scope) == (1, True, "company")
    assert version.activation_note.startswith("First version")
    assert version.training_summary["rows"] == 1500
    metrics = version.metrics
    assert 0.5 < metrics["accuracy"] < 1.0  # noisy bank data: never perfect
    assert {"macro_f1", "per_account", "confusion", "coverage_at_threshold", "precision_at_threshold",
            "calibration_error", "reliability", "coverage_curve", "cv"} <= set(metrics)
    assert AuditEvent.objects.filter(action="model.activate", object_id=str(version.pk)).exists()


def test_a_version_that_is_not_better_on_the_same_held_out_rows_is_not_activated(company):
    first = model_train(company=company)
    second = model_train(company=company)  # same rows, same seed: exactly as accurate

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_active, second.is_active, second.number) == (True, False, 2)
    assert second.activation_note.startswith("Not activated: active v1")


def test_a_new_version_is_compared_on_rows_the_active_one_never_saw(company):
    first = model_train(company=company)
    first.refresh_from_db()
    later = datetime.date.fromisoformat(first.training_summary["date_to"]) + datetime.timedelta(days=1)
    demo_company_with_history(1500, seed=5, start=later)  # newer confirmed history

    second = model_train(company=company)

    second.refresh_from_db()
    assert "held-out rows neither had seen" in second.activation_note
    assert second.is_active == second.activation_note.startswith("Beat active v1")


def test_an_admin_can_activate_any_version_and_roll_back(company, admin_a):
    first = model_train(company=company)
    second = model_train(company=company)

    model_activate(version=second, user=admin_a)
    assert list(ModelVersion.objects.filter(is_active=True)) == [second]
    model_activate(version=first, user=admin_a)  # the rollback
    assert list(ModelVersion.objects.filter(is_active=True)) == [first]
    assert AuditEvent.objects.filter(action="model.activate", actor=admin_a).count() == 2


def test_the_loaded_model_is_cached_and_reloaded_when_another_version_is_activated(company, admin_a):
    first = model_train(company=company)
    second = model_train(company=company)

    cached = active_model_for(company_id=company.id)
    assert cached.version.pk == first.pk
    assert active_model_for(company_id=company.id).model is cached.model  # not loaded twice

    model_activate(version=second, user=admin_a)
    reloaded = active_model_for(company_id=company.id)
    assert reloaded.version.pk == second.pk and reloaded.model is not cached.model


def test_classification_sends_what_rules_leave_to_the_model(company):
    version = model_train(company=company)
    lines = uncategorized_lines(company, 300)

    result = transactions_classify(company=company)

    assert result["transactions"] == 300
    methods = result["by_method"]
    assert methods.get("ml", 0) > 0 and sum(methods.values()) == 300
    auto = Decision.objects.filter(method=DecisionMethod.ML, status=DecisionStatus.AUTO_APPROVED).first()
    assert auto.confidence >= company.confidence_threshold
    assert auto.explanation["scope"] == "company" and auto.explanation["model_number"] == 1
    assert auto.model_version_id == version.pk and auto.explanation["model_version"] == version.pk
    assert auto.alternatives and all(set(a) == {"account", "probability"} for a in auto.alternatives)
    mirrored = Transaction.objects.get(pk=auto.transaction_id)
    assert (mirrored.status, mirrored.account_id) == (TransactionStatus.CATEGORIZED, auto.account_id)
    for suggestion in Decision.objects.filter(method=DecisionMethod.ML_SUGGESTION):
        assert company.review_threshold <= suggestion.confidence
        assert Transaction.objects.get(pk=suggestion.transaction_id).status == TransactionStatus.NEEDS_REVIEW
    assert len(lines) == Decision.objects.filter(is_current=True).count()


def test_nothing_is_automatic_when_the_threshold_is_one(company):
    model_train(company=company)
    company.ml_confidence_threshold = 1
    company.save()
    uncategorized_lines(company, 100)

    assert "ml" not in transactions_classify(company=company)["by_method"]


def test_a_tampered_artifact_sends_rows_to_review_with_the_reason(company, settings):
    version = model_train(company=company)
    path = settings.LEDGER_MODELS_DIR / version.artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    uncategorized_lines(company, 20)

    result = transactions_classify(company=company)

    assert result["by_method"] == {"review": 20}
    reason = Decision.objects.first().explanation["reason"]
    assert f"model v{version.number} cannot be used" in reason


def test_without_any_model_rows_go_to_review_saying_so(db):
    company = demo_company_with_history(10)
    uncategorized_lines(company, 5)

    assert transactions_classify(company=company)["by_method"] == {"review": 5}
    assert "no trained model" in Decision.objects.first().explanation["reason"]


def test_the_global_model_serves_a_company_without_its_own(db):
    demo_company_with_history(1200)
    newcomer = demo_company_with_history(0, slug="cincy-web-builders")
    model_train(company=None)
    uncategorized_lines(newcomer, 50)

    transactions_classify(company=newcomer)

    scopes = {d.explanation.get("scope") for d in Decision.objects.filter(method__in=["ml", "ml_suggestion"])}
    assert scopes == {"global"}


def test_train_classifier_command_prints_the_metrics(company):
    out = StringIO()
    call_command("train_classifier", "--company", company.slug, stdout=out)
    body = json.loads(out.getvalue())
    assert (body["number"], body["active"], body["training"]["rows"]) == (1, True, 1500)
    assert body["metrics"]["accuracy"] == ModelVersion.objects.get().metrics["accuracy"]


def test_train_classifier_command_explains_missing_history(db):
    demo_company_with_history(5)
    with pytest.raises(CommandError, match="training needs at least"):
        call_command("train_classifier", "--company", "hamilton-coffee", stdout=StringIO())


@pytest.mark.parametrize(("confidence", "auto_approvable", "route"), [
    ("0.8500", True, "ml"), ("0.8499", True, "ml_suggestion"), ("0.8500", False, "ml_suggestion"),
    ("0.7000", True, "ml_suggestion"), ("0.6999", True, "human"), ("1.0000", True, "ml"),
])
def test_thresholds_are_inclusive_at_their_exact_values(confidence, auto_approvable, route):
    from decimal import Decimal

    from decisions.services import ml_route

    assert ml_route(confidence=Decimal(confidence), auto_approvable=auto_approvable,
                    auto_threshold=Decimal("0.85"), review_threshold=Decimal("0.70")) == route


def test_an_account_can_demand_more_confidence_than_the_company(company):
    from transactions.models import Account

    model_train(company=company)
    uncategorized_lines(company, 300)
    transactions_classify(company=company)
    busiest = (Decision.objects.filter(method="ml").values_list("account__code", flat=True).first())
    Decision.objects.all().delete()
    Transaction.objects.filter(confirmed_at__isnull=True).update(status=TransactionStatus.UNCATEGORIZED, account=None)
    Account.objects.filter(company=company, code=busiest).update(ml_confidence_threshold=1)

    transactions_classify(company=company)

    assert not Decision.objects.filter(method="ml", account__code=busiest).exists()
    assert Decision.objects.filter(method="ml_suggestion", account__code=busiest).exists()
    assert Decision.objects.filter(method="ml").exclude(account__code=busiest).exists()


def test_switching_the_classifier_off_sends_everything_past_the_rules_to_review(company, settings):
    model_train(company=company)
    uncategorized_lines(company, 30)
    settings.USE_ML = False

    assert transactions_classify(company=company)["by_method"] == {"review": 30}
    assert Decision.objects.first().explanation["reason"] == "the classifier is switched off (USE_ML=0)"
