from django.urls import path

from transactions.api.views import (
    ApiTokenListCreateApi,
    ApiTokenRevokeApi,
    AuditEventListApi,
    ImportDetailApi,
    ImportSubmitApi,
    TransactionListApi,
)

urlpatterns = [
    path("imports/", ImportSubmitApi.as_view(), name="api-import-submit"),
    path("imports/<uuid:import_id>", ImportDetailApi.as_view(), name="api-import-detail"),
    path("transactions/", TransactionListApi.as_view(), name="api-transaction-list"),
    path("tokens/", ApiTokenListCreateApi.as_view(), name="api-token-list"),
    path("tokens/<int:token_id>", ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("audit/", AuditEventListApi.as_view(), name="api-audit-list"),
    # The original design's endpoint name, kept for existing clients.
    path("ingest/csv", ImportSubmitApi.as_view(), name="api-ingest-csv"),
]
