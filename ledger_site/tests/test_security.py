"""Security behaviour: tokens, roles, throttling, lockout, audit trail, headers, production settings."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from jobs.services import job_run
from transactions.models import ApiToken, AuditEvent, ImportBatch
from transactions.services.audit import audit_record
from transactions.services.imports import import_batch_confirm, import_batch_upload
from transactions.services.tokens import api_token_create
from transactions.tests.factories import make_transactions

ROOT = Path(__file__).resolve().parents[2]
CSV = b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n"


def upload(client, company, name: str = "a.csv"):
    return client.post(
        "/api/imports/",
        {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile(name, CSV)},
        format="multipart",
    )


# --- API tokens -------------------------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(accountant_a, client_for):
    client = client_for(accountant_a)
    client.get("/accounts/login/")  # any page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value

    created = client.post("/api/tokens/", {"name": "sync script"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    listed = client.get("/api/tokens/")

    assert created.status_code == 201
    key = created.json()["key"]
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.prefix) and token.prefix == key[:8]
    assert "key" not in listed.json()[0]
    scripted = APIClient()
    scripted.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert scripted.get("/api/transactions/").status_code == 200


def test_a_revoked_token_gets_401(accountant_a):
    token, key = api_token_create(user=accountant_a, name="old")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.delete(f"/api/tokens/{token.pk}").status_code == 204

    response = client.get("/api/transactions/")

    assert response.status_code == 401
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["token.revoke", "token.create"]


def test_session_api_writes_need_the_csrf_token(accountant_a, client_for):
    response = client_for(accountant_a).post("/api/tokens/", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


# --- Roles -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user_fixture", "status"), [
    ("accountant_a", 403), ("reviewer_a", 403), ("admin_a", 200), ("outsider", 404), ("superuser", 200),
])
def test_only_company_admins_read_the_audit_trail(request, company_a, token_client_for, user_fixture, status):
    user = request.getfixturevalue(user_fixture)

    api = token_client_for(user).get("/api/audit/", {"company": company_a.slug})
    page_client = APIClient()
    page_client.force_login(user)
    page = page_client.get(f"/audit/{company_a.slug}/")

    assert api.status_code == status
    assert page.status_code == status


# --- Throttling and lockout ------------------------------------------------------------------------------

def test_uploads_past_the_hourly_limit_get_429_with_retry_after(company_a, accountant_a, token_client_for, settings):
    settings.UPLOADS_PER_HOUR_PER_USER = 2
    client = token_client_for(accountant_a)

    statuses = [upload(client, company_a, name=f"{i}.csv").status_code for i in range(3)]
    refused = upload(client, company_a, name="4.csv")

    assert statuses == [202, 202, 429]
    assert refused.json()["code"] == "upload_rate_exceeded"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert ImportBatch.objects.count() == 2


def test_the_company_limit_counts_every_member(company_a, accountant_a, reviewer_a, token_client_for, settings):
    settings.UPLOADS_PER_HOUR_PER_COMPANY = 1
    assert upload(token_client_for(accountant_a), company_a).status_code == 202

    assert upload(token_client_for(reviewer_a), company_a).status_code == 429


def test_repeated_failed_logins_lock_the_account_with_429(accountant_a, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "accountant_a", "password": "wrong"})

    locked = client.post("/accounts/login/", {"username": "accountant_a", "password": "correct horse battery staple"})

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


# --- Audit trail -----------------------------------------------------------------------------------------

def test_uploads_and_imports_are_audited_with_the_actor(company_a, accountant_a, token_client_for):
    upload(token_client_for(accountant_a), company_a)

    event = AuditEvent.objects.get(action="import.upload")

    assert event.company == company_a
    assert event.actor_label == "user:accountant_a"
    assert event.after["file"] == "a.csv"
    assert event.after["bank_account"] == "1000"


def test_audit_events_cannot_be_changed_or_deleted_through_django(company_a):
    event = audit_record(action="test.event", company=company_a, system="tests")

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL; SQLite relies on the model")
def test_audit_rows_cannot_be_changed_with_raw_sql_on_postgresql(company_a):
    event = audit_record(action="test.event", company=company_a, system="tests")

    for statement in ("UPDATE transactions_auditevent SET action = 'x'", "DELETE FROM transactions_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_the_admin_cannot_edit_or_delete_audit_events(company_a, superuser, client):
    event = audit_record(action="test.event", company=company_a, system="tests")
    client.force_login(superuser)

    change = client.post(f"/admin/transactions/auditevent/{event.pk}/change/", {"action": "changed"})
    delete = client.post(f"/admin/transactions/auditevent/{event.pk}/delete/", {"post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_audit_export_lists_the_filtered_events_and_is_itself_audited(company_a, admin_a, client):
    audit_record(action="test.event", company=company_a, system="tests", after={"note": "kept"})
    audit_record(action="other.event", company=company_a, system="tests")
    client.force_login(admin_a)

    response = client.get(f"/audit/{company_a.slug}/", {"format": "csv", "action": "test.event"})

    rows = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == 2 and "test.event" in rows[1] and "kept" in rows[1]
    assert AuditEvent.objects.filter(action="export.audit", actor=admin_a).exists()


def test_membership_changes_in_the_admin_are_audited(company_a, accountant_a, admin_a, client):
    admin_a.is_staff = True
    admin_a.save()
    membership = accountant_a.memberships.get()
    client.force_login(admin_a)

    response = client.post(
        f"/admin/transactions/membership/{membership.pk}/change/",
        {"user": accountant_a.pk, "company": company_a.pk, "role": "reviewer"},
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="membership.update")
    assert (event.before, event.after["role"], event.actor) == ({"role": "accountant"}, "reviewer", admin_a)


# --- Headers and production settings -------------------------------------------------------------------

def test_pages_send_security_headers(accountant_a, client):
    client.force_login(accountant_a)

    response = client.get("/")

    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_descriptions_with_html_are_shown_as_text(company_a, accountant_a, client):
    make_transactions(company_a, 1)
    company_a.transactions.update(description="<script>alert(1)</script>")
    client.force_login(accountant_a)

    page = client.get("/transactions/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#Qz!p2Rv9@Lm4$Wx8^Nb3&Jt6*Hc1(Yd5)Fg0-Se7+Ua2=Vo9",
    "ALLOWED_HOSTS": "ledger.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def test_check_deploy_passes_with_the_documented_production_environment():
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "ledger_site.settings"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "ledger_site.settings", "SECRET_KEY": ""}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_read_only_token_fields_cannot_be_set_through_the_api(accountant_a, token_client_for):
    response = token_client_for(accountant_a).post(
        "/api/tokens/", {"name": "mine", "prefix": "evil", "revoked_at": "2020-01-01T00:00:00Z", "id": 999},
        format="json",
    )

    token = ApiToken.objects.get(name="mine")
    assert response.status_code == 201
    assert token.pk != 999 and token.prefix != "evil" and token.revoked_at is None


def test_the_upload_page_refuses_another_companys_bank_account(company_a, company_b, accountant_a, client):
    client.force_login(accountant_a)
    foreign_account = company_b.accounts.get(code="1000")

    response = client.post(
        "/imports/new/", {"bank_account": foreign_account.pk, "files": [SimpleUploadedFile("a.csv", CSV)]}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ImportBatch.objects.exists()


def post_thresholds_as(user, client, company, confidence: str):
    """A staff user submits the company's change form in the admin with a new confidence threshold."""
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client.post(
        f"/admin/transactions/company/{company.pk}/change/",
        {"name": company.name, "slug": company.slug, "ml_confidence_threshold": confidence, "ml_review_threshold": ""},
    )


