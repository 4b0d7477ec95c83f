"""The model pages through Django's test client: who sees what, activation and rollback by POST, queueing a
training run, and a detail page whose charts and tables escape what they show."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jobs.models import Job, JobKind
from mlmodels.models import ModelVersion
from transactions.tests.factories import AccountFactory, CompanyFactory


def metrics(accuracy: float) -> dict:
    """Held-out metrics shaped like mlmodels.metrics.classification_metrics (plus "cv"), for 3 accounts."""
    return {
        "rows": 20, "accuracy": accuracy, "macro_f1": 0.71,
        "per_account": {
            "6100": {"precision": 0.8, "recall": 0.8889, "f1": 0.8421, "support": 9},
            "6200": {"precision": 0.5, "recall": 0.3333, "f1": 0.4, "support": 3},
            "8000": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 8},
        },
        "confusion": {"labels": ["6100", "6200", "8000"], "matrix": [[8, 1, 0], [2, 1, 0], [0, 0, 8]]},
        "threshold": 0.85, "coverage_at_threshold": 0.45, "precision_at_threshold": 0.9778, "calibration_error": 0.0712,
        "reliability": [{"bin": f"{i / 10:.1f}-{(i + 1) / 10:.1f}", "count": 0, "mean_confidence": None, "accuracy": None}
                        for i in range(8)]
        + [{"bin": "0.8-0.9", "count": 11, "mean_confidence": 0.86, "accuracy": 0.8182},
           {"bin": "0.9-1.0", "count": 9, "mean_confidence": 0.95, "accuracy": 1.0}],
        "coverage_curve": [{"threshold": 0.5, "coverage": 1.0, "precision": 0.85},
                           {"threshold": 0.85, "coverage": 0.45, "precision": 0.9778},
                           {"threshold": 0.99, "coverage": 0.0, "precision": None}],
        "cv": {"folds": [0.8, 0.85, 0.9], "mean": 0.85, "std": 0.0408},
    }


def version(company, number: int, *, active: bool = False, accuracy: float = 0.85) -> ModelVersion:
    return ModelVersion.objects.create(
        company=company, number=number, algorithm="tfidf_sgd_calibrated", params={"seed": 0, "auto_min_support": 20},
        training_summary={"rows": 100, "date_from": "2025-01-01", "date_to": "2025-06-30",
                          "classes": {"6100": 45, "6200": 12, "8000": 40}, "rare_classes": {"7400": 2},
                          "low_support_classes": ["6200"]},
        metrics=metrics(accuracy), artifact=f"v{number}.joblib", sha256="0" * 64, is_active=active,
        activation_note="First version of this scope: activated." if number == 1 else "Not activated: v1 is better.",
    )


@pytest.fixture
def versions(company_a):
    """Company A's v1 (active) and v2, and a global v1 (active)."""
    AccountFactory(company=company_a, code="6200", name="Bank <script>alert(1)</script> Fees")
    return version(company_a, 1, active=True), version(company_a, 2, accuracy=0.8), version(None, 1, active=True)


def list_url(company) -> str:
    return reverse("mlmodels:model-list", kwargs={"company_slug": company.slug})


def detail_url(company, model_version) -> str:
    return reverse("mlmodels:model-detail", kwargs={"company_slug": company.slug, "version_id": model_version.pk})


def activate_url(company, model_version) -> str:
    return reverse("mlmodels:model-activate", kwargs={"company_slug": company.slug, "version_id": model_version.pk})


def active_pairs() -> set[tuple[int | None, int]]:
    return set(ModelVersion.objects.filter(is_active=True).values_list("company_id", "number"))


# ------------------------------------------------------------------------------------------- who sees what


def test_an_accountant_sees_both_scopes_newest_first_without_buttons(client, versions, accountant_a, company_a):
    client.force_login(accountant_a)

    response = client.get(list_url(company_a))

    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'data-version-id="(\d+)"', page) == [str(v.pk) for v in reversed(versions)]
    assert 'class="badge scope-global"' in page and "85% ± 4.1 pts" in page and "97.8%" in page
    assert "First version of this scope: activated." in page
    assert "activate-button" not in page and "train-button" not in page


def test_an_admin_sees_activate_and_train_buttons_but_not_for_global_versions(client, versions, admin_a, company_a):
    first, second, shared = versions
    client.force_login(admin_a)

    page = client.get(list_url(company_a)).content.decode()

    assert 'id="train-button"' in page
    assert activate_url(company_a, second) in page  # the inactive company version
    assert activate_url(company_a, first) not in page  # already active
    assert activate_url(company_a, shared) not in page  # the global model is a superuser's


def test_an_older_version_offers_a_rollback(client, versions, admin_a, company_a):
    first, second, _ = versions
    ModelVersion.objects.filter(pk=first.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=second.pk).update(is_active=True)
    client.force_login(admin_a)

    page = client.get(list_url(company_a)).content.decode()

    assert "Roll back to this" in page


def test_a_superuser_may_activate_global_versions(client, versions, superuser, company_a):
    shared_two = version(None, 2)
    client.force_login(superuser)

    assert activate_url(company_a, shared_two) in client.get(list_url(company_a)).content.decode()
    response = client.post(activate_url(company_a, shared_two))

    assert response.status_code == 302
    assert (None, 2) in active_pairs() and (None, 1) not in active_pairs()


