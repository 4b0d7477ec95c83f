"""The reconciliation API: POST /api/reconcile/run (202 + the job), runs and their matches, accept/reject,
unreconcile; precise 400s; other companies' objects are 404s, accountants read but do not decide."""
from __future__ import annotations

import pytest

from jobs.models import Job
from jobs.services import job_run
from ledger.models import BankMatch, MatchStatus, Reconciliation
from ledger.services.reconciliation import reconciliation_start
from ledger.tests.reconciliation_data import JUNE, bank_row, book, hand_checked_statement, june, manual_entry
from transactions.models import AuditEvent, Transaction

RUN = {"company": "alpha-bakery", "bank_account": "1000", "date_from": "2026-06-01", "date_to": "2026-06-30"}


def _run_through_api(client, **changes) -> dict:
    response = client.post("/api/reconcile/run", {**RUN, **changes}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    job_run(job_id=body["job_id"], worker="test")
    return body


def test_reconcile_run_answers_202_with_the_job_and_the_reconciliation(company_a, reviewer_a, token_client_for):
    statement = hand_checked_statement(company_a)
    client = token_client_for(reviewer_a)

    response = client.post("/api/reconcile/run", {**RUN, "window_days": 2}, format="json")

    assert response.status_code == 202
    body = response.json()
    run = Reconciliation.objects.get(pk=body["reconciliation_id"])
    assert (body["kind"], body["status"], body["company"], str(run.job_id)) == (
        "reconcile", "queued", "alpha-bakery", body["job_id"])
    assert (run.created_by, run.bank_account.code, run.period_start, run.period_end) == (reviewer_a, "1000", *JUNE)
    job_run(job_id=body["job_id"], worker="test")

    detail = client.get(f"/api/reconciliations/{run.pk}").json()

    assert {key: detail[key] for key in ("status", "opening_balance", "statement_closing_balance",
                                         "closing_balance_source", "ledger_movements", "difference")} == {
        "status": "unbalanced", "opening_balance": "1000.00", "statement_closing_balance": "882.50",
        "closing_balance_source": "file", "ledger_movements": "7.50", "difference": "125.00"}
    assert [row["id"] for row in detail["summary"]["unmatched_statement"]] == [statement.fee.pk]
    assert [item["id"] for item in detail["summary"]["unmatched_ledger"]] == [statement.cash_sale.pk]
    [match] = detail["matches"]
    assert (match["status"], match["score"], match["reasons"][:2], match["transaction"]["id"], match["entry"]["id"],
            match["transaction"]["amount"]) == (
        "suggested", "0.800", ["same amount -750.00", "2 days apart"], statement.rent.pk, statement.rent_entry.pk,
        "-750.00")
    job = client.get(f"/api/jobs/{body['job_id']}").json()
    assert (job["status"], job["result"]["reconciliation_id"], job["result"]["difference"]) == (
        "finished", run.pk, "125.00")


def test_the_users_closing_balance_is_taken_when_the_file_has_none(company_a, reviewer_a, token_client_for):
    row = bank_row(company_a, june(4), "STRIPE PAYOUT", "100.00")
    book(company_a, (row, "8000"))
    client = token_client_for(reviewer_a)

    body = _run_through_api(client, closing_balance="100.00", opening_balance="0.00")

    detail = client.get(f"/api/reconciliations/{body['reconciliation_id']}").json()
    assert (detail["status"], detail["difference"], detail["closing_balance_source"], detail["counts"]["reconciled"]) \
        == ("balanced", "0.00", "user", 1)


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"bank_account": "9999"}, None, "Alpha Bakery has no account with code '9999'."),
    ({"bank_account": "6100"}, None, "Account 6100 Office Supplies is not a bank account; reconcile a bank account."),
    ({"date_from": "2026-06-30", "date_to": "2026-06-01"}, None,
     "The reconciliation request is not valid: date_from (2026-06-30) must not be after date_to (2026-06-01)."),
    ({"closing_balance": "12.345"}, "closing_balance", "Ensure that there are no more than 2 decimal places."),
    ({"closing_balance": "lots"}, "closing_balance", "A valid number is required."),
    ({"window_days": 30}, "window_days", "Ensure this value is less than or equal to 7."),
    ({"date_to": "June"}, "date_to", "Date has wrong format."),
])
def test_a_bad_request_is_a_precise_400_and_starts_nothing(company_a, reviewer_a, token_client_for, changes, field,
                                                           text):
    response = token_client_for(reviewer_a).post("/api/reconcile/run", {**RUN, **changes}, format="json")

    assert response.status_code == 400
    body = response.json()
    if field is None:
        assert (body["code"], body["message"]) == ("ledger_invalid", text)
    else:
        assert body["extra"]["fields"][field][0].startswith(text)
    assert (Reconciliation.objects.count(), Job.objects.count()) == (0, 0)


