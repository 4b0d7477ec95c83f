"""POST /api/imports/ at the HTTP level: explicit layouts, ambiguous dates, limits, tenancy, saved profiles."""
from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job
from transactions.models import ImportBatch, ImportProfile
from transactions.services.imports import import_batch_confirm, import_batch_upload
from transactions.tests.factories import make_transactions

AMBIGUOUS = b"Date,Description,Amount\n01/02/2025,STAPLES,-1.00\n03/04/2025,STAPLES,-2.00\n"


def post(client, company, content: bytes, **fields):
    data = {"company": company.slug, "bank_account": "1000", "file": SimpleUploadedFile("f.csv", content), **fields}
    return client.post("/api/imports/", data, format="multipart")


def test_ambiguous_dates_are_a_422_that_lists_the_candidates(company_a, accountant_a, token_client_for):
    response = post(token_client_for(accountant_a), company_a, AMBIGUOUS)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ambiguous_date_format"
    assert set(body["extra"]["date_format_candidates"]) == {"%m/%d/%Y", "%d/%m/%Y"}
    assert not Job.objects.exists() and not ImportBatch.objects.exists()


def test_the_date_format_can_be_chosen_explicitly(company_a, accountant_a, token_client_for):
    response = post(token_client_for(accountant_a), company_a, AMBIGUOUS, date_format="%d/%m/%Y")

    assert response.status_code == 202
    layout = ImportBatch.objects.get().layout
    assert layout["mapping"]["date_format"] == "%d/%m/%Y"


def test_an_explicit_layout_is_validated_with_a_precise_message(company_a, accountant_a, token_client_for):
    client = token_client_for(accountant_a)

    not_json = post(client, company_a, AMBIGUOUS, layout="{oops")
    bad_layout = post(client, company_a, AMBIGUOUS, layout=json.dumps({"kind": "csv"}))

    assert not_json.status_code == 400
    assert not_json.json()["code"] == "invalid"
    assert "Not valid JSON" in not_json.json()["extra"]["fields"]["layout"][0]
    assert bad_layout.status_code == 400
    assert bad_layout.json()["code"] == "invalid_layout"
    assert "missing keys" in bad_layout.json()["message"]


def test_a_bank_account_of_another_company_is_refused(company_a, company_b, outsider, token_client_for):
    response = post(token_client_for(outsider), company_a, AMBIGUOUS)

    assert response.status_code == 404
    assert not ImportBatch.objects.exists()


def test_a_non_bank_account_is_refused(company_a, accountant_a, token_client_for):
    response = post(token_client_for(accountant_a), company_a, AMBIGUOUS, bank_account="6100")

    assert response.status_code == 400
    assert response.json()["code"] == "not_a_bank_account"


def test_uploads_above_the_limit_are_refused_before_the_body_is_read(company_a, accountant_a, token_client_for, settings):
    settings.MAX_UPLOAD_MB = 1
    body = b"Date,Description,Amount\n" + b"2025-01-01,X,-1.00\n" * 80_000  # about 1.5 MB

    response = post(token_client_for(accountant_a), company_a, body)

    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert "limit is 1 MB" in response.json()["message"]
    assert not ImportBatch.objects.exists()


def test_session_authenticated_upload_needs_the_csrf_token(company_a, accountant_a, client_for):
    response = post(client_for(accountant_a), company_a, AMBIGUOUS, date_format="%d/%m/%Y")

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_a_confirmed_mapping_is_reused_for_the_next_file_with_that_header(company_a, accountant_a):
    header = b"Posted,Memo,Withdrawal,Deposit\n"
    first = import_batch_upload(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("a.csv", header + b"01/02/2025,COFFEE,4.75,\n"), filename="a.csv", user=accountant_a,
    )
    layout = dict(first.layout)
    layout["mapping"] = {**layout["mapping"], "date_format": "%d/%m/%Y"}
    layout["date_format_candidates"] = ["%d/%m/%Y"]
    import_batch_confirm(batch=first, user=accountant_a, layout_override=layout)

    second = import_batch_upload(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("b.csv", header + b"03/04/2025,BAGEL,2.00,\n"), filename="b.csv", user=accountant_a,
    )

    assert ImportProfile.objects.count() == 1
    assert second.layout["mapping"]["date_format"] == "%d/%m/%Y"
    assert second.layout["date_format_candidates"] == ["%d/%m/%Y"]


def test_transactions_api_lists_only_the_users_companies_with_money_as_strings(
    company_a, company_b, accountant_a, token_client_for
):
    make_transactions(company_a, 3)
    make_transactions(company_b, 2)

    response = token_client_for(accountant_a).get("/api/transactions/", {"amount_max": "-49"})

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2 and body["next"] is None
    assert {item["company"] for item in body["results"]} == {"alpha-bakery"}
    assert sorted(item["amount"] for item in body["results"]) == ["-49.00", "-50.00"]


def test_invalid_transaction_filters_are_a_400_naming_the_field(accountant_a, token_client_for):
    response = token_client_for(accountant_a).get("/api/transactions/", {"amount_min": "lots", "date_from": "soon"})

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"amount_min", "date_from"}


def test_unknown_api_urls_answer_in_the_api_error_shape(accountant_a, token_client_for):
    response = token_client_for(accountant_a).delete("/api/tokens/-1")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
