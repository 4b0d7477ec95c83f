"""Posted entries stay final; a reversed entry may only let go of its bank transactions.

Undoing an import after posting reverses the import's entries and then deletes its transactions: the reversed
entry and its reversal stay in the journal (net zero, the memo keeps the description) with no transaction
attached. Any other change to a posted or reversed entry is still rejected.
"""
from django.db import migrations

FINAL = """
CREATE OR REPLACE FUNCTION ledger_posted_entry_final() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.status <> 'proposed' THEN
        RAISE EXCEPTION 'a posted journal entry cannot be deleted; post a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'posted' AND NOT (NEW.status = 'reversed'
            AND (NEW.company_id, NEW.date, NEW.memo, NEW.kind, NEW.reverses_id, NEW.source_transaction_id,
                 NEW.counter_transaction_id)
                IS NOT DISTINCT FROM (OLD.company_id, OLD.date, OLD.memo, OLD.kind, OLD.reverses_id,
                                      OLD.source_transaction_id, OLD.counter_transaction_id)) THEN
        RAISE EXCEPTION 'a posted journal entry cannot change; post a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'reversed' AND NOT (
            (NEW.status, NEW.company_id, NEW.date, NEW.memo, NEW.kind, NEW.reverses_id)
                IS NOT DISTINCT FROM (OLD.status, OLD.company_id, OLD.date, OLD.memo, OLD.kind, OLD.reverses_id)
            AND (NEW.source_transaction_id IS NULL OR NEW.source_transaction_id = OLD.source_transaction_id)
            AND (NEW.counter_transaction_id IS NULL OR NEW.counter_transaction_id = OLD.counter_transaction_id)) THEN
        RAISE EXCEPTION 'a reversed journal entry cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$ LANGUAGE plpgsql;
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION ledger_posted_entry_final() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.status <> 'proposed' THEN
        RAISE EXCEPTION 'a posted journal entry cannot be deleted; post a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'posted' AND NOT (NEW.status = 'reversed'
            AND (NEW.company_id, NEW.date, NEW.memo, NEW.source_transaction_id)
                IS NOT DISTINCT FROM (OLD.company_id, OLD.date, OLD.memo, OLD.source_transaction_id)) THEN
        RAISE EXCEPTION 'a posted journal entry cannot change; post a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$ LANGUAGE plpgsql;
"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_splits_transfers_reconciliation")]
    operations = [migrations.RunPython(_run(FINAL), _run(PREVIOUS))]
