"""The PostgreSQL write path of a classify chunk: the chunk's decisions and their mirror on the transactions in
one set-based statement (the house pattern of `transactions/services/ingest_postgres.py`).

Django's `bulk_create` sends one parameter per field and row, and psycopg quotes every JSON explanation
client-side; building a model instance per row costs as much again. Here each column is one binary array
parameter, JSON goes as text and is cast by the server, and the transactions are updated from the inserted rows
in the same statement. The portable path (`decisions.services._write_decisions_portable`) does the same with
the ORM; both are exercised by the same tests.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import psycopg
from django.db import connection
from django.utils import timezone

from decisions.models import Decision, DecisionStatus
from transactions.models import Transaction, TransactionStatus

if TYPE_CHECKING:
    from decisions.services import NewDecision

# The transaction mirrors its current decision: auto-approved -> categorized with the account, else review.
# The join is a nested loop over the 2,000 inserted rows and the primary key (unnest of a parameter array is
# estimated at its real length, so the plan does not depend on the tables' statistics).
WRITE_DECISIONS = f"""
WITH inserted AS (
    INSERT INTO {Decision._meta.db_table} (
        company_id, transaction_id, method, account_id, confidence, alternatives, explanation, rule_id,
        rule_version, model_version_id, status, is_current, created_at)
    SELECT %(company)s, d.transaction_id, d.method, d.account_id, d.confidence, d.alternatives::jsonb,
        d.explanation::jsonb, d.rule_id, d.rule_version, d.model_version_id, d.status, true, %(now)s
    FROM unnest(
        %(transaction_id)b::bigint[], %(method)b::text[], %(account_id)b::bigint[], %(confidence)b::numeric[],
        %(alternatives)b::text[], %(explanation)b::text[], %(rule_id)b::bigint[], %(rule_version)b::integer[],
        %(model_version_id)b::bigint[], %(status)b::text[]
    ) AS d(transaction_id, method, account_id, confidence, alternatives, explanation, rule_id, rule_version,
           model_version_id, status)
    RETURNING transaction_id, account_id, status
)
UPDATE {Transaction._meta.db_table} t
SET status = CASE WHEN i.status = %(auto)s THEN %(categorized)s ELSE %(needs_review)s END,
    account_id = CASE WHEN i.status = %(auto)s THEN i.account_id END
FROM inserted i
WHERE t.id = i.transaction_id
"""


def decisions_write_postgres(*, company_id: int, decisions: list[NewDecision]) -> None:
    """Insert the chunk's decisions (all current) and mirror them on their transactions. Call inside the chunk's
    transaction, with the transaction rows locked."""
    if not decisions:
        return
    connection.ensure_connection()
    # A plain psycopg cursor on Django's connection (inside the chunk's transaction), for binary array
    # parameters; Django's error wrapper maps psycopg's errors to django.db's (IntegrityError, OperationalError).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(WRITE_DECISIONS, {
            "company": company_id,
            "now": timezone.now(),
            "auto": DecisionStatus.AUTO_APPROVED.value,
            "categorized": TransactionStatus.CATEGORIZED.value,
            "needs_review": TransactionStatus.NEEDS_REVIEW.value,
            "transaction_id": [d.transaction_id for d in decisions],
            "method": [str(d.method) for d in decisions],
            "account_id": [d.account_id for d in decisions],
            "confidence": [d.confidence for d in decisions],
            "alternatives": [json.dumps(d.alternatives) for d in decisions],
            "explanation": [json.dumps(d.explanation) for d in decisions],
            "rule_id": [d.rule_id for d in decisions],
            "rule_version": [d.rule_version for d in decisions],
            "model_version_id": [d.model_version_id for d in decisions],
            "status": [str(d.status) for d in decisions],
        })
