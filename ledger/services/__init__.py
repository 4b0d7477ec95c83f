"""The ledger's services, one module per capability:

* `postings`       - decided bank transactions become journal entries (the post_propose job); post and reverse
* `splits`         - one bank transaction split across several accounts
* `transfers`      - transfers between the company's own bank accounts, booked once
* `undo`           - undo a whole import (before or after posting), audited
* `reconciliation` - statement vs ledger (the reconcile job), matches, reconcile / unreconcile
* `reports`        - trial balance, profit & loss
* `exports`        - journal as CSV, hledger journal, beancount
* `locks`          - how every writer of the books claims bank transactions (no double booking)
"""
