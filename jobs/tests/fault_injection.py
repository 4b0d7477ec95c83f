"""Test-only fault injection, loaded into a worker process, never into the product.

`ledger_site/settings_test.py` adds this module to Celery's `imports` when the worker is started with
LEDGER_TEST_FAULT_INJECTION=1, so only a test's own worker carries it. It wraps the ingest's chunk writer: a
chunk holding a row whose description contains POISON_MARKER writes its rows (inside the chunk's open
transaction, as usual) and then SIGKILLs its own process — a worker lost mid-chunk, as an out-of-memory kill or a
crashing C extension would do it. The data decides which chunk crashes, so the crash is real and repeatable.
"""
from __future__ import annotations

import os
import signal
from typing import Any

from transactions.services import ingest

POISON_MARKER = "FAULT-INJECTION: KILL THE WORKER"

_write_chunk = ingest._write_chunk  # fail at import, loudly, if the ingest no longer has this seam


def _write_chunk_or_die(*, items: list[Any], **kwargs: Any) -> Any:
    written = _write_chunk(items=items, **kwargs)
    if any(POISON_MARKER in getattr(item, "description", "") for item in items):
        os.kill(os.getpid(), signal.SIGKILL)
    return written


# Only in the worker started for it: a test process that imports POISON_MARKER must not arm the hook.
if os.environ.get("LEDGER_TEST_FAULT_INJECTION") == "1":
    ingest._write_chunk = _write_chunk_or_die
