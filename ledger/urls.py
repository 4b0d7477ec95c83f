"""The ledger's pages, under /ledger/ (one module of views per capability, in ledger/views/)."""
from django.urls import path

from ledger.views import journal

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
]
