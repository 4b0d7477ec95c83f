"""Drift: live automation rate and reviewers' agreement against what training measured."""
from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from decisions.models import Decision, DecisionMethod, DecisionStatus
from mlmodels.models import ModelVersion
from mlmodels.selectors import model_drift
from rules.tests.factories import add_lines


def _version(company) -> ModelVersion:
    return ModelVersion.objects.create(
        company=company, number=1, algorithm="test", artifact="x.joblib", sha256="0" * 64, is_active=True,
        metrics={"coverage_at_threshold": 0.6, "precision_at_threshold": 0.99},
    )


def _decide(company, version, count, *, method, status=DecisionStatus.AUTO_APPROVED, confidence="0.95",
            reviewed=False):
    lines = add_lines(company, "VENDOR", count)
    Decision.objects.bulk_create(
        Decision(company=company, transaction=line, method=method, status=status, confidence=Decimal(confidence),
                 model_version=version, reviewed_at=timezone.now() if reviewed else None)
        for line in lines
    )


def test_a_model_automating_far_less_than_at_training_is_flagged(company_a):
    version = _version(company_a)
    _decide(company_a, version, 50, method=DecisionMethod.ML)
    _decide(company_a, version, 150, method=DecisionMethod.ML_SUGGESTION, status=DecisionStatus.NEEDS_REVIEW,
            confidence="0.75")

    drift = model_drift(version=version)

    assert (drift["decisions"], drift["automation_rate"], drift["drifting"]) == (200, 0.25, True)
    assert drift["flags"] == ["live automation rate 25% is well below the 60% measured at training"]
    assert drift["confidence_histogram"][9] == 50 and drift["confidence_histogram"][7] == 150
    assert drift["daily"][0]["decisions"] == 200 and drift["daily"][0]["automated"] == 50


def test_reviewers_correcting_the_model_often_flag_it(company_a):
    version = _version(company_a)
    _decide(company_a, version, 130, method=DecisionMethod.ML)  # 130 of 200 automated: healthy
    _decide(company_a, version, 40, method=DecisionMethod.ML_SUGGESTION, status=DecisionStatus.APPROVED, reviewed=True)
    _decide(company_a, version, 30, method=DecisionMethod.ML, status=DecisionStatus.CORRECTED, reviewed=True)

    drift = model_drift(version=version)

    assert (drift["reviewed"], drift["agreement"]) == (70, 0.5714)
    assert drift["flags"] == ["reviewers agree with 57% of its answers; training measured 99%"]


def test_too_little_evidence_flags_nothing(company_a):
    version = _version(company_a)
    _decide(company_a, version, 20, method=DecisionMethod.ML_SUGGESTION, status=DecisionStatus.NEEDS_REVIEW)

    drift = model_drift(version=version)

    assert (drift["automation_rate"], drift["drifting"], drift["flags"]) == (0.0, False, [])


def test_the_model_page_and_the_api_show_the_drift(company_a, accountant_a, client_for, token_client_for):
    version = _version(company_a)
    _decide(company_a, version, 50, method=DecisionMethod.ML)
    _decide(company_a, version, 150, method=DecisionMethod.ML_SUGGESTION, status=DecisionStatus.NEEDS_REVIEW)

    page = client_for(accountant_a).get(f"/models/{company_a.slug}/{version.pk}/").content.decode()
    body = token_client_for(accountant_a).get(f"/api/models/{version.pk}").json()

    assert "Drifting: live automation rate 25% is well below the 60% measured at training" in page
    assert body["drift"]["drifting"] is True and body["drift"]["automation_rate"] == 0.25


def test_a_global_versions_details_are_for_superusers_only(company_a, accountant_a, superuser, client_for,
                                                           token_client_for):
    shared = ModelVersion.objects.create(
        company=None, number=1, algorithm="test", artifact="g.joblib", sha256="0" * 64, is_active=True,
        metrics={"accuracy": 0.8, "per_account": {"7777": {"support": 12}}, "confusion": {"labels": ["7777"]}},
        training_summary={"rows": 900, "companies": ["beta-builders"], "classes": {"7777": 12}},
    )

    listed = token_client_for(accountant_a).get("/api/models/", {"company": "alpha-bakery"}).json()
    detail = token_client_for(accountant_a).get(f"/api/models/{shared.pk}").json()
    page = client_for(accountant_a).get(f"/models/alpha-bakery/{shared.pk}/")
    full = token_client_for(superuser).get(f"/api/models/{shared.pk}").json()

    assert listed[0]["metrics"] == {"accuracy": 0.8} and "7777" not in str(listed) and "beta" not in str(listed)
    assert "7777" not in str(detail) and detail["training_summary"] == {"rows": 900, "date_from": None, "date_to": None}
    assert page.status_code == 403
    assert full["metrics"]["per_account"] == {"7777": {"support": 12}}
