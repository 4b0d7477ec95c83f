"""The journal page and the undo button, through Django's test client and in a real headless Chromium."""
from __future__ import annotations

import datetime
from decimal import Decimal

from playwright.sync_api import expect

from jobs.models import Job, JobKind
from jobs.services import job_fail, job_run
from ledger.models import EntryStatus, JournalEntry
from ledger.services.postings import journal_entries_propose, journal_entry_create
from ledger.tests.test_postings import _decide
from ledger_site.tests.browser import SCREENSHOTS, log_in
from transactions.models import Account, AuditEvent, ImportStatus, Transaction
from transactions.tests.factories import AccountFactory
from transactions.tests.test_ingest import JANUARY, run_import


def _loan(company, memo="Owner's loan", post=False):
    bank, sales = (Account.objects.get(company=company, code=code) for code in ("1000", "8000"))
    return journal_entry_create(company=company, date=datetime.date(2025, 3, 1), memo=memo, post=post,
                                lines=[(bank, Decimal("500.00"), Decimal(0)), (sales, Decimal(0), Decimal("500.00"))])


def test_members_see_the_journal_and_only_reviewers_get_buttons(client, company_a, company_b, accountant_a,
                                                                 reviewer_a, outsider):
    entry = _loan(company_a)
    AccountFactory(company=company_b, code="8000", name="Sales", type="income")
    _loan(company_b, memo="BETA SECRET")
    url = f"/ledger/{company_a.slug}/journal/"

    client.force_login(accountant_a)
    page = client.get(url).content.decode()
    assert "Owner&#x27;s loan" in page and "BETA SECRET" not in page and "Post all proposed" not in page
    assert client.post(f"/ledger/{company_a.slug}/journal/{entry.pk}/post/").status_code == 403

    client.force_login(reviewer_a)
    assert "Post all proposed" in client.get(url).content.decode()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(f"/ledger/{company_a.slug}/journal/{entry.pk}/post/").status_code == 404
    assert JournalEntry.objects.get(pk=entry.pk).status == EntryStatus.PROPOSED


def test_the_status_filter_narrows_the_list_and_a_bad_one_is_explained(client, company_a, reviewer_a):
    _loan(company_a, memo="PROPOSED ONE")
    _loan(company_a, memo="POSTED ONE", post=True)
    client.force_login(reviewer_a)

    posted_only = client.get(f"/ledger/{company_a.slug}/journal/?status=posted").content.decode()
    assert "POSTED ONE" in posted_only and "PROPOSED ONE" not in posted_only
    bad = client.get(f"/ledger/{company_a.slug}/journal/?status=maybe").content.decode()
    assert "Some filters are not valid" in bad and "POSTED ONE" in bad