def test_the_list_shows_the_companys_runs_newest_first(company_a, company_b, reviewer_a, token_client_for):
    older = reconciliation_start(company=company_a, bank_account_code="1000", date_from=june(1), date_to=june(15),
                                 user=reviewer_a)
    newer = reconciliation_start(company=company_a, bank_account_code="1000", date_from=june(16), date_to=june(30),
                                 user=reviewer_a)
    reconciliation_start(company=company_b, bank_account_code="1000", date_from=june(1), date_to=june(30), user=None)

    response = token_client_for(reviewer_a).get("/api/reconciliations/?company=alpha-bakery")

    assert response.status_code == 200
    assert [(run["id"], run["status"], run["period_start"]) for run in response.json()["results"]] == [
        (newer.pk, "running", "2026-06-16"), (older.pk, "running", "2026-06-01")]


def test_accept_through_the_api_books_the_row(company_a, reviewer_a, token_client_for):
    row = bank_row(company_a, june(3), "ACME RENT", "-750.00")
    entry = manual_entry(company_a, june(3), "ACME rent", "-750.00")
    client = token_client_for(reviewer_a)
    _run_through_api(client, closing_balance="-750.00")
    match = BankMatch.objects.get()

    response = client.post(f"/api/matches/{match.pk}/accept")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"], response.json()["entry"]["id"]) == (
        "accepted", "reviewer_a", entry.pk)
    assert Transaction.objects.get(pk=row.pk).reconciled_at is not None  # the run had balanced
    again = client.post(f"/api/matches/{match.pk}/accept")
    assert (again.status_code, again.json()["code"]) == (409, "ledger_conflict")


def test_reject_through_the_api(company_a, reviewer_a, token_client_for):
    bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    client = token_client_for(reviewer_a)
    _run_through_api(client, closing_balance="-750.00")
    match = BankMatch.objects.get()

    response = client.post(f"/api/matches/{match.pk}/reject")

    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    assert BankMatch.objects.get(pk=match.pk).status == MatchStatus.REJECTED


def test_unreconcile_through_the_api_clears_the_marks_and_is_audited(company_a, reviewer_a, token_client_for):
    rows = [bank_row(company_a, june(day), f"SALE {day}", "100.00", f"{100 * day}.00", line=day) for day in (1, 2)]
    book(company_a, *[(row, "8000") for row in rows])
    client = token_client_for(reviewer_a)
    body = _run_through_api(client)

    one = client.post(f"/api/reconciliations/{body['reconciliation_id']}/unreconcile", {"transaction": rows[0].pk},
                      format="json")
    rest = client.post(f"/api/reconciliations/{body['reconciliation_id']}/unreconcile", {}, format="json")
    nothing = client.post(f"/api/reconciliations/{body['reconciliation_id']}/unreconcile", {}, format="json")

    assert (one.status_code, one.json()) == (200, {"reconciliation_id": body["reconciliation_id"], "unreconciled": 1})
    assert (rest.status_code, rest.json()["unreconciled"]) == (200, 1)
    assert (nothing.status_code, nothing.json()["code"]) == (409, "ledger_conflict")
    assert not Transaction.objects.filter(reconciled_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="ledger.unreconcile", actor=reviewer_a).count() == 2


def test_another_companys_reconciliation_and_matches_are_404s(company_a, outsider, reviewer_a, token_client_for):
    bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    _run_through_api(token_client_for(reviewer_a), closing_balance="-750.00")
    run, match = Reconciliation.objects.get(), BankMatch.objects.get()
    client = token_client_for(outsider)

    answers = [
        client.get(f"/api/reconciliations/{run.pk}"),
        client.get("/api/reconciliations/?company=alpha-bakery"),
        client.post(f"/api/matches/{match.pk}/accept"),
        client.post(f"/api/matches/{match.pk}/reject"),
        client.post(f"/api/reconciliations/{run.pk}/unreconcile", {}, format="json"),
        client.post("/api/reconcile/run", RUN, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 6
    assert all("ACME" not in answer.content.decode() for answer in answers)
    assert (BankMatch.objects.get().status, Reconciliation.objects.count()) == (MatchStatus.SUGGESTED, 1)


def test_accountants_read_runs_but_do_not_decide(company_a, accountant_a, reviewer_a, token_client_for):
    bank_row(company_a, june(3), "ACME RENT", "-750.00")
    manual_entry(company_a, june(3), "ACME rent", "-750.00")
    _run_through_api(token_client_for(reviewer_a), closing_balance="-750.00")
    run, match = Reconciliation.objects.get(), BankMatch.objects.get()
    client = token_client_for(accountant_a)

    assert client.get(f"/api/reconciliations/{run.pk}").status_code == 200
    assert [client.post(f"/api/matches/{match.pk}/accept").status_code,
            client.post("/api/reconcile/run", RUN, format="json").status_code] == [403, 403]
    assert (BankMatch.objects.get().status, Reconciliation.objects.count()) == (MatchStatus.SUGGESTED, 1)


def test_the_run_endpoint_rejects_decimal_amounts_given_as_floats_precisely(company_a, reviewer_a, token_client_for):
    # JSON numbers are accepted as amounts, but never rounded silently.
    response = token_client_for(reviewer_a).post("/api/reconcile/run", {**RUN, "closing_balance": 10.005},
                                                 format="json")

    assert response.status_code == 400
    assert "closing_balance" in response.json()["extra"]["fields"]
