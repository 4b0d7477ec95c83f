from django.urls import path

from ledger.api import journal, reconciliation
from ledger.api.reports import JournalExportApi, ProfitAndLossApi, TrialBalanceApi
from ledger.api.splits import TransactionSplitApi
from ledger.api.views import PostProposeApi

urlpatterns = [
    # The original design's endpoint name, kept for existing clients.
    path("post/propose", PostProposeApi.as_view(), name="api-post-propose"),
    path("journal/entries", journal.JournalEntryListApi.as_view(), name="api-journal-entries"),
    path("journal/entries/<int:entry_id>", journal.JournalEntryDetailApi.as_view(), name="api-journal-entry"),
    path("journal/entries/<int:entry_id>/post", journal.JournalEntryPostApi.as_view(), name="api-journal-entry-post"),
    path("journal/entries/<int:entry_id>/reverse", journal.JournalEntryReverseApi.as_view(),
         name="api-journal-entry-reverse"),
    path("journal/post", journal.JournalPostApi.as_view(), name="api-journal-post"),
    path("imports/<uuid:import_id>/undo", journal.ImportUndoApi.as_view(), name="api-import-undo"),
    path("ledger/trial-balance", TrialBalanceApi.as_view(), name="api-ledger-trial-balance"),
    path("ledger/profit-and-loss", ProfitAndLossApi.as_view(), name="api-ledger-profit-and-loss"),
    path("ledger/export", JournalExportApi.as_view(), name="api-ledger-export"),
    path("transactions/<int:transaction_id>/split", TransactionSplitApi.as_view(), name="api-transaction-split"),
    # Reconciliation; "reconcile/run" is the original design's endpoint name.
    path("reconcile/run", reconciliation.ReconcileRunApi.as_view(), name="api-reconcile-run"),
    path("reconciliations/", reconciliation.ReconciliationListApi.as_view(), name="api-reconciliation-list"),
    path("reconciliations/<int:reconciliation_id>", reconciliation.ReconciliationDetailApi.as_view(),
         name="api-reconciliation-detail"),
    path("reconciliations/<int:reconciliation_id>/unreconcile", reconciliation.ReconciliationUnreconcileApi.as_view(),
         name="api-reconciliation-unreconcile"),
    path("matches/<int:match_id>/accept", reconciliation.BankMatchAcceptApi.as_view(), name="api-match-accept"),
    path("matches/<int:match_id>/reject", reconciliation.BankMatchRejectApi.as_view(), name="api-match-reject"),
]
