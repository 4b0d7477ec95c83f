"""The ledger's pages, under /ledger/ (one module of views per capability, in ledger/views/)."""
from django.urls import path

from ledger.views import journal

app_name = "ledger"

urlpatterns = [
    path("", journal.company_list, name="company-list"),
    path("<slug:company_slug>/journal/", journal.journal_list, name="journal"),
]