def test_threshold_changes_in_the_admin_are_audited_with_before_and_after(company_a, admin_a, client):
    response = post_thresholds_as(admin_a, client, company_a, "0.900")

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="company.thresholds")
    assert event.before == {"ml_confidence_threshold": "None", "ml_review_threshold": "None"}
    assert event.after == {"ml_confidence_threshold": "0.900", "ml_review_threshold": "None"}


def test_a_reviewer_cannot_change_thresholds_in_the_admin(company_a, reviewer_a, client):
    response = post_thresholds_as(reviewer_a, client, company_a, "0.5")

    company_a.refresh_from_db()
    assert response.status_code == 403
    assert company_a.ml_confidence_threshold is None
    assert not AuditEvent.objects.exists()


def test_confirming_ingesting_and_exporting_an_import_are_audited(company_a, accountant_a, client):
    batch = import_batch_upload(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("a.csv", CSV), filename="a.csv", user=accountant_a,
    )
    batch = import_batch_confirm(batch=batch, user=accountant_a)
    job_run(job_id=batch.job_id, worker="test")
    client.force_login(accountant_a)
    client.get(f"/imports/{batch.id}/errors.csv")

    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor_label"))
    assert events == [
        ("import.upload", "user:accountant_a"),
        ("import.confirm", "user:accountant_a"),
        ("import.finish", "system:ingest"),
        ("export.import_errors", "user:accountant_a"),
    ]
    assert AuditEvent.objects.get(action="import.finish").after == {
        "rows": 1, "imported": 1, "duplicates": 0, "rejected": 0,
    }


@pytest.mark.parametrize("path", [
    "/api/audit/?company=alpha%00bakery",
    "/api/jobs/company/alpha%00bakery",
    "/api/transactions/?q=a%00b&q=ok",
    "/transactions/?q=%00",
])
def test_a_nul_character_in_the_url_is_a_400_not_a_server_error(admin_a, token_client_for, path):
    response = token_client_for(admin_a).get(path)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_nul_character_in_a_json_body_is_a_400_and_saves_nothing(company_a, admin_a, token_client_for):
    from rules.models import Rule

    body = {"company": "alpha-bakery", "name": "Bank", "account_code": "6100",
            "conditions": [{"field": "bank_account", "op": "equals", "value": "10\x0000"}]}

    response = token_client_for(admin_a).post("/api/rules/", body, format="json")

    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not Rule.objects.exists()


def test_a_nul_character_in_a_form_post_is_a_400(company_a, reviewer_a, client_for):
    from rules.tests.factories import add_lines
    from decisions.models import Decision

    [line] = add_lines(company_a, "STAPLES", 1)
    decision = Decision.objects.create(company=company_a, transaction=line, method="human", status="needs_review")
    client = client_for(reviewer_a)
    client.handler.enforce_csrf_checks = False

    response = client.post("/review/alpha-bakery/correct/", {"decision": decision.pk, "account": "61\x0000"})

    assert response.status_code == 400
    assert Decision.objects.get(pk=decision.pk).account is None
