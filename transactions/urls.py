from django.urls import path

from transactions import views

urlpatterns = [
    path("", views.home, name="home"),
    path("imports/new/", views.import_upload, name="import-upload"),
    path("imports/review/", views.import_review, name="import-review"),
    path("imports/status/", views.import_status, name="import-status"),
    path("imports/<uuid:import_id>/errors.csv", views.import_errors_csv, name="import-errors-csv"),
    path("transactions/", views.transaction_list, name="transaction-list"),
    path("account/tokens/", views.token_list, name="token-list"),
    path("audit/<slug:company_slug>/", views.audit_list, name="audit-list"),
]
