"""The demo's categorized history goes in through the same import pipeline as a user's file."""
from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.services import job_run
from transactions.models import Account, Company, ImportBatch
from transactions.services.imports import file_sha256, import_batch_submit


def demo_history_import(*, company: Company, content: bytes) -> str:
    """Import a labeled demo file in-process; a file already imported (same sha256) is skipped."""
    sha256 = file_sha256(io.BytesIO(content))
    if ImportBatch.objects.filter(company=company, sha256=sha256).exists():
        return "history already imported"
    bank_account = Account.objects.get(company=company, is_bank=True, code="1000")
    batch = import_batch_submit(
        company=company, bank_account=bank_account, upload=SimpleUploadedFile("demo-history.csv", content),
        filename="demo-history.csv", user=None, labeled=True, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="seed_demo")
    batch.refresh_from_db()
    return f"{batch.imported_count} transactions imported, {batch.rejected_count} rejected"


def demo_model_ensure(*, company: Company) -> str:
    """A trained classifier for the demo company, unless it has one already (or too little history)."""
    from mlmodels.exceptions import NotEnoughHistory
    from mlmodels.models import ModelVersion
    from mlmodels.services import model_train

    active = ModelVersion.objects.filter(company=company, is_active=True).first()
    if active is not None:
        return f"model v{active.number} already active"
    try:
        version = model_train(company=company)
    except NotEnoughHistory as error:
        return f"no model ({error.message})"
    return f"model v{version.number} trained (held-out accuracy {version.metrics.get('accuracy')})"


def demo_recent_import(*, company: Company, content: bytes) -> str:
    """Import an unlabeled demo statement in-process and classify it (skipped when already imported)."""
    from decisions.services import transactions_classify

    sha256 = file_sha256(io.BytesIO(content))
    if ImportBatch.objects.filter(company=company, sha256=sha256).exists():
        return "already imported"
    bank_account = Account.objects.get(company=company, is_bank=True, code="1000")
    batch = import_batch_submit(
        company=company, bank_account=bank_account, upload=SimpleUploadedFile("demo-this-month.csv", content),
        filename="demo-this-month.csv", user=None, labeled=False, enqueue=False,
    )
    job_run(job_id=batch.job_id, worker="seed_demo")
    result = transactions_classify(company=company, import_batch_id=batch.id)
    methods = ", ".join(f"{method} {count}" for method, count in result["by_method"].items())
    return f"{result['transactions']} new lines classified ({methods})"
