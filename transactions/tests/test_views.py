"""The upload pages and the transactions list, through Django's test client."""
from __future__ import annotations


from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.services import job_run
from transactions.models import ImportBatch, ImportStatus
from transactions.services.imports import import_batch_submit
from transactions.tests.factories import make_transactions

GOOD = b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n2025-01-11,=HYPERLINK(\"x\"),oops\n2025-01-12,SQUARE,30.00\n"
AMBIGUOUS = b"Date,Description,Amount\n01/02/2025,STAPLES,-1.00\n"


def upload(client, company, *files):
    return client.post(
        "/imports/new/",
        {"bank_account": company.accounts.get(code="1000").pk, "files": list(files)},
        follow=True,
    )


def test_one_bad_file_does_not_stop_the_others(company_a, accountant_a, client):
    client.force_login(accountant_a)

    response = upload(
        client, company_a,
        SimpleUploadedFile("good.csv", GOOD),
        SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    )

    assert response.status_code == 200
    assert [b.original_filename for b in ImportBatch.objects.all()] == ["good.csv"]
    page = response.content.decode()
    assert "photo.csv" in page  # the error message names the rejected file
    assert "good.csv" in page and "STAPLES" in page  # and the good one is previewed


def test_ambiguous_dates_must_be_chosen_before_import(company_a, accountant_a, client):
    client.force_login(accountant_a)
    response = upload(client, company_a, SimpleUploadedFile("amb.csv", AMBIGUOUS))
    batch = ImportBatch.objects.get()
    assert "choose the date format" in response.content.decode()

    refused = client.post(response.redirect_chain[-1][0], {"action": "confirm", f"{batch.id}-date": "0"})

    batch.refresh_from_db()
    assert refused.status_code == 200
    assert batch.status == ImportStatus.PREVIEW
    assert batch.job is None


def test_confirming_with_a_corrected_mapping_starts_the_job(company_a, accountant_a, client):
    client.force_login(accountant_a)
    response = upload(client, company_a, SimpleUploadedFile("amb.csv", AMBIGUOUS))
    batch = ImportBatch.objects.get()
    prefix = str(batch.id)

    confirmed = client.post(
        response.redirect_chain[-1][0],
        {"action": "confirm", f"{prefix}-date": "0", f"{prefix}-description": "1", f"{prefix}-amount": "2",
         f"{prefix}-date_format": "%d/%m/%Y"},
    )

    batch.refresh_from_db()
    assert confirmed.status_code == 302
    assert confirmed["Location"].startswith("/imports/status/")
    assert batch.status == ImportStatus.QUEUED
    assert batch.layout["mapping"]["date_format"] == "%d/%m/%Y"


def test_rejected_rows_download_as_csv_with_formulas_neutralized(company_a, accountant_a, client):
    batch = import_batch_submit(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("good.csv", GOOD), filename="good.csv", user=accountant_a, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="test")
    client.force_login(accountant_a)

    response = client.get(f"/imports/{batch.id}/errors.csv")

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0] == "line,column,message"
    assert lines[1].startswith("3,Amount,")
    assert "oops" in lines[1]


def test_error_export_neutralizes_spreadsheet_formulas(company_a, accountant_a, client):
    batch = import_batch_submit(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("good.csv", GOOD), filename="good.csv", user=accountant_a, enqueue=False,
    )
    batch.row_errors.create(line=9, column="=HYPERLINK(\"http://x\")", message="@SUM(1+1)")
    client.force_login(accountant_a)

    lines = client.get(f"/imports/{batch.id}/errors.csv").content.decode().splitlines()

    assert lines[1] == "9,\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(1+1)"


def test_other_companies_imports_are_404(company_a, outsider, accountant_a, client):
    batch = import_batch_submit(
        company=company_a, bank_account=company_a.accounts.get(code="1000"),
        upload=SimpleUploadedFile("good.csv", GOOD), filename="good.csv", user=accountant_a, enqueue=False,
    )
    client.force_login(outsider)

    assert client.get(f"/imports/{batch.id}/errors.csv").status_code == 404
    assert client.get(f"/imports/status/?batch={batch.id}").status_code == 404


def test_transactions_list_filters_and_scopes_to_the_users_companies(
    company_a, company_b, accountant_a, client, django_assert_max_num_queries
):
    make_transactions(company_a, 120)
    make_transactions(company_b, 5)
    client.force_login(accountant_a)

    with django_assert_max_num_queries(9):
        page = client.get("/transactions/")
    filtered = client.get("/transactions/", {"amount_min": "0", "q": "vendor 1", "date_to": "2025-04-30"})

    assert page.context["page"].paginator.count == 120
    assert len(page.context["page"]) == 50
    rows = list(filtered.context["page"])
    assert rows and all(t.amount >= 0 and "VENDOR 1" in t.description for t in rows)
    assert {t.company for t in rows} == {company_a}


def test_transactions_list_ignores_another_companys_filter_values(company_a, company_b, accountant_a, client):
    make_transactions(company_b, 5)
    client.force_login(accountant_a)

    response = client.get("/transactions/", {"company": company_b.pk})

    assert response.context["page"].paginator.count == 0


def test_a_long_list_stops_counting_at_the_cap_but_still_pages(company_a, accountant_a, client, monkeypatch):
    monkeypatch.setattr("transactions.pagination.COUNT_CAP", 100)
    make_transactions(company_a, 120)
    client.force_login(accountant_a)

    first = client.get("/transactions/")
    third = client.get("/transactions/", {"page": 3})

    assert "More than 100 transactions" in first.content.decode()
    assert first.context["page"].has_next()
    assert len(third.context["page"]) == 20  # rows past the cap are still reachable
    assert not third.context["page"].has_next()
