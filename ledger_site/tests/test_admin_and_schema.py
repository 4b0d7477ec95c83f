"""The admin shows staff only their companies' rows; the OpenAPI schema documents the API."""
from __future__ import annotations

from django.contrib.auth.models import Permission

from transactions.models import Membership, Role


def test_admin_lists_only_the_staff_users_companies(company_a, company_b, accountant_a, client):
    accountant_a.is_staff = True
    accountant_a.save()
    accountant_a.user_permissions.add(*Permission.objects.filter(codename__in=["view_company", "view_account"]))
    client.force_login(accountant_a)

    companies = client.get("/admin/transactions/company/")
    accounts = client.get("/admin/transactions/account/")

    assert companies.status_code == 200
    assert list(companies.context["cl"].queryset) == [company_a]
    assert {account.company for account in accounts.context["cl"].queryset} == {company_a}


def test_superuser_sees_every_company_in_the_admin(company_a, company_b, superuser, client):
    client.force_login(superuser)

    response = client.get("/admin/transactions/company/")

    assert set(response.context["cl"].queryset) == {company_a, company_b}


def test_staff_cannot_open_another_companys_row_in_the_admin(company_a, company_b, outsider, client):
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.add(*Permission.objects.filter(codename="view_company"))
    client.force_login(outsider)
    assert Membership.objects.get(user=outsider).role == Role.ADMIN

    response = client.get(f"/admin/transactions/company/{company_a.pk}/change/")

    assert response.status_code == 302  # Django admin redirects to the index for objects outside the queryset
    assert client.get(f"/admin/transactions/company/{company_b.pk}/change/").status_code == 200


def test_schema_documents_the_job_and_import_endpoints(accountant_a, client):
    client.force_login(accountant_a)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/jobs/{job_id}", "/api/jobs/company/{company_id}", "/api/imports/", "/api/ingest/csv"} <= set(paths)
