"""The one way a writer of the books claims bank transactions.

Every writer - post_propose (`postings._book`), transfers, reconciliation matches, a person's decision - locks
the transaction rows first, then checks in a new statement that they are still not in the books. Of two racing
bookings the second waits for the first's commit and then sees its entry, so a row is never booked twice even
where no unique constraint spans both sides (a row as one entry's source and another's counter).

Why not one `SELECT ... FOR UPDATE` that also checks "not booked": in READ COMMITTED a statement that waited
for a row lock re-checks its conditions on the new row version, but reads other tables (the entries) with its
own, older snapshot - it would not see the entry the winner just committed. The second statement does.

Rows of an import being undone are never free: the undo job deletes them chunk by chunk, and booking one
in between would only add an entry the undo then reverses (ledger/services/undo.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, OuterRef

from ledger.selectors import booked
from transactions.models import ImportStatus, Transaction


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`column = ANY(%s)` (PostgreSQL): the ids as one array parameter. Django's `__in` sends one parameter per
    value: 2,000 a post_propose chunk, twice, cost ≈ 45 ms a chunk to build, send and parse."""
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def _with_ids(queryset: Any, ids: Sequence[int]) -> Any:
    if connection.vendor == "postgresql":
        return queryset.filter(_AnyOf(F("pk"), list(ids)))
    return queryset.filter(pk__in=ids)


def transactions_lock_free(transaction_ids: Sequence[int]) -> set[int]:
    """Lock these bank transactions (in id order: two bookings never deadlock) and return those still not in
    the books and not being undone, read after the lock. Call inside the booking's transaction."""
    if not transaction_ids:
        return set()
    locked = list(_with_ids(Transaction.objects.select_for_update(), transaction_ids).order_by("pk")
                  .values_list("pk", flat=True))
    if not locked:
        return set()
    return set(_with_ids(Transaction.objects.all(), locked).filter(~booked(OuterRef("pk")))
               .exclude(import_batch__status=ImportStatus.UNDOING).values_list("pk", flat=True))
