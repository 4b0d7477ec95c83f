"""Who may do what through the API: a status matrix for every operation of the OpenAPI schema and every actor.

The operations come from our own schema (drf-spectacular, generated in-process); the expected statuses are
written out by hand in EXPECTED below. Every (operation, actor) pair is one test that builds company A's
objects, fills the path with them, sends the request with the actor's API token and checks the status, the
body (nothing of company A for users of another company) and the database (a refused request changes nothing).
"""
from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from decisions.models import Decision
from jobs.models import Job
from ledger.models import BankMatch, JournalEntry, Reconciliation, ReconciliationStatus
from ledger.services.postings import journal_entry_create
from mlmodels.models import ModelVersion
from rules.models import Rule
from rules.services.lifecycle import rule_create
from transactions.models import Account, ApiToken, Company, ImportBatch, ImportStatus, Transaction
from transactions.services.audit import audit_record
from transactions.services.imports import import_batch_submit
from transactions.services.tokens import api_token_create

ACTORS = ("anonymous", "accountant_a", "reviewer_a", "admin_a", "outsider", "superuser")
HTTP_METHODS = ("get", "put", "patch", "post", "delete", "head", "options", "trace")
CSV = b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n"


def _row(anonymous: int, accountant_a: int, reviewer_a: int, admin_a: int, outsider: int, superuser: int) -> dict:
    return {"anonymous": anonymous, "accountant_a": accountant_a, "reviewer_a": reviewer_a, "admin_a": admin_a,
            "outsider": outsider, "superuser": superuser}


# The expected status of every API operation for every actor, acting on company A's objects.
#
# EVERY OPERATION OF THE OPENAPI SCHEMA MUST HAVE A ROW HERE. A new endpoint (or a new method on an existing
# path) without a row fails `test_the_matrix_covers_exactly_the_schema_operations` and its own
# `... has no row in EXPECTED` test: decide who may call it, add the row (and a body in BODIES if it writes).
#
# The rules: anonymous -> 401 everywhere; a user of another company -> 404 for company A's objects and for
# company-scoped operations (never 403, never A's data); lists without a company (transactions, tokens) -> 200
# but without anything of company A / of other users; members of A read and upload; the audit trail is for
# admins (403 for the other roles of A); tokens belong to their user (anybody else, superuser included -> 404);
# the superuser sees every company.
#                                          anonymous accountant reviewer admin outsider superuser
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/audit/"):                     _row(401, 403, 403, 200, 404, 200),
    ("POST", "/api/imports/"):                  _row(401, 202, 202, 202, 404, 202),
    ("GET", "/api/imports/{import_id}"):        _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/ingest/csv"):                _row(401, 202, 202, 202, 404, 202),
    ("GET", "/api/jobs/{job_id}"):              _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/jobs/company/{company_id}"):  _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/tokens/"):                    _row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/tokens/"):                   _row(401, 201, 201, 201, 201, 201),
    ("DELETE", "/api/tokens/{token_id}"):       _row(401, 204, 404, 404, 404, 404),
    ("GET", "/api/transactions/"):              _row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/transactions/{transaction_id}/decisions"):  _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/transactions/{transaction_id}/categorize"): _row(401, 403, 200, 200, 404, 200),
    # Splits: members read a transaction's split; reviewers split it (as they categorize).
    ("GET", "/api/transactions/{transaction_id}/split"):  _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/transactions/{transaction_id}/split"): _row(401, 403, 200, 200, 404, 200),
    # Rules: members read and test them; reviewers create and edit proposals; only admins decide.
    ("GET", "/api/rules/"):                     _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/rules/"):                    _row(401, 403, 201, 201, 404, 201),
    ("POST", "/api/rules/test"):                _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/rules/bulk"):                _row(401, 403, 403, 200, 404, 200),
    ("GET", "/api/rules/export"):               _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/rules/{rule_id}"):            _row(401, 200, 200, 200, 404, 200),
    ("PATCH", "/api/rules/{rule_id}"):          _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/rules/{rule_id}/approve"):   _row(401, 403, 403, 200, 404, 200),
    ("POST", "/api/rules/{rule_id}/reject"):    _row(401, 403, 403, 200, 404, 200),
    ("POST", "/api/rules/{rule_id}/retire"):    _row(401, 403, 403, 200, 404, 200),
    # Classifier versions: members see them; admins train and activate (or roll back).
    ("GET", "/api/models/"):                    _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/models/train"):              _row(401, 403, 403, 202, 404, 202),
    ("GET", "/api/models/{version_id}"):        _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/models/{version_id}/activate"): _row(401, 403, 403, 200, 404, 200),
    # Review: reviewers and admins work the queue; accountants upload but do not decide.
    ("GET", "/api/review/"):                    _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/decisions/{decision_id}/approve"): _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/decisions/{decision_id}/correct"): _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/decisions/approve"):         _row(401, 403, 200, 200, 404, 200),
    # Automation numbers of your own companies (without ?company=: all of them; another company's: 404).
    ("GET", "/api/automation/"):                _row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/post/propose"):              _row(401, 403, 202, 202, 404, 202),
    # The journal: members read it; reviewers enter, post and reverse entries and undo imports.
    ("GET", "/api/journal/entries"):            _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/journal/entries"):           _row(401, 403, 201, 201, 404, 201),
    ("GET", "/api/journal/entries/{entry_id}"): _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/journal/entries/{entry_id}/post"):    _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/journal/entries/{entry_id}/reverse"): _row(401, 403, 201, 201, 404, 201),
    ("POST", "/api/journal/post"):              _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/imports/{import_id}/undo"):  _row(401, 403, 202, 202, 404, 202),
    # Reports and journal exports: every member of the company reads them.
    ("GET", "/api/ledger/trial-balance"):       _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/ledger/profit-and-loss"):     _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/ledger/export"):              _row(401, 200, 200, 200, 404, 200),
    # Reconciliation: members read the runs; reviewers run them, decide suggested matches and unreconcile.
    ("POST", "/api/reconcile/run"):             _row(401, 403, 202, 202, 404, 202),
    ("GET", "/api/reconciliations/"):           _row(401, 200, 200, 200, 404, 200),
    ("GET", "/api/reconciliations/{reconciliation_id}"): _row(401, 200, 200, 200, 404, 200),
    ("POST", "/api/reconciliations/{reconciliation_id}/unreconcile"): _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/matches/{match_id}/accept"): _row(401, 403, 200, 200, 404, 200),
    ("POST", "/api/matches/{match_id}/reject"): _row(401, 403, 200, 200, 404, 200),
}

