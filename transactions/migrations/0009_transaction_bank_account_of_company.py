"""One composite foreign key (bank_account, company) -> Account (id, company) instead of two single ones.

A transaction's bank account must belong to the transaction's company (the books of one tenant never point into
another's chart), and PostgreSQL checks one key per inserted row at commit instead of two: the ingest writes
millions. On SQLite the two columns are left without a database-level key (the services set both from one
bank account); README "Importing bank files" says so.
"""
from django.db import migrations, models
import django.db.models.deletion

CONSTRAINT = "transaction_bank_account_of_company"


def add_composite_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE transactions_transaction ADD CONSTRAINT {CONSTRAINT} "
            "FOREIGN KEY (bank_account_id, company_id) REFERENCES transactions_account (id, company_id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )


def drop_composite_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE transactions_transaction DROP CONSTRAINT {CONSTRAINT}")


class Migration(migrations.Migration):

    dependencies = [
        ("transactions", "0008_transaction_uncategorized_index"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(fields=("id", "company"), name="account_id_company_unique"),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="company",
            field=models.ForeignKey(
                db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                related_name="transactions", to="transactions.company",
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="bank_account",
            field=models.ForeignKey(
                db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="bank_transactions", to="transactions.account",
            ),
        ),
        migrations.RunPython(add_composite_key, drop_composite_key),
    ]
