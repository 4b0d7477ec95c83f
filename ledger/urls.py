"""The ledger's pages, under /ledger/ (one module of views per capability, in ledger/views/)."""
from django.urls import path

from ledger.views import journal
from ledger.views import reconciliation
from ledger.views import reports
from ledger.views import splits

app_name = "ledger"

urlpatterns = [
    path("", journal.company_list, name="company-list"),
    path("<slug:company_slug>/journal/", journal.journal_list, name="journal"),
    path("<slug:company_slug>/journal/post-all/", journal.post_all, name="journal-post-all"),
    path("<slug:company_slug>/journal/<int:entry_id>/post/", journal.entry_action, {"action": "post"},
         name="entry-post"),
    path("<slug:company_slug>/journal/<int:entry_id>/reverse/", journal.entry_action, {"action": "reverse"},
         name="entry-reverse"),
    path("imports/<uuid:import_id>/undo/", journal.import_undo_view, name="import-undo"),
    path("<slug:company_slug>/trial-balance/", reports.trial_balance_page, name="trial-balance"),
    path("<slug:company_slug>/profit-and-loss/", reports.profit_and_loss_page, name="profit-and-loss"),
    path("<slug:company_slug>/reconciliation/", reconciliation.reconciliation_list, name="reconciliation-list"),
    path("<slug:company_slug>/reconciliation/run/", reconciliation.reconciliation_run_view, name="reconciliation-run"),
    path("<slug:company_slug>/reconciliation/<int:reconciliation_id>/", reconciliation.reconciliation_detail,
         name="reconciliation-detail"),
    path("<slug:company_slug>/reconciliation/<int:reconciliation_id>/unreconcile/",
         reconciliation.reconciliation_unreconcile_view, name="reconciliation-unreconcile"),
    path("<slug:company_slug>/reconciliation/matches/<int:match_id>/accept/", reconciliation.match_accept_view,
         name="match-accept"),
    path("<slug:company_slug>/reconciliation/matches/<int:match_id>/reject/", reconciliation.match_reject_view,
         name="match-reject"),
    path("<slug:company_slug>/transactions/<int:transaction_id>/split/", splits.transaction_split_page,
         name="transaction-split"),
]