# Not in the schema (SERVE_INCLUDE_SCHEMA = False), but an API door too: the schema itself.
SCHEMA_ENDPOINT_EXPECTED = _row(401, 200, 200, 200, 200, 200)


def _upload_body(world: World) -> dict[str, Any]:
    return {"company": world.company_a.slug, "bank_account": "1000", "file": SimpleUploadedFile("a.csv", CSV)}


# Request bodies of the writing operations: valid for company A, so that the success status is reachable.
RULE_BODY = {"name": "Flour", "conditions": [{"field": "description", "op": "contains", "value": "FLOUR"}],
             "account_code": "6100"}
BODIES: dict[tuple[str, str], tuple[Callable[[World], dict[str, Any]], str]] = {
    ("POST", "/api/imports/"): (_upload_body, "multipart"),
    ("POST", "/api/ingest/csv"): (_upload_body, "multipart"),
    ("POST", "/api/tokens/"): (lambda world: {"name": "x"}, "json"),
    ("POST", "/api/transactions/{transaction_id}/categorize"): (lambda world: {"account": "6100"}, "json"),
    ("POST", "/api/transactions/{transaction_id}/split"): (
        lambda world: {"parts": [{"account": "6100", "percent": "60"}, {"account": "8000"}]}, "json"),
    ("POST", "/api/rules/"): (lambda world: {"company": world.company_a.slug, **RULE_BODY}, "json"),
    ("POST", "/api/rules/test"): (lambda world: {"company": world.company_a.slug, **RULE_BODY}, "json"),
    ("POST", "/api/rules/bulk"): (lambda world: {"action": "approve", "ids": [world.rule.pk]}, "json"),
    ("PATCH", "/api/rules/{rule_id}"): (lambda world: {"priority": 7}, "json"),
    ("POST", "/api/rules/{rule_id}/approve"): (lambda world: {}, "json"),
    ("POST", "/api/rules/{rule_id}/reject"): (lambda world: {"reason": "no"}, "json"),
    ("POST", "/api/rules/{rule_id}/retire"): (lambda world: {"reason": "no"}, "json"),
    ("POST", "/api/models/train"): (lambda world: {"company": world.company_a.slug}, "json"),
    ("POST", "/api/models/{version_id}/activate"): (lambda world: {}, "json"),
    ("POST", "/api/decisions/{decision_id}/approve"): (lambda world: {}, "json"),
    ("POST", "/api/decisions/{decision_id}/correct"): (lambda world: {"account": "8000", "remember_as_rule": False}, "json"),
    ("POST", "/api/decisions/approve"): (lambda world: {"ids": [world.decision.pk]}, "json"),
    ("POST", "/api/post/propose"): (lambda world: {"company": world.company_a.slug}, "json"),
    ("POST", "/api/journal/entries"): (lambda world: {
        "company": world.company_a.slug, "date": "2025-03-01", "memo": "Owner's loan",
        "lines": [{"account": "1000", "debit": "500.00"}, {"account": "8000", "credit": "500.00"}]}, "json"),
    ("POST", "/api/journal/entries/{entry_id}/post"): (lambda world: {}, "json"),
    ("POST", "/api/journal/entries/{entry_id}/reverse"): (lambda world: {}, "json"),
    ("POST", "/api/journal/post"): (lambda world: {"company": world.company_a.slug}, "json"),
    ("POST", "/api/reconcile/run"): (lambda world: {"company": world.company_a.slug, "bank_account": "1000",
                                                    "date_from": "2025-01-01", "date_to": "2025-01-31"}, "json"),
    ("POST", "/api/reconciliations/{reconciliation_id}/unreconcile"): (lambda world: {}, "json"),
    ("POST", "/api/matches/{match_id}/accept"): (lambda world: {}, "json"),
    ("POST", "/api/matches/{match_id}/reject"): (lambda world: {}, "json"),
    ("POST", "/api/imports/{import_id}/undo"): (lambda world: {}, "json"),
}


