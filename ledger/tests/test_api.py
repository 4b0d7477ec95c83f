"""POST /api/post/propose (the original endpoint name) queues the post_propose job, which books the decisions."""
from __future__ import annotations

from jobs.models import Job
from jobs.services import job_run
from ledger.models import JournalEntry
from ledger.tests.test_postings import _decide


def test_post_propose_queues_the_job_that_books_the_decided_transactions(company_a, reviewer_a, token_client_for):
    line = _decide(company_a, "STAPLES", "-12.50", "6100")

    response = token_client_for(reviewer_a).post("/api/post/propose", {"company": "alpha-bakery"}, format="json")

    assert response.status_code == 202
    job = Job.objects.get(id=response.json()["job_id"])
    job_run(job_id=job.id, worker="test")
    job.refresh_from_db()
    assert (job.status, job.result["proposed"]) == ("finished", 1)
    assert JournalEntry.objects.filter(source_transaction=line).count() == 1
