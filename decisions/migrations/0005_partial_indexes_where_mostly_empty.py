# Rule, model and reviewer indexes only where the column is set (see Decision.Meta.indexes).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('decisions', '0004_decision_company_decided'),
        ('mlmodels', '0001_initial'),
        ('rules', '0001_initial'),
        ('transactions', '0009_transaction_bank_account_of_company'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='decision',
            name='decision_rule_current',
        ),
        migrations.RemoveIndex(
            model_name='decision',
            name='decision_model_recent',
        ),
        migrations.AlterField(
            model_name='decision',
            name='reviewer',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(condition=models.Q(('rule__isnull', False)), fields=['rule', 'is_current'], name='decision_rule_current'),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(condition=models.Q(('model_version__isnull', False)), fields=['model_version', 'created_at'], name='decision_model_recent'),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(condition=models.Q(('reviewer__isnull', False)), fields=['reviewer'], name='decision_reviewer'),
        ),
    ]
