"""Tenants, their chart of accounts, and the bank transactions imported into it.

Every company keeps its own chart of accounts; a bank account is simply an Account flagged `is_bank`.
Amounts are signed from the company's point of view: money in is positive, money out is negative.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

_PROBABILITY = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class CompanyQuerySet(models.QuerySet["Company"]):
    def for_user(self, user: object) -> CompanyQuerySet:
        """Companies the user may see: all for a superuser, otherwise those with a membership."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if getattr(user, "is_superuser", False):
            return self.all()
        return self.filter(memberships__user=user).distinct()


class Company(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    # Per-company overrides of the decision thresholds; empty means "use the installation's setting".
    ml_confidence_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=_PROBABILITY
    )
    ml_review_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=_PROBABILITY
    )
    # Whether auto-approved decisions go straight into the books (posted), or are proposed for a person to post.
    post_automatic_decisions = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name

    @property
    def confidence_threshold(self) -> Decimal:
        if self.ml_confidence_threshold is not None:
            return self.ml_confidence_threshold
        return settings.ML_CONFIDENCE_THRESHOLD

    @property
    def review_threshold(self) -> Decimal:
        if self.ml_review_threshold is not None:
            return self.ml_review_threshold
        return settings.ML_REVIEW_THRESHOLD


class Role(models.TextChoices):
    ACCOUNTANT = "accountant", "Accountant"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ACCOUNTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="membership_one_per_user_company")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


