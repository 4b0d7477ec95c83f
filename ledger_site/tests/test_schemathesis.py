"""Property-based fuzzing of the API from our own OpenAPI schema (schemathesis), in-process against the WSGI app."""
from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from jobs.models import Job
from ledger_site.wsgi import application
from transactions.models import ApiToken, Transaction
from transactions.services.audit import audit_record
from transactions.services.imports import import_batch_submit
from transactions.services.tokens import api_token_create

RAW_SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
CONFIG = SchemathesisConfig.from_dict({
    "generation": {"mode": "positive", "max-examples": 30, "with-security-parameters": False},
})
schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=CONFIG)
schema.app = application

KNOWN: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    choices = [path_parameters]
    for name, values in KNOWN.items():
        if name in (path_parameters or {}):
            choices += [{**path_parameters, name: value} for value in values]
    return st.sampled_from(choices)


@pytest.fixture
def seeded(company_a, company_b, accountant_a):
    bank = company_a.accounts.get(code="1000")
    batch = import_batch_submit(company=company_a, bank_account=bank, upload=SimpleUploadedFile("a.csv", b"Date,Description,Amount\n2025-01-10,STAPLES,-12.50\n"), filename="a.csv", user=None, enqueue=False)
    job = Job.objects.create(company=company_a, kind="ingest")
    Transaction.objects.create(company=company_a, bank_account=bank, date=datetime.date(2025, 1, 2), description="X", amount=Decimal("-1.00"), fingerprint=uuid.uuid4())
    Transaction.objects.create(company=company_a, bank_account=bank, date=datetime.date(2025, 1, 3), description="Y", amount=Decimal("-2.00"), fingerprint=uuid.uuid4(), import_batch=batch, account=company_a.accounts.get(code="6100"))
    victim, _ = api_token_create(user=accountant_a, name="victim")
    auth, key = api_token_create(user=accountant_a, name="fuzz")
    KNOWN.update(job_id=[str(job.id), str(batch.job_id)], import_id=[str(batch.id)], company_id=[company_a.slug, str(company_a.pk), company_b.slug], token_id=[victim.pk])
    yield {"Authorization": f"Token {key}", "auth": auth}
    KNOWN.clear()


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api(case, seeded):
    ApiToken.objects.filter(pk=seeded["auth"].pk).update(revoked_at=None)
    response = case.call(base_url="http://testserver", headers={"Authorization": seeded["Authorization"]})
    case.validate_response(response, checks=[checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance, checks.response_schema_conformance])