@pytest.mark.parametrize("name", ["model-list", "detail"])
def test_an_outsider_gets_404(client, versions, outsider, company_a, name):
    client.force_login(outsider)
    url = list_url(company_a) if name == "model-list" else detail_url(company_a, versions[0])

    assert client.get(url).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, versions, company_a):
    response = client.get(list_url(company_a))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_another_companys_version_is_not_shown_under_this_company(client, versions, admin_a, company_a):
    elsewhere = version(CompanyFactory(slug="gamma"), 1)
    client.force_login(admin_a)

    assert client.get(detail_url(company_a, elsewhere)).status_code == 404


def test_the_company_index_shows_the_version_in_use(client, versions, accountant_a, company_a, company_b):
    client.force_login(accountant_a)

    page = client.get(reverse("mlmodels:company-list")).content.decode()

    assert "Alpha Bakery" in page and "Beta Builders" not in page
    assert detail_url(company_a, versions[0]) in page


# ------------------------------------------------------------------------------------------- state changes


def test_an_admin_rolls_back_to_an_older_version(client, versions, admin_a, company_a):
    first, second, _ = versions
    client.force_login(admin_a)
    client.post(activate_url(company_a, second))
    assert (company_a.pk, 2) in active_pairs()

    response = client.post(activate_url(company_a, first), follow=True)

    assert active_pairs() == {(company_a.pk, 1), (None, 1)}
    assert "Rolled back: version 1 is the active company model again (instead of version 2)." in (
        response.content.decode())


def test_activating_from_the_detail_page_returns_there(client, versions, admin_a, company_a):
    second = versions[1]
    client.force_login(admin_a)

    response = client.post(activate_url(company_a, second), {"back": "detail"})

    assert response.url == detail_url(company_a, second)
    assert active_pairs() == {(company_a.pk, 2), (None, 1)}


def test_a_reviewer_cannot_activate_and_nothing_changes(client, versions, reviewer_a, company_a):
    client.force_login(reviewer_a)

    response = client.post(activate_url(company_a, versions[1]))

    assert response.status_code == 403
    assert active_pairs() == {(company_a.pk, 1), (None, 1)}


def test_a_company_admin_cannot_activate_a_global_version(client, versions, admin_a, company_a):
    shared_two = version(None, 2)
    client.force_login(admin_a)

    assert client.post(activate_url(company_a, shared_two)).status_code == 403
    assert active_pairs() == {(company_a.pk, 1), (None, 1)}


def test_activation_is_a_post(client, versions, admin_a, company_a):
    client.force_login(admin_a)

    assert client.get(activate_url(company_a, versions[1])).status_code == 405
    assert active_pairs() == {(company_a.pk, 1), (None, 1)}


def test_an_admin_queues_a_training_job(client, admin_a, company_a):
    client.force_login(admin_a)

    response = client.post(reverse("mlmodels:model-train", kwargs={"company_slug": company_a.slug}), follow=True)

    job = Job.objects.get()
    assert (job.kind, job.company, job.created_by, job.params) == (JobKind.TRAIN, company_a, admin_a, {"scope": "company"})
    assert response.redirect_chain == [(list_url(company_a), 302)]
    assert f"Training queued as job {job.pk}." in response.content.decode()


def test_a_reviewer_cannot_queue_training(client, reviewer_a, company_a):
    client.force_login(reviewer_a)

    response = client.post(reverse("mlmodels:model-train", kwargs={"company_slug": company_a.slug}))

    assert response.status_code == 403
    assert not Job.objects.exists()


# ------------------------------------------------------------------------------------------- the detail page


def test_the_detail_page_shows_three_charts_and_the_per_account_table(client, versions, accountant_a, company_a):
    client.force_login(accountant_a)

    response = client.get(detail_url(company_a, versions[0]))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") == 3
    for css in ("confusion-chart", "reliability-chart", "coverage-chart"):
        assert f'class="chart {css}"' in page
    assert len(re.findall(r'<rect class="cell( diagonal)?"', page)) == 9  # 3 x 3 heatmap cells
    rows = re.findall(r'<tr class="account-row[^"]*" data-code="(\w+)">', page)
    assert rows == ["6100", "6200", "8000"]
    assert "Office Supplies" in page and "Sales Revenue" in page
    assert "88.9%" in page and "0.842" in page  # recall and F1 of 6100
    assert 'id="rare-classes"' in page and "<strong>7400</strong>" in page
    assert "review only" in page  # 6200 is low-support
    assert "current threshold 0.85" in page
    assert "First version of this scope: activated." in page  # the activation note


def test_the_detail_page_escapes_account_names_in_tables_and_charts(client, versions, accountant_a, company_a):
    client.force_login(accountant_a)

    page = client.get(detail_url(company_a, versions[0])).content.decode()

    assert "<script" not in page
    assert "Bank &lt;script&gt;alert(1)&lt;/script&gt; Fees" in page  # the per-account table
    assert "True 6200 Bank &lt;script&gt;alert(1)&lt;/script&gt; Fees → predicted 6100" in page  # a heatmap tooltip


def test_a_version_without_metrics_still_renders(client, company_a, accountant_a):
    bare = ModelVersion.objects.create(company=company_a, number=1, algorithm="original_design", artifact="x",
                                       sha256="0" * 64)
    client.force_login(accountant_a)

    page = client.get(detail_url(company_a, bare)).content.decode()

    assert page.count("<svg") == 3
    assert "No held-out rows: nothing to show." in page
