"""Property-based fuzzing of the API from our own OpenAPI schema (schemathesis), in-process against the WSGI app.

- `test_valid_requests_get_documented_answers`: requests that fit the schema (positive mode), as accountant_a
  with an API token (admin_a for the admin-only audit trail), on a company A seeded through the real import
  pipeline. No 5xx; bodies, content types and
  headers match the schema; every status below 400 is documented. Error statuses (>= 400) are not yet
  documented by the views, so here they are only collected (a warning names each one); the strict check of
  error statuses is `test_error_statuses_are_documented` below, which lists per operation what is missing.
- `test_invalid_requests_never_cause_a_server_error`: requests that break the schema (negative mode): no 5xx.
- `test_error_statuses_are_documented`: every error status the API really answers (each one provoked by a
  request here) must be in the schema, so that clients can rely on it.
"""
from __future__ import annotations

import collections
import datetime
import json
import uuid
import warnings
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from jobs.services import job_run
from ledger.models import BankMatch, MatchStatus, Reconciliation, ReconciliationStatus
from ledger.services.postings import journal_entry_create
from ledger.services.reconciliation import reconciliation_run
from ledger_site.tests.test_authorization_matrix import EXPECTED as MATRIX_ROWS
from ledger_site.wsgi import application
from decisions.models import Decision
from mlmodels.models import ModelVersion
from rules.services.lifecycle import rule_create, rule_reject
from transactions.models import Account, ApiToken, ImportBatch, Transaction
from transactions.services.audit import audit_record
from transactions.services.imports import import_batch_submit
from transactions.services.tokens import api_token_create

RAW_SCHEMA: dict[str, Any] = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
HTTP_METHODS = ("get", "put", "patch", "post", "delete")
OPERATIONS = {
    (method.upper(), path): operation
    for path, item in RAW_SCHEMA["paths"].items()
    for method, operation in item.items() if method in HTTP_METHODS
}

# Excluded from fuzzing, each for a reason; the authorization matrix covers them (checked below).
EXCLUDED = {
    # The upload: the schema describes `file` as a string of format "uri" (drf-spectacular without
    # COMPONENT_SPLIT_REQUEST), so schemathesis sends a URL text instead of a file and every request is a 400;
    # and every accepted upload would enqueue a real Celery message after commit (transactional test database).
    # Covered by test_authorization_matrix.py, transactions/tests/test_imports_api.py and jobs/tests/test_api.py.
    ("POST", "/api/imports/"): "imports_create",
    ("POST", "/api/ingest/csv"): "ingest_csv_create",
}

HYPOTHESIS = hypothesis_settings(
    max_examples=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _load(mode: str) -> Any:
    config = SchemathesisConfig.from_dict({
        "generation": {"mode": mode, "max-examples": 30, "with-security-parameters": False, "database": "none"},
    })
    schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=config)
    schema.app = application
    return schema.exclude(operation_id=sorted(EXCLUDED.values()))


positive = _load("positive")
# Negative mode needs something to break: GET /api/tokens/ takes no input at all, and any text is a valid
# company reference in GET /api/jobs/company/{company_id} (unknown ones are 404s, checked in positive mode).
negative = _load("negative").exclude(operation_id=["tokens_list", "jobs_company_list"])

# References to the seeded objects, filled by the `seeded` fixture: the positive cases use them now and then in
# place of random values, so that the fuzzer also reaches the 200s (random uuids would only ever find 404s).
KNOWN_PATH: dict[str, list[Any]] = {}
KNOWN_QUERY: dict[str, list[Any]] = {}


@positive.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
    options = {
        name: st.sampled_from([value, *KNOWN_PATH[name]])
        for name, value in (path_parameters or {}).items() if KNOWN_PATH.get(name)
    }
    return st.fixed_dictionaries(options).map(lambda chosen: {**(path_parameters or {}), **chosen})


@positive.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy:
    options = {
        name: st.sampled_from([value, *KNOWN_QUERY[name]])
        for name, value in (query or {}).items() if KNOWN_QUERY.get(name)
    }
    return st.fixed_dictionaries(options).map(lambda chosen: {**(query or {}), **chosen} if query else query)


def _import(company, content: bytes, *, labeled: bool = False) -> ImportBatch:
    batch = import_batch_submit(
        company=company, bank_account=company.accounts.get(code="1000"), upload=SimpleUploadedFile("f.csv", content),
        filename="f.csv", user=None, labeled=labeled, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="schemathesis")
    batch.refresh_from_db()
    return batch


