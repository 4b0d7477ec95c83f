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


# What is "in the books": posted entries, and reversed ones (each nets to zero with its posted reversal).
# Proposed entries are not in the books yet.
BOOKED_STATUSES = (EntryStatus.POSTED, EntryStatus.REVERSED)


class EntryKind(models.TextChoices):
    TRANSACTION = "transaction", "Bank transaction"
    TRANSFER = "transfer", "Transfer between own accounts"
    REVERSAL = "reversal", "Reversal"
    MANUAL = "manual", "Manual entry"


class JournalEntry(models.Model):
    company = models.ForeignKey("transactions.Company", on_delete=models.PROTECT, related_name="journal_entries")
    date = models.DateField()
    memo = models.CharField(max_length=500, blank=True)
    source_transaction = models.ForeignKey(
        "transactions.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries",
    )
    # A transfer between two of the company's bank accounts books both bank transactions in one entry.
    counter_transaction = models.ForeignKey(
        "transactions.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    kind = models.CharField(max_length=12, choices=EntryKind.choices, default=EntryKind.TRANSACTION)
    # A reversal points at the entry it cancels (which is then "reversed"); it has no source transaction, so the
    # transaction can be booked again.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal",
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
            models.UniqueConstraint(
                fields=["counter_transaction"],
                condition=Q(counter_transaction__isnull=False) & ~Q(status="reversed"),
                name="journal_one_live_entry_per_counter_transaction",
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


class SplitLine(models.Model):
    """One part of a bank transaction split across several accounts (the parts sum exactly to its amount)."""

    transaction = models.ForeignKey("transactions.Transaction", on_delete=models.CASCADE, related_name="splits")
    account = models.ForeignKey("transactions.Account", on_delete=models.PROTECT, related_name="+")
    # Signed like the transaction (money out negative); parts of one transaction sum to its amount.
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    # As the person gave it, when they split by percentage (the amount is then the allocated share).
    percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    position = models.PositiveSmallIntegerField()
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["transaction", "position"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "position"], name="split_position_unique"),
        ]


class ReconciliationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    BALANCED = "balanced", "Balanced"
    UNBALANCED = "unbalanced", "Difference found"
    FAILED = "failed", "Failed"


class Reconciliation(models.Model):
    """Statement vs ledger for one bank account and period: opening + posted movements = closing?"""

    company = models.ForeignKey("transactions.Company", on_delete=models.CASCADE, related_name="reconciliations")
    bank_account = models.ForeignKey("transactions.Account", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    opening_balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The statement's closing balance: from the file's balance column, or entered by the user.
    statement_closing_balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    closing_balance_source = models.CharField(max_length=10, blank=True)  # "file" | "user"
    ledger_movements = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    difference = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RUNNING
    )
    summary = models.JSONField(default=dict, blank=True)
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="reconciliation"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class MatchStatus(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class BankMatch(models.Model):
    """A bank transaction matched to a ledger entry that already books it (entered by hand or from elsewhere).

    An accepted match books the transaction: it is not proposed again by post_propose.
    """

    company = models.ForeignKey("transactions.Company", on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey("transactions.Transaction", on_delete=models.CASCADE, related_name="matches")
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="matches")
    reconciliation = models.ForeignKey(
        Reconciliation, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches"
    )
    score = models.DecimalField(max_digits=4, decimal_places=3)
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.SUGGESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "entry"], name="match_unique_pair"),
            models.UniqueConstraint(
                fields=["transaction"], condition=Q(status="accepted"), name="match_one_accepted_per_transaction",
            ),
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="accepted"), name="match_one_accepted_per_entry",
            ),
        ]
