"""On PostgreSQL the database itself keeps the books balanced and posted entries final.

* `journal_balance_check`: a DEFERRABLE INITIALLY DEFERRED constraint trigger on lines: at commit, every entry
  touched by an insert, update or delete of its lines must have equal debits and credits (and at least one line),
  whatever wrote them - the ORM or raw SQL.
* `journal_posted_final`: lines of a posted (or reversed) entry cannot be inserted, updated or deleted, and a
  posted entry can only change its status to "reversed"; corrections are reversing entries.
SQLite has no such triggers: there the services are the only writers and check the same (README says so).
"""
from django.db import migrations

BALANCE = """
CREATE OR REPLACE FUNCTION ledger_check_balance() RETURNS trigger AS $$
DECLARE
    entry bigint := COALESCE(NEW.entry_id, OLD.entry_id);
    lines integer;
    difference numeric;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_journalentry WHERE id = entry) THEN
        RETURN NULL;  -- the entry itself was deleted (a proposed entry withdrawn with its lines)
    END IF;
    SELECT count(*), COALESCE(sum(debit), 0) - COALESCE(sum(credit), 0) INTO lines, difference
    FROM ledger_journalline WHERE entry_id = entry;
    IF lines = 0 OR difference <> 0 THEN
        RAISE EXCEPTION 'journal entry % is not balanced (% lines, debits - credits = %)', entry, lines, difference
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER journal_balance_check
    AFTER INSERT OR UPDATE OR DELETE ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balance();

CREATE OR REPLACE FUNCTION ledger_posted_lines_final() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_journalentry
               WHERE id IN (COALESCE(NEW.entry_id, OLD.entry_id), COALESCE(OLD.entry_id, NEW.entry_id))
                 AND status <> 'proposed') THEN
        RAISE EXCEPTION 'lines of a posted journal entry cannot change; post a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$ LANGUAGE plpgsql;

CREATE TRIGGER journal_posted_lines_final
    BEFORE INSERT OR UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_lines_final();

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

CREATE TRIGGER journal_posted_entry_final
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_entry_final();
"""

DROP = """
DROP TRIGGER IF EXISTS journal_posted_entry_final ON ledger_journalentry;
DROP TRIGGER IF EXISTS journal_posted_lines_final ON ledger_journalline;
DROP TRIGGER IF EXISTS journal_balance_check ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_posted_entry_final();
DROP FUNCTION IF EXISTS ledger_posted_lines_final();
DROP FUNCTION IF EXISTS ledger_check_balance();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: RAISE's % placeholders stay as they are
            cursor.execute(BALANCE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
