"""python manage.py import_transactions --company SLUG --bank-account CODE FILE... [--labeled] [--sync] [--dry-run]

Prints one JSON object per file. Each file is its own unit of failure: a bad file is reported and the
others are still imported; the exit status is 1 if any file failed.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger_site.commands import company_for_command
from jobs.models import Job
from jobs.services import job_run
from ledger_site.exceptions import DomainError
from transactions.models import Company, ImportBatch
from transactions.services.imports import bank_account_for, import_batch_submit, layout_resolve
from transactions.services.ingest import import_batch_summary
from transactions.services.preview import import_preview


class Command(BaseCommand):
    help = "Import bank files (CSV, OFX) for a company's bank account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--company", required=True, help="Company slug.")
        parser.add_argument("--bank-account", required=True, help="Code of the bank account, e.g. 1000.")
        parser.add_argument("--labeled", action="store_true", help="Files carry an `account` column (history).")
        parser.add_argument("--sync", action="store_true", help="Run the import in this process, not on a worker.")
        parser.add_argument("--dry-run", action="store_true", help="Parse and validate only; write nothing.")
        parser.add_argument("--date-format", default="", help="strptime format when the dates are ambiguous.")
        parser.add_argument("--no-wait", action="store_true", help="Print the job id without waiting for it.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for a worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        company = company_for_command(options["company"])
        try:
            bank_account = bank_account_for(company=company, code=options["bank_account"])
        except DomainError as error:
            raise CommandError(error.message) from None
        failed = False
        for path in options["files"]:
            try:
                report = self._one_file(path, company=company, bank_account=bank_account, options=options)
            except DomainError as error:
                report = {"file": str(path), "error": error.as_dict()}
                failed = True
            except OSError as error:
                report = {"file": str(path), "error": {"code": "unreadable", "message": str(error), "extra": {}}}
                failed = True
            self.stdout.write(json.dumps(report, default=str))
        if failed:
            raise SystemExit(1)

    def _one_file(self, path: Path, *, company: Company, bank_account: Any, options: dict[str, Any]) -> dict[str, Any]:
        with path.open("rb") as handle:
            if options["dry_run"]:
                layout = layout_resolve(handle=handle, filename=path.name, date_format=options["date_format"])
                handle.seek(0)
                preview = import_preview(company=company, handle=handle, layout=layout, labeled=options["labeled"])
                return {"file": str(path), "dry_run": True, **preview}
            batch = import_batch_submit(
                company=company, bank_account=bank_account, upload=File(handle), filename=path.name, user=None,
                labeled=options["labeled"], date_format=options["date_format"], enqueue=not options["sync"],
            )
        if options["sync"]:
            job_run(job_id=batch.job_id, worker="import_transactions")
        elif options["no_wait"]:
            return {"file": str(path), "job_id": str(batch.job_id), "import_id": str(batch.id), "status": "queued"}
        else:
            self._wait(batch.job_id, timeout=options["timeout"])
        return self._report(path, batch)

    def _wait(self, job_id: Any, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not Job.objects.get(id=job_id).is_final:
            if time.monotonic() > deadline:
                raise CommandError(f"Job {job_id} did not finish within {timeout:.0f} s; is a worker running?")
            time.sleep(0.2)

    def _report(self, path: Path, batch: ImportBatch) -> dict[str, Any]:
        batch.refresh_from_db()
        job = Job.objects.get(id=batch.job_id)
        report = {**import_batch_summary(batch=batch), "file": str(path), "job_id": str(job.id), "status": job.status}
        if job.error:
            report["error"] = {"code": job.error_code, "message": job.error}
        return report