def test_the_undo_button_queues_the_undo_and_the_import_page_follows_it(client, company_a, reviewer_a,
                                                                       accountant_a):
    batch = run_import(company_a, JANUARY)
    status_page = f"/imports/status/?batch={batch.pk}"
    client.force_login(accountant_a)
    assert client.post(f"/ledger/imports/{batch.pk}/undo/").status_code == 403
    assert "Undo this import" in client.get(status_page).content.decode()

    client.force_login(reviewer_a)
    response = client.post(f"/ledger/imports/{batch.pk}/undo/", follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == status_page
    assert "Undoing the import of bank.csv" in page and "Undoing this import…" in page
    assert "Undo this import" not in page  # no second undo while one runs
    undo = Job.objects.get(kind=JobKind.UNDO_IMPORT)
    assert f'data-job-url="/api/jobs/{undo.pk}"' in page
    assert Transaction.objects.filter(company=company_a).count() == 4  # the worker does the work

    job_run(job_id=undo.pk, worker="test")

    page = client.get(status_page).content.decode()
    assert ("This import was undone: 4 transactions removed, 0 posted entries reversed, 0 proposed entries "
            "withdrawn.") in page
    assert "Undo this import" not in page and "Undoing this import" not in page
    assert not Transaction.objects.filter(company=company_a).exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    assert AuditEvent.objects.filter(action="import.undo", actor=reviewer_a).count() == 1


def test_an_undo_that_failed_for_good_offers_to_go_on(client, company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    client.force_login(reviewer_a)
    client.post(f"/ledger/imports/{batch.pk}/undo/")
    failed = Job.objects.get(kind=JobKind.UNDO_IMPORT)
    job_fail(job_id=failed.pk, code="internal_error", message="The worker stopped responding 5 times; giving up.")

    page = client.get(f"/imports/status/?batch={batch.pk}").content.decode()

    assert "The undo of this import stopped: The worker stopped responding 5 times; giving up." in page
    assert "Go on undoing bank.csv" in page and "data-job-url" not in page  # nothing to poll: no reload loop
    client.post(f"/ledger/imports/{batch.pk}/undo/")
    again = Job.objects.filter(kind=JobKind.UNDO_IMPORT).exclude(pk=failed.pk).get()
    page = client.get(f"/imports/status/?batch={batch.pk}").content.decode()
    assert f'data-job-url="/api/jobs/{again.pk}"' in page and "Go on undoing" not in page


def test_a_reviewer_posts_then_reverses_an_entry_in_the_browser(page, company_a, reviewer_a):
    line = _decide(company_a, "STAPLES OFFICE 00123", "-12.50", "6100")
    journal_entries_propose(company=company_a)
    _loan(company_a)
    log_in(page, "reviewer_a")

    page.goto(f"/ledger/{company_a.slug}/journal/")
    expect(page.locator("#post-all .count-pill")).to_have_text("2")
    entry = JournalEntry.objects.get(source_transaction=line)
    row = page.locator(f"tbody[data-entry-id='{entry.pk}']")
    row.get_by_role("button", name="Post").click()
    expect(page.locator(".messages, .message").first).to_contain_text(f"Entry #{entry.pk} is posted")
    expect(row.locator(".badge.status-posted")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "journal-1-posted.png", full_page=True)

    row.get_by_role("button", name="Reverse").click()

    expect(page.locator(".messages, .message").first).to_contain_text("back in the review queue")
    expect(row.locator(".badge.status-reversed")).to_be_visible()
    assert JournalEntry.objects.get(reverses=entry).status == EntryStatus.POSTED
    assert Transaction.objects.get(pk=line.pk).status == "needs_review"
    page.screenshot(path=SCREENSHOTS / "journal-2-reversed.png", full_page=True)
    assert page.console_errors == []


def test_a_reviewer_undoes_an_import_and_watches_the_undo_finish_in_the_browser(page, company_a, reviewer_a):
    batch = run_import(company_a, JANUARY)
    log_in(page, "reviewer_a")

    page.goto(f"/imports/status/?batch={batch.pk}")
    expect(page.locator("section.import .state")).to_have_text("Done.")
    page.get_by_text("Undo this import…").click()
    page.get_by_role("button", name="Undo the import of bank.csv").click()

    expect(page.locator(".message.success")).to_contain_text("Undoing the import of bank.csv")
    expect(page.locator(".undo-running h3")).to_have_text("Undoing this import…")
    expect(page.locator(".undo-running .state")).to_have_text("Waiting for a worker…")
    expect(page.get_by_text("Undo this import…")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "undo-1-queued.png", full_page=True)
    # The job machinery runs the queued job here; the page polls it and reloads once it is final.
    job_run(job_id=Job.objects.get(kind=JobKind.UNDO_IMPORT).id, worker="browser-test")

    expect(page.locator(".message.undone")).to_have_text(
        "This import was undone: 4 transactions removed, 0 posted entries reversed, 0 proposed entries withdrawn.")
    expect(page.locator(".undo-running")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "undo-2-done.png", full_page=True)
    assert not Transaction.objects.filter(company=company_a).exists()
    assert page.console_errors == []