@pytest.fixture
def seeded(company_a, company_b, accountant_a, admin_a, outsider) -> dict[str, Any]:
    """Company A with imported transactions (uncategorized and labeled ones), jobs, an audit trail and tokens."""
    plain = _import(company_a, b"Date,Description,Amount\n2025-01-10,STAPLES 00123,-12.50\n"
                               b"2025-01-15,SQ *HAMILTON COFFEE #1123,-4.75\n2025-01-20,STRIPE PAYOUT,1500.00\n")
    labeled = _import(company_a, b"date,description,amount,account\n2025-02-10,OFFICE DEPOT,-30.00,6100\n"
                                 b"2025-02-11,CATERING,900.00,8000\n", labeled=True)
    other = _import(company_b, b"Date,Description,Amount\n2025-03-01,LUMBER YARD,-99.00\n")
    audit_record(action="fuzz.seed", company=company_a, actor=admin_a, target=company_a)
    victim, _ = api_token_create(user=accountant_a, name="revocable")
    foreign, _ = api_token_create(user=outsider, name="not yours")
    tokens = {user: api_token_create(user=user, name="schemathesis") for user in (accountant_a, admin_a)}
    proposed = rule_create(company=company_a, user=None, raw=_rule(), activate=False)
    active = rule_create(company=company_a, user=None, raw=_rule(name="Coffee", value="HAMILTON COFFEE"))
    model_version = ModelVersion.objects.create(
        company=company_a, number=1, algorithm="test", artifact="alpha/none.joblib", sha256="0" * 64)
    reconciliation = _reconciled_january(company_a)
    KNOWN_PATH.update(
        reconciliation_id=[reconciliation.pk],
        match_id=list(BankMatch.objects.filter(reconciliation=reconciliation).values_list("pk", flat=True)),
    )
    KNOWN_PATH.update(
        version_id=[model_version.pk],
        rule_id=[proposed.pk, active.pk],
        transaction_id=list(Transaction.objects.filter(import_batch__in=[plain, other]).values_list("pk", flat=True)),
    )
    KNOWN_PATH.update(
        job_id=[str(plain.job_id), str(other.job_id)],
        import_id=[str(plain.id), str(labeled.id), str(other.id)],
        company_id=[company_a.slug, str(company_a.pk), company_b.slug],
        token_id=[victim.pk, foreign.pk],
    )
    KNOWN_QUERY.update(
        company=[company_a.slug, str(company_a.pk), company_b.slug],
        import_batch=[str(plain.id), str(other.id)],
        account=[str(company_a.accounts.get(code="6100").pk)],
        status=["uncategorized", "categorized"],
        date_from=["2025-01-01"], date_to=["2025-12-31"],
        action=["fuzz.seed", "import.upload"],
    )
    yield {"accountant": tokens[accountant_a], "admin": tokens[admin_a]}
    KNOWN_PATH.clear()
    KNOWN_QUERY.clear()


def _reconciled_january(company) -> Reconciliation:
    """A finished reconciliation of January with one suggested match: the staples were also entered by hand."""
    bank, office = company.accounts.get(code="1000"), company.accounts.get(code="6100")
    journal_entry_create(company=company, date=datetime.date(2025, 1, 9), memo="Staples by hand", post=True,
                         lines=[(office, Decimal("12.50"), Decimal("0")), (bank, Decimal("0"), Decimal("12.50"))])
    run = Reconciliation.objects.create(company=company, bank_account=bank, period_start=datetime.date(2025, 1, 1),
                                        period_end=datetime.date(2025, 1, 31))
    return reconciliation_run(reconciliation=run, closing_balance=Decimal("1482.75"), opening_balance=None,
                              window_days=3)


def _call(case: schemathesis.Case, seeded: dict[str, Any]) -> schemathesis.Response:
    # The audit trail is for admins: as accountant_a it would only ever answer 403 and its body would never be
    # checked against the schema, so that one operation is fuzzed with admin_a's token.
    token, key = seeded["admin" if case.operation.path == "/api/audit/" else "accountant"]
    # DELETE /api/tokens/{id} may draw the id of the token we authenticate with: keep it usable.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    return case.call(base_url="http://testserver", headers={"Authorization": f"Token {key}"})


class UndocumentedErrorStatus(UserWarning):
    """An error status the API answered that the operation's schema does not list."""