def schema_operations() -> dict[tuple[str, str], dict[str, Any]]:
    """Every (METHOD, path) under /api/ in the OpenAPI schema, with its operation object."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items() if path.startswith("/api/")
        for method, operation in item.items() if method in HTTP_METHODS
    }


SCHEMA_OPERATIONS = schema_operations()


@dataclass
class World:
    company_a: Company
    company_b: Company
    job: Job
    batch: ImportBatch
    token: ApiToken  # accountant_a's
    transactions_a: list[Transaction]
    transactions_b: list[Transaction]
    rule: Rule  # a proposed rule of company A
    model_version: ModelVersion  # an inactive classifier version of company A
    decision: Decision  # a suggestion waiting for review on company A's second transaction
    entry: JournalEntry  # a proposed entry of company A, entered by hand
    posted_entry: JournalEntry  # a posted one (to reverse)
    finished_batch: ImportBatch  # an import of company A whose job has finished (to undo)
    reconciliation: Reconciliation  # a balanced run of company A that marked its first transaction reconciled
    match: BankMatch  # a suggested match of that run (the first transaction <-> the posted entry)

    def secrets_of_a(self) -> list[str]:
        """Strings that must never appear in what a stranger to company A receives."""
        return [
            self.company_a.slug, self.company_a.name, str(self.job.id), str(self.batch.id), self.batch.sha256,
            self.token.prefix, *(t.description for t in self.transactions_a), self.rule.name, self.entry.memo,
            self.posted_entry.memo, str(self.finished_batch.id),
        ]


def _transactions(company: Company, descriptions: list[str]) -> list[Transaction]:
    bank = company.accounts.get(code="1000")
    return [
        Transaction.objects.create(
            company=company, bank_account=bank, date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
            description=description, amount=Decimal("-10.00") - i, fingerprint=uuid.uuid4(),
        )
        for i, description in enumerate(descriptions)
    ]


@pytest.fixture
def world(company_a, company_b, accountant_a, reviewer_a, admin_a, outsider, superuser) -> World:
    batch = import_batch_submit(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("a.csv", CSV), filename="a.csv", user=None, enqueue=False,
    )
    token, _ = api_token_create(user=accountant_a, name="x")
    audit_record(action="matrix.seed", company=company_a, actor=admin_a, target=company_a)
    Job.objects.create(company=company_b, kind="ingest")
    transactions_a = _transactions(company_a, ["ALPHA SECRET FLOUR", "ALPHA SECRET OVEN"])
    return World(
        company_a=company_a,
        company_b=company_b,
        job=Job.objects.create(company=company_a, kind="ingest"),
        batch=batch,
        token=token,
        transactions_a=transactions_a,
        transactions_b=_transactions(company_b, ["BETA LUMBER"]),
        rule=rule_create(company=company_a, user=reviewer_a, raw={
            "name": "ALPHA SECRET RULE", "conditions": [{"field": "description", "op": "contains", "value": "OVEN"}],
            "account_code": "6100"}),
        model_version=ModelVersion.objects.create(
            company=company_a, number=1, algorithm="test", artifact="alpha/none.joblib", sha256="0" * 64),
        decision=Decision.objects.create(
            company=company_a, transaction=transactions_a[1], method="ml_suggestion", status="needs_review",
            account=company_a.accounts.get(code="6100"), confidence=Decimal("0.7500")),
        entry=_manual_entry(company_a, "ALPHA SECRET LOAN"),
        posted_entry=_manual_entry(company_a, "ALPHA SECRET CAPITAL", post=True),
        finished_batch=_finished_batch(company_a),
        **_reconciled(company_a, transactions_a[0]),
    )


def _manual_entry(company: Company, memo: str, post: bool = False) -> JournalEntry:
    bank, sales = company.accounts.get(code="1000"), company.accounts.get(code="8000")
    return journal_entry_create(company=company, date=datetime.date(2025, 3, 1), memo=memo, post=post,
                                lines=[(bank, Decimal("100.00"), Decimal("0")), (sales, Decimal("0"), Decimal("100.00"))])


def _reconciled(company: Company, transaction: Transaction) -> dict[str, Any]:
    """A balanced reconciliation of the transaction's day that marked it, with a suggested match to the posted
    entry (for authorization only: the pair need not be plausible, and no transaction or entry is added)."""
    run = Reconciliation.objects.create(
        company=company, bank_account=transaction.bank_account, period_start=transaction.date,
        period_end=transaction.date, status=ReconciliationStatus.BALANCED, opening_balance=Decimal("10.00"),
        statement_closing_balance=Decimal("0.00"), closing_balance_source="user", ledger_movements=Decimal("-10.00"),
        difference=Decimal("0.00"), summary={"counts": {"suggested": 1, "reconciled": 1}},
    )
    Transaction.objects.filter(pk=transaction.pk).update(reconciled_at=timezone.now())
    posted = JournalEntry.objects.get(company=company, memo="ALPHA SECRET CAPITAL")
    match = BankMatch.objects.create(company=company, transaction=transaction, entry=posted, reconciliation=run,
                                     score=Decimal("0.800"), reasons=["same day"])
    return {"reconciliation": run, "match": match}


def _finished_batch(company: Company) -> ImportBatch:
    # On a bank account of its own: an undo waits while another import into the same account is still queued.
    savings = Account.objects.create(company=company, code="1010", name="Savings", type="asset", is_bank=True)
    batch = import_batch_submit(company=company, bank_account=savings,
                                upload=SimpleUploadedFile("b.csv", CSV + b"2025-01-11,OVEN,-3.00\n"),
                                filename="b.csv", user=None, enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.IMPORTED)
    return batch


def _client(request: pytest.FixtureRequest, actor: str, token_client_for) -> tuple[APIClient, Any]:
    if actor == "anonymous":
        return APIClient(), None
    user = request.getfixturevalue(actor)
    return token_client_for(user), user


def _urls(path: str, operation: dict[str, Any], world: World) -> list[str]:
    """The concrete URLs for an operation: path parameters filled with company A's objects; a company given
    by id and by slug (both must answer alike); required query parameters filled too."""
    company_refs = [str(world.company_a.pk), world.company_a.slug]
    fixed = {"job_id": world.job.id, "import_id": world.batch.id, "token_id": world.token.pk,
             "rule_id": world.rule.pk, "transaction_id": world.transactions_a[0].pk,
             "version_id": world.model_version.pk, "decision_id": world.decision.pk,
             "entry_id": world.posted_entry.pk if path.endswith("/reverse") else world.entry.pk,
             "reconciliation_id": world.reconciliation.pk, "match_id": world.match.pk}
    if path.endswith("/undo"):
        fixed["import_id"] = world.finished_batch.id
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    unknown = names - set(fixed) - {"company_id"}
    assert not unknown, f"{path}: no object of company A for path parameter(s) {unknown}; extend _urls()"
    required_query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")]
    assert set(required_query) <= {"company"}, f"{path}: fill the required query parameters {required_query}"
    needs_company = "company_id" in names or "company" in required_query
    urls = []
    for ref in company_refs if needs_company else company_refs[:1]:
        url = path.format(**{name: (ref if name == "company_id" else fixed[name]) for name in names})
        if required_query:
            url += f"?company={ref}"
        urls.append(url)
    return urls


@dataclass(frozen=True)
class Snapshot:
    import_batches: int
    jobs: int
    tokens: int
    transactions: int
    token_revoked: bool
    rules: tuple[tuple[int, str, int, int], ...]  # (id, status, version, priority)
    decisions: int
    categorized: int
    active_models: tuple[int, ...]
    entries: tuple[tuple[int, str], ...]  # (id, status)
    reconciliations: int
    matches: tuple[tuple[int, str], ...]  # (id, status)
    reconciled: int  # transactions marked reconciled


def _snapshot(world: World) -> Snapshot:
    world.token.refresh_from_db()
    return Snapshot(
        import_batches=ImportBatch.objects.count(), jobs=Job.objects.count(), tokens=ApiToken.objects.count(),
        transactions=Transaction.objects.count(), token_revoked=world.token.revoked_at is not None,
        rules=tuple(Rule.objects.order_by("id").values_list("id", "status", "version", "priority")),
        decisions=Decision.objects.count(), categorized=Transaction.objects.filter(account__isnull=False).count(),
        active_models=tuple(ModelVersion.objects.filter(is_active=True).values_list("id", flat=True)),
        entries=tuple(JournalEntry.objects.order_by("id").values_list("id", "status")),
        reconciliations=Reconciliation.objects.count(),
        matches=tuple(BankMatch.objects.order_by("id").values_list("id", "status")),
        reconciled=Transaction.objects.filter(reconciled_at__isnull=False).count(),
    )


def _matrix_params() -> list:
    params = []
    for key in sorted(set(SCHEMA_OPERATIONS) | set(EXPECTED), key=lambda k: (k[1], k[0])):
        method, path = key
        row = EXPECTED.get(key)
        for actor in ACTORS:
            expected = row[actor] if row else None
            label = f"{method} {path} as {actor} -> {expected if expected else 'NO ROW'}"
            params.append(pytest.param(method, path, actor, expected, id=label))
    return params


def test_the_matrix_covers_exactly_the_schema_operations():
    """A new endpoint must get a row in EXPECTED; a row of a removed endpoint must go."""
    assert set(SCHEMA_OPERATIONS) == set(EXPECTED), (
        f"in the schema without a row: {sorted(set(SCHEMA_OPERATIONS) - set(EXPECTED))}; "
        f"rows without an operation: {sorted(set(EXPECTED) - set(SCHEMA_OPERATIONS))}"
    )
    assert all(set(row) == set(ACTORS) for row in EXPECTED.values())
    writes = {key for key in SCHEMA_OPERATIONS if key[0] in {"POST", "PUT", "PATCH"}}
    assert writes == set(BODIES), "every writing operation needs a valid body in BODIES"


@pytest.mark.parametrize(("method", "path", "actor", "expected"), _matrix_params())
def test_authorization_matrix(method, path, actor, expected, world, request, token_client_for):
    assert (method, path) in SCHEMA_OPERATIONS, f"{method} {path} has a row in EXPECTED but is not in the schema"
    assert expected is not None, f"{method} {path} has no row in EXPECTED: decide who may call it"
    client, user = _client(request, actor, token_client_for)

    for url in _urls(path, SCHEMA_OPERATIONS[(method, path)], world):
        before = _snapshot(world)
        body, body_format = BODIES.get((method, path), (None, None))
        kwargs = {"data": body(world), "format": body_format} if body else {}
        response = getattr(client, method.lower())(url, **kwargs)
        after = _snapshot(world)

        assert response.status_code == expected, (
            f"{method} {url} as {actor}: expected {expected}, got {response.status_code}: "
            f"{response.content[:300]!r}"
        )
        if actor in {"anonymous", "outsider"}:
            leaked = [secret for secret in world.secrets_of_a() if secret in response.content.decode(errors="replace")]
            assert not leaked, f"{method} {url} as {actor} answered with company A's data: {leaked}"
        if expected >= 400 or method == "GET":
            assert after == before, f"{method} {url} as {actor} ({response.status_code}) changed the database"
        if expected < 400:
            CONTENT_CHECKS[(method, path)](response=response, world=world, actor=actor, user=user,
                                           before=before, after=after)
            if method != "GET":
                break  # the write succeeded once; the company given the other way is covered by the GETs


# --- what a successful answer must contain, per operation --------------------------------------------------

def _check_upload(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    batch = ImportBatch.objects.get(id=body["import_id"])
    assert batch.company == world.company_a and body["company"] == world.company_a.slug
    assert batch.uploaded_by == user
    assert after.import_batches == before.import_batches + 1 and after.jobs == before.jobs + 1
    assert body["job"]["job_id"] == str(batch.job_id)


def _check_import(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert body["import_id"] == str(world.batch.id) and body["company"] == world.company_a.slug


def _check_job(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert body["job_id"] == str(world.job.id) and body["company"] == world.company_a.slug


def _check_company_jobs(*, response, world, actor, user, before, after) -> None:
    jobs = response.json()
    assert str(world.job.id) in {job["job_id"] for job in jobs}
    assert {job["company"] for job in jobs} == {world.company_a.slug}


def _check_audit(*, response, world, actor, user, before, after) -> None:
    events = response.json()["results"]
    assert "matrix.seed" in {event["action"] for event in events}
    assert {event["company"] for event in events} == {world.company_a.slug}


def _check_token_list(*, response, world, actor, user, before, after) -> None:
    listed = {token["id"] for token in response.json()}
    assert listed == set(ApiToken.objects.filter(user=user).values_list("id", flat=True)), "only your own tokens"
    assert (world.token.pk in listed) == (actor == "accountant_a")


def _check_token_create(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert body["name"] == "x" and body["key"]
    assert ApiToken.objects.get(pk=body["id"]).user == user
    assert after.tokens == before.tokens + 1


def _check_token_revoke(*, response, world, actor, user, before, after) -> None:
    assert after.token_revoked and not before.token_revoked
    assert after.tokens == before.tokens


def _check_transactions(*, response, world, actor, user, before, after) -> None:
    listed = {row["id"] for row in response.json()["results"]}
    ids_a = {t.pk for t in world.transactions_a}
    ids_b = {t.pk for t in world.transactions_b}
    if actor == "outsider":
        assert not listed & ids_a, "a user of company B sees company A's transactions"
        assert ids_b <= listed
    elif actor == "superuser":
        assert ids_a | ids_b <= listed
    else:
        assert listed == ids_a, "a member of company A sees exactly company A's transactions"


def _check_decisions(*, response, world, actor, user, before, after) -> None:
    assert response.json() == []  # nothing decided it yet


def _check_categorize(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert (body["transaction"], body["account"], body["method"], body["reviewer"]) == (
        world.transactions_a[0].pk, "6100", "human", user.username
    )
    assert after.decisions == before.decisions + 1 and after.categorized == before.categorized + 1


def _check_split_read(*, response, world, actor, user, before, after) -> None:
    assert response.json() == {"transaction": world.transactions_a[0].pk, "amount": "-10.00", "decision": None,
                               "parts": [], "entry": None}  # not split yet


def _check_split(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert [(part["account"], part["amount"]) for part in body["parts"]] == [("6100", "-6.00"), ("8000", "-4.00")]
    decision = Decision.objects.get(pk=body["decision"])
    assert (decision.transaction_id, decision.account.code, decision.reviewer) == (world.transactions_a[0].pk, "6100", user)
    assert len(body["entry"]["lines"]) == 3
    assert after.decisions == before.decisions + 1 and after.categorized == before.categorized + 1


def _check_rule_list(*, response, world, actor, user, before, after) -> None:
    assert [rule["id"] for rule in response.json()["results"]] == [world.rule.pk]


def _check_rule_create(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    rule = Rule.objects.get(pk=body["id"])
    assert (rule.company, rule.name, rule.created_by) == (world.company_a, "Flour", user)
    assert body["status"] == ("proposed" if actor == "reviewer_a" else "active")


def _check_rule_test(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert (body["would_match"], body["uncategorized"]) == (1, 1)  # "ALPHA SECRET FLOUR"


def _check_rule_detail(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert (body["id"], body["company"], [v["version"] for v in body["versions"]]) == (
        world.rule.pk, world.company_a.slug, [1]
    )


def _check_rule_export(*, response, world, actor, user, before, after) -> None:
    assert response["Content-Type"].startswith("application/yaml")
    assert "ALPHA SECRET RULE" in response.content.decode()


def _rule_now(status: str) -> Callable[..., None]:
    def check(*, response, world, actor, user, before, after) -> None:
        body = response.json()
        answered = body[0] if isinstance(body, list) else body
        assert Rule.objects.get(pk=world.rule.pk).status == status == answered["status"]
    return check


def _check_rule_patch(*, response, world, actor, user, before, after) -> None:
    rule = Rule.objects.get(pk=world.rule.pk)
    assert (rule.priority, rule.version, response.json()["priority"]) == (7, 2, 7)


def _check_review(*, response, world, actor, user, before, after) -> None:
    [group] = response.json()["results"]
    assert [item["id"] for item in group["items"]] == [world.decision.pk]


def _check_decision_approved(*, response, world, actor, user, before, after) -> None:
    decision = Decision.objects.get(pk=world.decision.pk)
    assert (decision.status, decision.reviewer) == ("approved", user)
    assert after.categorized == before.categorized + 1


def _check_decision_corrected(*, response, world, actor, user, before, after) -> None:
    current = Decision.objects.get(transaction=world.transactions_a[1], is_current=True)
    assert (current.method, current.account.code, response.json()["account"]) == ("human", "8000", "8000")
    assert Decision.objects.get(pk=world.decision.pk).status == "corrected"


def _check_bulk_approved(*, response, world, actor, user, before, after) -> None:
    assert response.json()["approved"] == 1
    assert Decision.objects.get(pk=world.decision.pk).status == "approved"


def _check_automation(*, response, world, actor, user, before, after) -> None:
    text = response.content.decode()
    assert (world.company_a.slug in text) == (actor != "outsider")


def _check_post_propose(*, response, world, actor, user, before, after) -> None:
    job = Job.objects.get(id=response.json()["job_id"])
    assert (job.kind, job.company, job.created_by) == ("post_propose", world.company_a, user)
    assert after.jobs == before.jobs + 1


def _check_model_list(*, response, world, actor, user, before, after) -> None:
    assert [version["id"] for version in response.json()] == [world.model_version.pk]


def _check_model_train(*, response, world, actor, user, before, after) -> None:
    job = Job.objects.get(id=response.json()["job_id"])
    assert (job.kind, job.company, job.created_by) == ("train", world.company_a, user)
    assert after.jobs == before.jobs + 1


def _check_model_detail(*, response, world, actor, user, before, after) -> None:
    assert (response.json()["id"], response.json()["company"]) == (world.model_version.pk, world.company_a.slug)


def _check_model_activate(*, response, world, actor, user, before, after) -> None:
    assert response.json()["is_active"] and after.active_models == (world.model_version.pk,)


def _check_journal_list(*, response, world, actor, user, before, after) -> None:
    ids = {entry["id"] for entry in response.json()["results"]}
    assert ids == {world.entry.pk, world.posted_entry.pk}


def _check_journal_create(*, response, world, actor, user, before, after) -> None:
    entry = JournalEntry.objects.get(pk=response.json()["id"])
    assert (entry.company, entry.created_by, entry.status, entry.memo) == (world.company_a, user, "proposed",
                                                                           "Owner's loan")
    assert len(after.entries) == len(before.entries) + 1


def _check_journal_detail(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert (body["id"], body["memo"], len(body["lines"])) == (world.entry.pk, world.entry.memo, 2)


def _check_journal_post(*, response, world, actor, user, before, after) -> None:
    assert response.json()["status"] == "posted" and (world.entry.pk, "posted") in after.entries


def _check_journal_reverse(*, response, world, actor, user, before, after) -> None:
    assert response.json()["reverses"] == world.posted_entry.pk
    assert (world.posted_entry.pk, "reversed") in after.entries


def _check_journal_post_all(*, response, world, actor, user, before, after) -> None:
    assert response.json() == {"posted": 1} and (world.entry.pk, "posted") in after.entries


def _check_import_undo(*, response, world, actor, user, before, after) -> None:
    job = Job.objects.get(id=response.json()["job_id"])
    assert (job.kind, job.company, job.created_by, job.params["import_batch"]) == (
        "undo_import", world.company_a, user, str(world.finished_batch.id))
    assert ImportBatch.objects.get(pk=world.finished_batch.pk).status == "undoing"
    assert after.jobs == before.jobs + 1



def _check_trial_balance(*, response, world, actor, user, before, after) -> None:
    body = response.json()  # the posted entry (1000 Dr 100.00 / 8000 Cr 100.00); the proposed one does not count
    assert (body["company"], body["total_debit"], body["total_credit"], body["is_balanced"]) == (
        world.company_a.slug, "100.00", "100.00", True)
    assert [(row["code"], row["balance"]) for row in body["accounts"]] == [("1000", "100.00"), ("8000", "-100.00")]


def _check_profit_and_loss(*, response, world, actor, user, before, after) -> None:
    body = response.json()  # the year to date: the posted entry's sale counts if it is dated this year
    this_year = world.posted_entry.date.year == datetime.date.fromisoformat(body["date_to"]).year
    assert (body["company"], body["net_income"]) == (world.company_a.slug, "100.00" if this_year else "0.00")


def _check_journal_export(*, response, world, actor, user, before, after) -> None:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert world.posted_entry.memo in text and world.entry.memo not in text


def _check_reconcile_run(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    run = Reconciliation.objects.get(pk=body["reconciliation_id"])
    assert (body["kind"], str(run.job_id), run.company, run.created_by) == (
        "reconcile", body["job_id"], world.company_a, user)
    assert after.jobs == before.jobs + 1 and after.reconciliations == before.reconciliations + 1


def _check_reconciliation_list(*, response, world, actor, user, before, after) -> None:
    assert [run["id"] for run in response.json()["results"]] == [world.reconciliation.pk]


def _check_reconciliation_detail(*, response, world, actor, user, before, after) -> None:
    body = response.json()
    assert (body["id"], body["status"], [match["id"] for match in body["matches"]]) == (
        world.reconciliation.pk, "balanced", [world.match.pk])


def _check_unreconcile(*, response, world, actor, user, before, after) -> None:
    assert response.json() == {"reconciliation_id": world.reconciliation.pk, "unreconciled": 1}
    assert (before.reconciled, after.reconciled) == (1, 0)


def _match_now(status: str) -> Callable[..., None]:
    def check(*, response, world, actor, user, before, after) -> None:
        assert response.json()["status"] == status and (world.match.pk, status) in after.matches
        assert BankMatch.objects.get(pk=world.match.pk).decided_by == user
    return check


CONTENT_CHECKS: dict[tuple[str, str], Callable[..., None]] = {
    ("POST", "/api/reconcile/run"): _check_reconcile_run,
    ("GET", "/api/reconciliations/"): _check_reconciliation_list,
    ("GET", "/api/reconciliations/{reconciliation_id}"): _check_reconciliation_detail,
    ("POST", "/api/reconciliations/{reconciliation_id}/unreconcile"): _check_unreconcile,
    ("POST", "/api/matches/{match_id}/accept"): _match_now("accepted"),
    ("POST", "/api/matches/{match_id}/reject"): _match_now("rejected"),
    ("GET", "/api/ledger/trial-balance"): _check_trial_balance,
    ("GET", "/api/ledger/profit-and-loss"): _check_profit_and_loss,
    ("GET", "/api/ledger/export"): _check_journal_export,
    ("GET", "/api/journal/entries"): _check_journal_list,
    ("POST", "/api/journal/entries"): _check_journal_create,
    ("GET", "/api/journal/entries/{entry_id}"): _check_journal_detail,
    ("POST", "/api/journal/entries/{entry_id}/post"): _check_journal_post,
    ("POST", "/api/journal/entries/{entry_id}/reverse"): _check_journal_reverse,
    ("POST", "/api/journal/post"): _check_journal_post_all,
    ("POST", "/api/imports/{import_id}/undo"): _check_import_undo,
    ("POST", "/api/post/propose"): _check_post_propose,
    ("GET", "/api/review/"): _check_review,
    ("POST", "/api/decisions/{decision_id}/approve"): _check_decision_approved,
    ("POST", "/api/decisions/{decision_id}/correct"): _check_decision_corrected,
    ("POST", "/api/decisions/approve"): _check_bulk_approved,
    ("GET", "/api/automation/"): _check_automation,
    ("GET", "/api/models/"): _check_model_list,
    ("POST", "/api/models/train"): _check_model_train,
    ("GET", "/api/models/{version_id}"): _check_model_detail,
    ("POST", "/api/models/{version_id}/activate"): _check_model_activate,
    ("GET", "/api/transactions/{transaction_id}/decisions"): _check_decisions,
    ("POST", "/api/transactions/{transaction_id}/categorize"): _check_categorize,
    ("GET", "/api/transactions/{transaction_id}/split"): _check_split_read,
    ("POST", "/api/transactions/{transaction_id}/split"): _check_split,
    ("GET", "/api/rules/"): _check_rule_list,
    ("POST", "/api/rules/"): _check_rule_create,
    ("POST", "/api/rules/test"): _check_rule_test,
    ("POST", "/api/rules/bulk"): _rule_now("active"),
    ("GET", "/api/rules/export"): _check_rule_export,
    ("GET", "/api/rules/{rule_id}"): _check_rule_detail,
    ("PATCH", "/api/rules/{rule_id}"): _check_rule_patch,
    ("POST", "/api/rules/{rule_id}/approve"): _rule_now("active"),
    ("POST", "/api/rules/{rule_id}/reject"): _rule_now("rejected"),
    ("POST", "/api/rules/{rule_id}/retire"): _rule_now("retired"),
    ("GET", "/api/audit/"): _check_audit,
    ("POST", "/api/imports/"): _check_upload,
    ("GET", "/api/imports/{import_id}"): _check_import,
    ("POST", "/api/ingest/csv"): _check_upload,
    ("GET", "/api/jobs/{job_id}"): _check_job,
    ("GET", "/api/jobs/company/{company_id}"): _check_company_jobs,
    ("GET", "/api/tokens/"): _check_token_list,
    ("POST", "/api/tokens/"): _check_token_create,
    ("DELETE", "/api/tokens/{token_id}"): _check_token_revoke,
    ("GET", "/api/transactions/"): _check_transactions,
}


def test_every_row_with_a_success_status_has_a_content_check():
    assert set(CONTENT_CHECKS) == set(EXPECTED)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [pytest.param(actor, status, id=f"GET /api/schema/ as {actor} -> {status}")
     for actor, status in SCHEMA_ENDPOINT_EXPECTED.items()],
)
def test_the_schema_endpoint_needs_authentication(actor, expected, world, request, token_client_for):
    client, _ = _client(request, actor, token_client_for)

    response = client.get("/api/schema/?format=json")

    assert response.status_code == expected, f"GET /api/schema/ as {actor}: {response.status_code}"
    if expected == 200:
        assert set(json.loads(response.content)["paths"]) >= {path for _, path in EXPECTED}
