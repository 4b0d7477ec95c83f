"""The one way a writer of the books claims bank transactions.

Every writer - post_propose (`postings._book`), transfers, reconciliation matches, a person's decision - locks
the transaction rows first, then checks in a new statement that they are still not in the books. Of two racing
bookings the second waits for the first's commit and then sees its entry, so a row is never booked twice even
where no unique constraint spans both sides (a row as one entry's source and another's counter).
"""
from __future__ import annotations

from collections.abc import Sequence

from django.db.models import OuterRef

from ledger.selectors import booked
from transactions.models import Transaction


def transactions_lock_free(transaction_ids: Sequence[int]) -> set[int]:
    """Lock these bank transactions (in id order: two bookings never deadlock) and return those still not in
    the books, read after the lock. Call inside the booking's transaction."""
    locked = list(Transaction.objects.select_for_update().filter(pk__in=transaction_ids).order_by("pk")
                  .values_list("pk", flat=True))
    return set(Transaction.objects.filter(pk__in=locked).filter(~booked(OuterRef("pk"))).values_list("pk", flat=True))