_WARNED: set[tuple[str, int]] = set()


@pytest.mark.django_db(transaction=True)
@positive.parametrize()
@HYPOTHESIS
def test_valid_requests_get_documented_answers(case, seeded):
    response = _call(case, seeded)

    strict = [checks.not_a_server_error, checks.content_type_conformance, checks.response_schema_conformance,
              checks.response_headers_conformance]
    # Status-code conformance only below 400 until the error responses are documented (see
    # test_error_statuses_are_documented, which is strict about them).
    if response.status_code < 400:
        strict.append(checks.status_code_conformance)
    elif str(response.status_code) not in case.operation.definition.raw.get("responses", {}):
        if (case.operation.label, response.status_code) not in _WARNED:
            _WARNED.add((case.operation.label, response.status_code))
            warnings.warn(UndocumentedErrorStatus(
                f"{case.operation.label} answered an undocumented {response.status_code}: {case.as_curl_command()}"
            ), stacklevel=1)
    case.validate_response(response, checks=strict)


@pytest.mark.django_db(transaction=True)
@negative.parametrize()
@HYPOTHESIS
def test_invalid_requests_never_cause_a_server_error(case, seeded):
    response = _call(case, seeded)

    case.validate_response(response, checks=[checks.not_a_server_error])


def test_only_the_upload_is_excluded_and_the_matrix_covers_it():
    assert set(EXCLUDED) <= set(OPERATIONS)
    assert set(EXCLUDED) <= set(MATRIX_ROWS), "an operation excluded from fuzzing must be in the matrix"
    fuzzed = {(op.ok().method.upper(), op.ok().path) for op in positive.get_all_operations()}
    assert fuzzed | set(EXCLUDED) == set(OPERATIONS)


# --- error statuses must be documented ---------------------------------------------------------------------

CSV = b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n"
AMBIGUOUS = b"Date,Description,Amount\n01/02/2025,STAPLES,-1.00\n03/04/2025,STAPLES,-2.00\n"


def _upload(company: str = "alpha-bakery", content: bytes | None = CSV, bank_account: str = "1000") -> dict[str, Any]:
    body: dict[str, Any] = {"company": company, "bank_account": bank_account}
    if content is not None:
        body["file"] = SimpleUploadedFile("f.csv", content)
    return {"data": body, "format": "multipart"}


def _upload_probes(path: str) -> dict[int, tuple[str, Any]]:
    return {
        400: ("accountant_a", lambda w: ("post", path, _upload(content=None))),
        404: ("accountant_a", lambda w: ("post", path, _upload(company="beta-builders"))),
        409: ("accountant_a", lambda w: ("post", path, _upload(bank_account=w["undoing_account"].code))),
        413: ("accountant_a", lambda w: ("post", path, _upload(content=CSV + b"2025-01-11,X,-1.00\n" * 80_000))),
        422: ("accountant_a", lambda w: ("post", path, _upload(content=AMBIGUOUS))),
        429: ("accountant_a", lambda w: ("post", path, _upload())),
    }


# Per operation: each error status the API answers, with who provokes it and how. 401 (no token) is added to
# every operation of the schema.
def _rule(**changes: Any) -> dict[str, Any]:
    value, op = changes.pop("value", "STAPLES"), changes.pop("op", "contains")
    return {"company": "alpha-bakery", "name": "Staples", "account_code": "6100",
            "conditions": [{"field": "description", "op": op, "value": value}], **changes}


def _bulk(rule: Any) -> dict[str, Any]:
    return {"data": {"action": "approve", "ids": [rule.pk]}, "format": "json"}


def _split_body(**extra: Any) -> dict[str, Any]:
    return {"data": {"parts": [{"account": "6100", "percent": "50"}, {"account": "8000"}], **extra}, "format": "json"}


def _decision_call(key: str, action: str, body: dict[str, Any] | None = None) -> Any:
    return lambda w: ("post", f"/api/decisions/{w[key].pk}/{action}", {"data": body or {}, "format": "json"})


def _rule_action_probes(action: str) -> dict[int, tuple[str, Any]]:
    def call(key: str, body: dict[str, Any] | None = None) -> Any:
        return lambda w: ("post", f"/api/rules/{w[key].pk}/{action}", {"data": body or {}, "format": "json"})
    return {
        400: ("admin_a", call("rule", {"reason": "x" * 301})),
        403: ("accountant_a", call("rule")),
        404: ("outsider", call("rule")),
        409: ("admin_a", call("rejected_rule")),
    }


