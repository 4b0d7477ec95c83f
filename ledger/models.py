"""Double-entry postings: a categorized bank transaction becomes a balanced journal entry.

Sign convention (the one place it is written down): money in (amount > 0) debits the bank account and credits
the category; money out (amount < 0) credits the bank account and debits the category. Every line carries a
non-negative debit or credit, never both; an entry's debits equal its credits - on PostgreSQL a deferred
constraint trigger checks it at every commit (raw SQL included), elsewhere the services do.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class EntryStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


class JournalEntry(models.Model):
    company = models.ForeignKey("transactions.Company", on_delete=models.PROTECT, related_name="journal_entries")
    date = models.DateField()
    memo = models.CharField(max_length=500, blank=True)
    source_transaction = models.ForeignKey(
        "transactions.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries",
    )
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.PROPOSED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            # A bank transaction is in the books at most once (a reversed entry no longer counts).
            models.UniqueConstraint(
                fields=["source_transaction"], condition=Q(source_transaction__isnull=False) & ~Q(status="reversed"),
                name="journal_one_live_entry_per_transaction",
            ),
        ]
        indexes = [models.Index(fields=["company", "status", "-date"], name="journal_company_status")]

    def __str__(self) -> str:
        return f"{self.date} {self.memo} ({self.status})"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey("transactions.Account", on_delete=models.PROTECT, related_name="journal_lines")
    debit = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    credit = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="journal_line_one_side_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} Dr {self.debit} Cr {self.credit}"
