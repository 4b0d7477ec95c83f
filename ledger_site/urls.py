from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from decisions.dashboard_views import dashboard_view
from ledger_site.health import healthz, readyz
from ledger_site.metrics_views import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; token or internal addresses only
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI sets inline styles; scripts stay 'self'-only (the split view has no inline script).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/", include("jobs.api.urls")),
    path("api/", include("transactions.api.urls")),
    path("api/", include("rules.api.urls")),
    path("api/", include("decisions.api.urls")),
    path("api/", include("decisions.api.automation_urls")),
    path("api/", include("mlmodels.api.urls")),
    path("api/", include("ledger.api.urls")),
    path("rules/", include("rules.urls")),
    path("models/", include("mlmodels.urls")),
    path("ledger/", include("ledger.urls")),
    path("dashboard/", dashboard_view, name="dashboard"),
    path("review/", include("decisions.urls")),
    path("", include("transactions.urls")),
]


def _not_found(request, exception=None):  # type: ignore[no-untyped-def]
    """API clients get the API's JSON error shape for unknown URLs too; browsers get the HTML page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "No such URL.", "extra": {}}, status=404)
    return page_not_found(request, exception)


handler404 = _not_found