ERROR_PROBES: dict[tuple[str, str], dict[int, tuple[str, Any]]] = {
    ("GET", "/api/audit/"): {
        400: ("admin_a", lambda w: ("get", "/api/audit/?company=alpha-bakery&date_from=yesterday", {})),
        403: ("accountant_a", lambda w: ("get", "/api/audit/?company=alpha-bakery", {})),
        404: ("admin_a", lambda w: ("get", "/api/audit/?company=beta-builders", {})),
    },
    ("POST", "/api/imports/"): _upload_probes("/api/imports/"),
    ("POST", "/api/ingest/csv"): _upload_probes("/api/ingest/csv"),
    ("GET", "/api/imports/{import_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/imports/{w['batch'].id}", {})),
    },
    ("GET", "/api/jobs/{job_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/jobs/{w['batch'].job_id}", {})),
    },
    ("GET", "/api/jobs/company/{company_id}"): {
        404: ("outsider", lambda w: ("get", "/api/jobs/company/alpha-bakery", {})),
    },
    ("GET", "/api/tokens/"): {},
    ("POST", "/api/tokens/"): {
        400: ("accountant_a", lambda w: ("post", "/api/tokens/", {"data": {"name": ""}, "format": "json"})),
    },
    ("DELETE", "/api/tokens/{token_id}"): {
        404: ("outsider", lambda w: ("delete", f"/api/tokens/{w['token'].pk}", {})),
    },
    ("GET", "/api/transactions/"): {
        400: ("accountant_a", lambda w: ("get", "/api/transactions/?amount_min=lots", {})),
        404: ("accountant_a", lambda w: ("get", "/api/transactions/?cursor=not-a-cursor", {})),
    },
    ("GET", "/api/transactions/{transaction_id}/decisions"): {
        404: ("outsider", lambda w: ("get", f"/api/transactions/{w['transaction'].pk}/decisions", {})),
    },
    ("GET", "/api/transactions/{transaction_id}/split"): {
        404: ("outsider", lambda w: ("get", f"/api/transactions/{w['transaction'].pk}/split", {})),
    },
    ("POST", "/api/transactions/{transaction_id}/split"): {
        400: ("admin_a", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/split",
                                    {"data": {"parts": [{"account": "6100", "percent": "60"}]}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/split", _split_body())),
        404: ("outsider", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/split", _split_body())),
        # The decision shown was decided meanwhile (the same 409 a posted transaction gets: a state conflict).
        409: ("admin_a", lambda w: ("post", f"/api/transactions/{w['decided'].transaction_id}/split",
                                    _split_body(expected_decision_id=w["decided"].pk))),
    },
    ("POST", "/api/transactions/{transaction_id}/categorize"): {
        400: ("admin_a", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/categorize",
                                    {"data": {"account": "9999"}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/categorize",
                                         {"data": {"account": "6100"}, "format": "json"})),
        404: ("outsider", lambda w: ("post", f"/api/transactions/{w['transaction'].pk}/categorize",
                                     {"data": {"account": "6100"}, "format": "json"})),
    },
    ("GET", "/api/rules/"): {
        404: ("outsider", lambda w: ("get", "/api/rules/?company=alpha-bakery", {})),
    },
    ("POST", "/api/rules/"): {
        400: ("admin_a", lambda w: ("post", "/api/rules/", {"data": _rule(value="(a+)+$", op="regex"), "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/rules/", {"data": _rule(), "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/rules/", {"data": _rule(), "format": "json"})),
    },
    ("POST", "/api/rules/test"): {
        400: ("accountant_a", lambda w: ("post", "/api/rules/test", {"data": _rule(account_code="9999"), "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/rules/test", {"data": _rule(), "format": "json"})),
    },
    ("POST", "/api/rules/bulk"): {
        400: ("admin_a", lambda w: ("post", "/api/rules/bulk", {"data": {"action": "approve", "ids": []}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/rules/bulk", _bulk(w["rule"]))),
        404: ("outsider", lambda w: ("post", "/api/rules/bulk", _bulk(w["rule"]))),
        409: ("admin_a", lambda w: ("post", "/api/rules/bulk", _bulk(w["rejected_rule"]))),
    },
    ("GET", "/api/rules/export"): {
        404: ("outsider", lambda w: ("get", "/api/rules/export?company=alpha-bakery", {})),
    },
    ("GET", "/api/rules/{rule_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/rules/{w['rule'].pk}", {})),
    },
    ("PATCH", "/api/rules/{rule_id}"): {
        400: ("admin_a", lambda w: ("patch", f"/api/rules/{w['rule'].pk}", {"data": {"conditions": []}, "format": "json"})),
        403: ("accountant_a", lambda w: ("patch", f"/api/rules/{w['rule'].pk}", {"data": {"priority": 1}, "format": "json"})),
        404: ("outsider", lambda w: ("patch", f"/api/rules/{w['rule'].pk}", {"data": {"priority": 1}, "format": "json"})),
        409: ("admin_a", lambda w: ("patch", f"/api/rules/{w['rejected_rule'].pk}",
                                    {"data": {"priority": 1}, "format": "json"})),
    },
    **{("POST", f"/api/rules/{{rule_id}}/{action}"): _rule_action_probes(action) for action in ("approve", "reject", "retire")},
    ("GET", "/api/models/"): {
        400: ("accountant_a", lambda w: ("get", "/api/models/?company=alpha%00", {})),
        404: ("outsider", lambda w: ("get", "/api/models/?company=alpha-bakery", {})),
    },
    ("POST", "/api/models/train"): {
        400: ("admin_a", lambda w: ("post", "/api/models/train", {"data": {}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/models/train", {"data": {"company": "alpha-bakery"}, "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/models/train", {"data": {"company": "alpha-bakery"}, "format": "json"})),
    },
    ("GET", "/api/models/{version_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/models/{w['model_version'].pk}", {})),
    },
    ("POST", "/api/models/{version_id}/activate"): {
        403: ("accountant_a", lambda w: ("post", f"/api/models/{w['model_version'].pk}/activate", {})),
        404: ("outsider", lambda w: ("post", f"/api/models/{w['model_version'].pk}/activate", {})),
    },
    ("POST", "/api/post/propose"): {
        400: ("admin_a", lambda w: ("post", "/api/post/propose", {"data": {}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/post/propose", {"data": {"company": "alpha-bakery"}, "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/post/propose", {"data": {"company": "alpha-bakery"}, "format": "json"})),
    },
    ("GET", "/api/journal/entries"): {
        400: ("accountant_a", lambda w: ("get", "/api/journal/entries?company=alpha-bakery&status=maybe", {})),
        404: ("outsider", lambda w: ("get", "/api/journal/entries?company=alpha-bakery", {})),
    },
    ("POST", "/api/journal/entries"): {
        400: ("admin_a", lambda w: ("post", "/api/journal/entries", {"data": _entry_body(credit="9.99"), "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/journal/entries", {"data": _entry_body(), "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/journal/entries", {"data": _entry_body(), "format": "json"})),
    },
    ("GET", "/api/journal/entries/{entry_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/journal/entries/{w['entry'].pk}", {})),
    },
    ("POST", "/api/journal/entries/{entry_id}/post"): {
        403: ("accountant_a", lambda w: ("post", f"/api/journal/entries/{w['entry'].pk}/post", {})),
        404: ("outsider", lambda w: ("post", f"/api/journal/entries/{w['entry'].pk}/post", {})),
        409: ("admin_a", lambda w: ("post", f"/api/journal/entries/{w['posted_entry'].pk}/post", {})),
    },
    ("POST", "/api/journal/entries/{entry_id}/reverse"): {
        400: ("admin_a", lambda w: ("post", f"/api/journal/entries/{w['posted_entry'].pk}/reverse",
                                    {"data": {"date": "soon"}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", f"/api/journal/entries/{w['posted_entry'].pk}/reverse", {})),
        404: ("outsider", lambda w: ("post", f"/api/journal/entries/{w['posted_entry'].pk}/reverse", {})),
        409: ("admin_a", lambda w: ("post", f"/api/journal/entries/{w['entry'].pk}/reverse", {})),
    },
    ("POST", "/api/journal/post"): {
        400: ("admin_a", lambda w: ("post", "/api/journal/post", {"data": {"company": "alpha-bakery", "ids": [0]},
                                                                  "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/journal/post", {"data": {"company": "alpha-bakery"}, "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/journal/post", {"data": {"company": "alpha-bakery"}, "format": "json"})),
    },
    ("POST", "/api/reconcile/run"): {
        400: ("admin_a", lambda w: ("post", "/api/reconcile/run", _reconcile(bank_account="9999"))),
        403: ("accountant_a", lambda w: ("post", "/api/reconcile/run", _reconcile())),
        404: ("outsider", lambda w: ("post", "/api/reconcile/run", _reconcile())),
    },
    ("GET", "/api/reconciliations/"): {
        400: ("accountant_a", lambda w: ("get", "/api/reconciliations/?company=alpha%00", {})),
        404: ("outsider", lambda w: ("get", "/api/reconciliations/?company=alpha-bakery", {})),
    },
    ("GET", "/api/reconciliations/{reconciliation_id}"): {
        404: ("outsider", lambda w: ("get", f"/api/reconciliations/{w['reconciliation'].pk}", {})),
    },
    ("POST", "/api/reconciliations/{reconciliation_id}/unreconcile"): {
        400: ("admin_a", lambda w: ("post", f"/api/reconciliations/{w['reconciliation'].pk}/unreconcile",
                                    {"data": {"transaction": w["line"].pk}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", f"/api/reconciliations/{w['reconciliation'].pk}/unreconcile", {})),
        404: ("outsider", lambda w: ("post", f"/api/reconciliations/{w['reconciliation'].pk}/unreconcile", {})),
        409: ("admin_a", lambda w: ("post", f"/api/reconciliations/{w['reconciliation'].pk}/unreconcile", {})),
    },
    **{("POST", f"/api/matches/{{match_id}}/{action}"): {
        403: ("accountant_a", lambda w, action=action: ("post", f"/api/matches/{w['match'].pk}/{action}", {})),
        404: ("outsider", lambda w, action=action: ("post", f"/api/matches/{w['match'].pk}/{action}", {})),
        409: ("admin_a", lambda w, action=action: ("post", f"/api/matches/{w['decided_match'].pk}/{action}", {})),
    } for action in ("accept", "reject")},
    ("POST", "/api/imports/{import_id}/undo"): {
        403: ("accountant_a", lambda w: ("post", f"/api/imports/{w['batch'].id}/undo", {})),
        404: ("outsider", lambda w: ("post", f"/api/imports/{w['batch'].id}/undo", {})),
        409: ("admin_a", lambda w: ("post", f"/api/imports/{w['batch'].id}/undo", {})),  # still queued
    },
    ("GET", "/api/automation/"): {
        400: ("accountant_a", lambda w: ("get", "/api/automation/?days=0", {})),
        404: ("outsider", lambda w: ("get", "/api/automation/?company=alpha-bakery", {})),
    },
    ("GET", "/api/review/"): {
        400: ("admin_a", lambda w: ("get", "/api/review/?company=alpha-bakery&method=bogus", {})),
        403: ("accountant_a", lambda w: ("get", "/api/review/?company=alpha-bakery", {})),
        404: ("outsider", lambda w: ("get", "/api/review/?company=alpha-bakery", {})),
    },
    ("POST", "/api/decisions/{decision_id}/approve"): {
        400: ("admin_a", _decision_call("placeholder", "approve")),
        403: ("accountant_a", _decision_call("suggestion", "approve")),
        404: ("outsider", _decision_call("suggestion", "approve")),
        409: ("admin_a", _decision_call("decided", "approve")),
    },
    ("POST", "/api/decisions/{decision_id}/correct"): {
        400: ("admin_a", _decision_call("suggestion", "correct", {"account": "1000"})),
        403: ("accountant_a", _decision_call("suggestion", "correct", {"account": "8000"})),
        404: ("outsider", _decision_call("suggestion", "correct", {"account": "8000"})),
        409: ("admin_a", _decision_call("decided", "correct", {"account": "8000"})),
    },
    ("POST", "/api/decisions/approve"): {
        400: ("admin_a", lambda w: ("post", "/api/decisions/approve", {"data": {"ids": []}, "format": "json"})),
        403: ("accountant_a", lambda w: ("post", "/api/decisions/approve",
                                         {"data": {"ids": [w["suggestion"].pk]}, "format": "json"})),
        404: ("outsider", lambda w: ("post", "/api/decisions/approve",
                                     {"data": {"ids": [w["suggestion"].pk]}, "format": "json"})),
    },
    ("GET", "/api/ledger/trial-balance"): {
        400: ("accountant_a", lambda w: ("get", "/api/ledger/trial-balance?company=alpha-bakery"
                                                "&date_from=2025-03-01&date_to=2025-02-01", {})),
        404: ("outsider", lambda w: ("get", "/api/ledger/trial-balance?company=alpha-bakery", {})),
    },
    ("GET", "/api/ledger/profit-and-loss"): {
        400: ("accountant_a", lambda w: ("get", "/api/ledger/profit-and-loss?company=alpha-bakery&date_to=2025-02-30", {})),
        404: ("outsider", lambda w: ("get", "/api/ledger/profit-and-loss?company=alpha-bakery", {})),
    },
    ("GET", "/api/ledger/export"): {
        400: ("accountant_a", lambda w: ("get", "/api/ledger/export?company=alpha-bakery&format=xlsx", {})),
        404: ("outsider", lambda w: ("get", "/api/ledger/export?company=alpha-bakery&format=csv", {})),
    },
}


def _entry_body(credit: str = "10.00") -> dict[str, Any]:
    return {"company": "alpha-bakery", "date": "2025-03-01", "memo": "Loan",
            "lines": [{"account": "1000", "debit": "10.00"}, {"account": "8000", "credit": credit}]}


def _reconcile(**changes: Any) -> dict[str, Any]:
    body = {"company": "alpha-bakery", "bank_account": "1000", "date_from": "2025-01-01", "date_to": "2025-01-31"}
    return {"data": {**body, **changes}, "format": "json"}


def _anonymous_probe(method: str, path: str) -> tuple[str, Any]:
    def build(w: dict[str, Any]) -> tuple[str, str, dict]:
        known = {"job_id": w["batch"].job_id, "import_id": w["batch"].id, "company_id": "alpha-bakery",
                 "token_id": w["token"].pk, "rule_id": w["rule"].pk, "transaction_id": w["transaction"].pk,
                 "version_id": w["model_version"].pk, "decision_id": w["suggestion"].pk}
        url = path.format_map(collections.defaultdict(lambda: 1, known))  # any other id: 401 comes first
        needs_company = path in ("/api/audit/", "/api/rules/", "/api/rules/export", "/api/models/", "/api/review/")
        return method.lower(), url + ("?company=alpha-bakery" if needs_company else ""), {}
    return "anonymous", build


@pytest.fixture
def probe_world(company_a, company_b, accountant_a, admin_a, outsider) -> dict[str, Any]:
    batch = import_batch_submit(
        company=company_a, bank_account=company_a.accounts.get(code="1000"), upload=SimpleUploadedFile("a.csv", CSV),
        filename="a.csv", user=None, enqueue=False,
    )
    token, _ = api_token_create(user=accountant_a, name="x")
    rule = rule_create(company=company_a, user=None, raw=_rule(), activate=False)
    rejected_rule = rule_create(company=company_a, user=None, raw=_rule(name="Rejected"), activate=False)
    rule_reject(rules=[rejected_rule], user=None)
    transaction = Transaction.objects.create(
        company=company_a, bank_account=company_a.accounts.get(code="1000"), date=datetime.date(2025, 1, 10),
        description="STAPLES", amount=Decimal("-12.50"), fingerprint=uuid.uuid4(),
    )
    model_version = ModelVersion.objects.create(
        company=company_a, number=1, algorithm="test", artifact="alpha/none.joblib", sha256="0" * 64)
    bank = company_a.accounts.get(code="1000")
    office = company_a.accounts.get(code="6100")
    lines = [Transaction.objects.create(company=company_a, bank_account=bank, date=datetime.date(2025, 1, 11 + i),
                                        description=f"VENDOR {i}", amount=Decimal("-5.00"), fingerprint=uuid.uuid4())
             for i in range(3)]
    suggestion, placeholder, decided = (
        Decision.objects.create(company=company_a, transaction=lines[0], method="ml_suggestion",
                                status="needs_review", account=office, confidence=Decimal("0.7500")),
        Decision.objects.create(company=company_a, transaction=lines[1], method="human", status="needs_review"),
        Decision.objects.create(company=company_a, transaction=lines[2], method="human", status="approved",
                                account=office),
    )
    bank_and_sales = [(bank, Decimal("10.00"), Decimal("0")), (company_a.accounts.get(code="8000"), Decimal("0"),
                                                               Decimal("10.00"))]
    entry = journal_entry_create(company=company_a, date=datetime.date(2025, 3, 1), memo="Loan", lines=bank_and_sales)
    posted_entry = journal_entry_create(company=company_a, date=datetime.date(2025, 3, 1), memo="Capital",
                                        lines=bank_and_sales, post=True)
    # A finished run of the transaction's day with nothing marked reconciled; a suggested and an accepted match.
    reconciliation = Reconciliation.objects.create(
        company=company_a, bank_account=bank, period_start=transaction.date, period_end=transaction.date,
        status=ReconciliationStatus.UNBALANCED, summary={"counts": {}})
    match = BankMatch.objects.create(company=company_a, transaction=transaction, entry=posted_entry,
                                     reconciliation=reconciliation, score=Decimal("0.800"), reasons=["same day"])
    decided_match = BankMatch.objects.create(company=company_a, transaction=lines[2], entry=posted_entry,
                                             reconciliation=reconciliation, score=Decimal("0.800"),
                                             status=MatchStatus.ACCEPTED)
    # A second bank account with an import being undone: new imports into it are refused (409).
    undoing_account = Account.objects.create(company=company_a, code="1010", name="Savings", type="asset",
                                             is_bank=True)
    ImportBatch.objects.create(company=company_a, bank_account=undoing_account, original_filename="old.csv",
                               file="old.csv", size_bytes=1, sha256="0" * 64, status="undoing")
    return {"undoing_account": undoing_account,
            "batch": batch, "token": token, "rule": rule, "rejected_rule": rejected_rule, "transaction": transaction,
            "model_version": model_version, "suggestion": suggestion, "placeholder": placeholder, "decided": decided,
            "entry": entry, "posted_entry": posted_entry, "reconciliation": reconciliation, "match": match,
            "decided_match": decided_match, "line": lines[0]}


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(method, path, id=f"{method} {path}") for method, path in sorted(OPERATIONS, key=lambda k: k[::-1])],
)
def test_error_statuses_are_documented(method, path, probe_world, request, token_client_for, settings):
    assert (method, path) in ERROR_PROBES, f"{method} {path}: list the error statuses it answers in ERROR_PROBES"
    probes = {401: _anonymous_probe(method, path), **ERROR_PROBES[(method, path)]}
    documented = set(OPERATIONS[(method, path)]["responses"])
    undocumented = []
    max_upload_mb, uploads_per_hour = settings.MAX_UPLOAD_MB, settings.UPLOADS_PER_HOUR_PER_USER
    for status, (actor, build) in sorted(probes.items()):
        settings.MAX_UPLOAD_MB = 1 if status == 413 else max_upload_mb  # a 1.5 MB file is then too large
        settings.UPLOADS_PER_HOUR_PER_USER = 0 if status == 429 else uploads_per_hour  # the first upload is over
        client = APIClient() if actor == "anonymous" else token_client_for(request.getfixturevalue(actor))
        verb, url, kwargs = build(probe_world)
        response = getattr(client, verb)(url, **kwargs)
        assert response.status_code == status, f"probe {verb.upper()} {url} as {actor}: got {response.status_code}"
        if str(status) not in documented:
            undocumented.append(status)

    assert not undocumented, (
        f"{method} {path} answers {undocumented} but documents only {sorted(documented)}: add them to its "
        f"@extend_schema(responses=...)"
    )


# --- a company reference made of Unicode digits: the fuzzer found GET /api/jobs/company/³ -> 500 ------------

@pytest.mark.parametrize(
    ("verb", "url", "body"),
    [
        pytest.param("get", "/api/jobs/company/\u00b2", None, id="GET /api/jobs/company/{company_id} superscript 2"),
        pytest.param("get", "/api/audit/?company=%C2%B2", None, id="GET /api/audit/?company= superscript 2"),
        pytest.param("post", "/api/imports/", lambda: _upload(company="\u00b2"), id="POST /api/imports/ superscript 2"),
    ],
)
def test_a_company_reference_of_unicode_digits_is_a_404_not_a_server_error(
    verb, url, body, company_a, admin_a, token_client_for
):
    # company_get_for_user() takes str.isdigit() as "an id": it is true for "²" and "①", which int()
    # refuses, so the request ends in a ValueError and a 500. Not a company of the user's: 404, like any other.
    client = token_client_for(admin_a)
    client.raise_request_exception = False

    response = getattr(client, verb)(url, **(body() if body else {}))

    assert response.status_code == 404, f"{verb.upper()} {url}: {response.status_code}"