class Account(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="accounts")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=AccountType.choices)
    is_bank = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    # The classifier's auto-approve threshold for predictions of this account, when it should differ from the
    # company's (an accountant may want more confidence for payroll than for office supplies).
    ml_confidence_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=_PROBABILITY
    )

    class Meta:
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="account_code_unique_per_company"),
            # The target of the transactions' (bank_account, company) foreign key: see Transaction.
            models.UniqueConstraint(fields=["id", "company"], name="account_id_company_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def _upload_path(batch: ImportBatch, filename: str) -> str:
    # Generated names only: the user's file name is kept in `original_filename`, never used on disk.
    return f"imports/{batch.company_id}/{batch.id}.upload"


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", "Awaiting confirmation"
    QUEUED = "queued", "Queued"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"
    UNDOING = "undoing", "Being undone"
    UNDONE = "undone", "Undone"


# An import whose job has ended, with or without rows: it may be undone.
IMPORT_FINISHED = (ImportStatus.IMPORTED, ImportStatus.FAILED)


class ImportBatch(models.Model):
    """One uploaded bank file: stored under a generated name, parsed in chunks by the ingest job.

    `rows_done` is the checkpoint: the number of data rows whose chunk has committed. A job that is
    re-run after a crash skips them, so a file is never imported twice or with a gap.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="import_batches")
    bank_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="import_batches")
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_batch"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    original_filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_upload_path, max_length=255)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    layout = models.JSONField(default=dict)
    labeled = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    rows_done = models.PositiveIntegerField(default=0)
    # Runs that started the chunk at `rows_done` and never finished it (killed, out of memory, crashed): counted,
    # and committed, before the chunk's work; reset to 1 when a chunk commits (the run goes on with the next one).
    # See transactions/services/chunk_attempts.py.
    chunk_attempts = models.PositiveSmallIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "-created_at"], name="import_company_recent")]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.company})"


class TransactionStatus(models.TextChoices):
    UNCATEGORIZED = "uncategorized", "Uncategorized"
    NEEDS_REVIEW = "needs_review", "Needs review"
    CATEGORIZED = "categorized", "Categorized"
    POSTED = "posted", "Posted"


class Transaction(models.Model):
    """A bank-statement line. `fingerprint` + `occurrence` de-duplicate re-uploads and overlapping statements.

    fingerprint = hash(bank account, date, amount, normalized description); occurrence = how many rows with
    that fingerprint came before it in the same file, plus one. So two identical coffees on one day are
    both kept, while the same statement uploaded again inserts nothing. Where the bank gives its own id
    (OFX FITID, a reference column) that id decides instead.
    """

    # No single-column foreign-key indexes: the composite indexes below start with company and import_batch,
    # and every index is paid for on each of the million rows an import may write.
    # On PostgreSQL one composite foreign key, (bank_account, company) -> Account (id, company), stands for the
    # two single ones (migration 0009): it also holds a transaction to its own company's bank account, and it
    # is one check per inserted row at commit instead of two.
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="transactions", db_index=False, db_constraint=False
    )
    bank_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="bank_transactions", db_index=False, db_constraint=False
    )
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="transactions", db_index=False
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    date = models.DateField()
    description = models.CharField(max_length=500)
    counterparty = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    fingerprint = models.UUIDField()
    occurrence = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=TransactionStatus.choices, default=TransactionStatus.UNCATEGORIZED
    )
    # The category (an account of the company's chart) once decided, or as given by a labeled import.
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="categorized_transactions",
        db_index=False,
    )
    # When a person gave or confirmed `account` (a labeled import, an approval, a correction); empty while the
    # account is only a machine's decision. Rule promotion and model training learn from confirmed rows only.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when a reconciliation found this statement line in the books (cleared by unreconcile, audited).
    reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            # Fingerprint first: a chunk looks up its 500 fingerprints with `fingerprint = ANY(...)`, which
            # stays an index condition even while the planner's statistics still think the table is empty.
            models.UniqueConstraint(
                fields=["fingerprint", "bank_account", "occurrence"],
                condition=models.Q(external_id=""),
                name="transaction_unique_fingerprint",
            ),
            models.UniqueConstraint(
                fields=["bank_account", "external_id"],
                condition=~models.Q(external_id=""),
                name="transaction_unique_bank_id",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-date", "-id"], name="txn_company_recent"),
            models.Index(fields=["company", "status", "-date"], name="txn_company_status"),
            # classify's chunk walk (`id > last ORDER BY id LIMIT n`): in id order, uncategorized rows only, so a
            # chunk reads its own rows whatever the statistics (txn_company_status made it read every row left).
            models.Index(fields=["company", "id"], condition=models.Q(status="uncategorized"),
                         name="txn_company_uncategorized"),
            models.Index(fields=["import_batch", "line"], name="txn_batch_line"),
            models.Index(
                fields=["company", "confirmed_at"], condition=models.Q(confirmed_at__isnull=False),
                name="txn_company_confirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"


class ImportDuplicate(models.Model):
    """A row of an upload that was already in the books: counted and listed, never silently dropped."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="duplicates", db_index=False)
    line = models.PositiveIntegerField()
    date = models.DateField()
    description = models.CharField(max_length=500)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    fingerprint = models.UUIDField()
    occurrence = models.PositiveIntegerField()
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["line"]
        indexes = [models.Index(fields=["fingerprint", "batch"], name="dup_fingerprint_batch")]


class ImportRowError(models.Model):
    """A rejected row: its physical line in the file, the column, and what was expected."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=100)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["line"]


class ImportChunkFailure(models.Model):
    """A chunk of an import that killed the worker LEDGER_CHUNK_MAX_ATTEMPTS times and was skipped.

    Its rows are rejected (ImportRowError, with the reason) and the import went on past it.
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="chunk_failures")
    first_row = models.PositiveIntegerField()  # the checkpoint (`rows_done`) where the chunk starts
    rows = models.PositiveIntegerField()
    attempts = models.PositiveSmallIntegerField()
    failed_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "first_row"]


class ImportProfile(models.Model):
    """A confirmed column mapping for one bank account's export, found again by the header's fingerprint."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="import_profiles")
    bank_account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="import_profiles")
    fingerprint = models.CharField(max_length=64)
    layout = models.JSONField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "fingerprint"], name="import_profile_unique_fingerprint")
        ]


class ApiToken(models.Model):
    """An API key for scripts. The key is shown once, at creation; only its sha256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)  # shown in lists, so a user can tell keys apart
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Who did what to which object, when, with before/after values: append-only.

    `actor_label` names people (`user:alice`) and automatic actors (`system:ingest`, later
    `system:rule:12@v3`, `system:ml:7`), so automatic changes are as traceable as human ones. Rows are never
    updated or deleted: the model refuses it, and on PostgreSQL a trigger refuses it for raw SQL too.
    """

    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "-created_at"], name="audit_company_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")
