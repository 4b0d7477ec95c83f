from django.urls import path

from ledger.api import journal
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
]
