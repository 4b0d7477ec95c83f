"""Training and activating classifier versions (the Django side of `mlmodels.pipeline`).

Training reads labels people gave or confirmed (`Transaction.confirmed_at`) and the decisions of active rules;
never the model's own unreviewed guesses or LLM answers. A new version becomes active by itself only when it
beats the active one on the same held-out rows (the newest 20 % of its training window); admins can activate
any version, which is also how a rollback is done.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from decisions.models import Decision, DecisionMethod
from jobs.handlers import JobOutcome
from mlmodels import pipeline
from mlmodels.exceptions import NotEnoughHistory
from mlmodels.models import ModelVersion
from transactions.models import Company, Transaction
from transactions.services.audit import audit_record

MIN_COMPARISON_ROWS = 20  # held-out rows newer than the active version's training, needed to compare fairly
TRAINING_FIELDS = (
    "description", "counterparty", "amount", "date", "bank_account__code", "account__code", "company__slug",
)


def training_rows(*, company: Company | None) -> list[pipeline.LabeledTxn]:
    """The most recent ML_TRAINING_MAX_ROWS labeled rows of the company (all companies for the global model):
    confirmed by a person, or decided by a rule."""
    by_rule = Decision.objects.filter(transaction=OuterRef("pk"), is_current=True, method=DecisionMethod.RULE)
    rows = Transaction.objects.filter(account__isnull=False).filter(Q(confirmed_at__isnull=False) | Exists(by_rule))
    if company is not None:
        rows = rows.filter(company=company)
    values = rows.order_by("-date", "-id").values_list(*TRAINING_FIELDS)[: settings.ML_TRAINING_MAX_ROWS]
    # The company rides along: a global model pooled over companies learns "vendor X means Y at company Z".
    return [
        pipeline.LabeledTxn(description=d, counterparty=c, amount=a, date=day, bank_account=bank, account_code=code,
                            company=slug)
        for d, c, a, day, bank, code, slug in values.iterator(chunk_size=5000)
    ]


def model_train(*, company: Company | None, user: Any = None, job: Any = None) -> ModelVersion:
    """Train, evaluate and store a new version; activate it when it beats the active one on the same rows."""
    rows = training_rows(company=company)
    if len(rows) < settings.ML_MIN_TRAINING_ROWS:
        raise NotEnoughHistory(
            f"{len(rows)} confirmed transactions; training needs at least {settings.ML_MIN_TRAINING_ROWS}.",
            extra={"rows": len(rows), "needed": settings.ML_MIN_TRAINING_ROWS},
        )
    threshold = float(company.confidence_threshold if company else settings.ML_CONFIDENCE_THRESHOLD)
    try:
        model, metrics, holdout, held_out_model = pipeline.train_and_evaluate(
            rows, threshold=threshold, return_held_out_model=True
        )
    except pipeline.InsufficientData as error:  # e.g. every account too rare to learn
        raise NotEnoughHistory(str(error), extra={"rows": len(rows)}) from error
    relative = f"{company.slug if company else 'global'}/{uuid.uuid4().hex}.joblib"
    path = settings.LEDGER_MODELS_DIR / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    sha256 = pipeline.save(model, path)

    active = ModelVersion.objects.for_scope(company.id if company else None).filter(is_active=True).first()
    should_activate, note = _compare_with_active(active, held_out_model, holdout, threshold)
    actor = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        if company is not None:  # one numbering and activation at a time per company (two train jobs may race)
            Company.objects.select_for_update().filter(pk=company.pk).first()
        number = (ModelVersion.objects.for_scope(company.id if company else None)
                  .aggregate(last=Max("number"))["last"] or 0) + 1
        version = ModelVersion.objects.create(
            company=company, number=number, algorithm=model.algorithm, params=model.params,
            training_summary={**model.training_summary, "rare_classes": model.rare_classes,
                              "low_support_classes": model.low_support_classes},
            metrics=metrics, artifact=relative, sha256=sha256, activation_note=note, job=job, created_by=actor,
        )
        audit_record(action="model.train", company=company, actor=user, system="" if actor else "training",
                     target=version, after={"number": number, "accuracy": metrics.get("accuracy"), "note": note})
        if should_activate:
            _activate(version=version, user=user, note=note)
    return version


def _compare_with_active(
    active: ModelVersion | None, held_out_model: pipeline.TrainedModel, holdout: list[pipeline.LabeledTxn],
    threshold: float,
) -> tuple[bool, str]:
    """Activate when there is no usable active version, or when the new one is more accurate on held-out rows
    that NEITHER has learned from: the new model fitted on the older 80 % (`held_out_model`) and the active
    version, both scored on the held-out rows dated after the active version's training window."""
    if active is None:
        return True, "First version of this scope: activated."
    try:
        previous = pipeline.load(settings.LEDGER_MODELS_DIR / active.artifact, sha256=active.sha256)
    except pipeline.ArtifactInvalid as error:
        return True, f"The active version {active.number} cannot be loaded ({error}): replaced."
    trained_until = (active.training_summary or {}).get("date_to") or ""
    unseen = [row for row in holdout if row.date.isoformat() > trained_until]
    if len(unseen) < MIN_COMPARISON_ROWS:
        return False, (f"Not activated: active v{active.number} has seen all but {len(unseen)} of the held-out rows "
                       f"(it was trained up to {trained_until}); a fair comparison needs {MIN_COMPARISON_ROWS} newer "
                       "rows. An admin may still activate it.")
    new_accuracy = pipeline.evaluate(held_out_model, unseen, threshold=threshold)["accuracy"]
    old_accuracy = pipeline.evaluate(previous, unseen, threshold=threshold)["accuracy"]
    if new_accuracy > old_accuracy:
        return True, (f"Beat active v{active.number} on {len(unseen)} held-out rows neither had seen: accuracy "
                      f"{new_accuracy:.4f} vs {old_accuracy:.4f}.")
    return False, (f"Not activated: active v{active.number} is as accurate or more on {len(unseen)} held-out rows "
                   f"neither had seen ({old_accuracy:.4f} vs {new_accuracy:.4f}); an admin may still activate it.")


def _activate(*, version: ModelVersion, user: Any, note: str) -> None:
    scope = ModelVersion.objects.for_scope(version.company_id)
    previous = scope.filter(is_active=True).exclude(pk=version.pk).first()
    scope.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    actor = user if getattr(user, "pk", None) else None
    ModelVersion.objects.filter(pk=version.pk).update(
        is_active=True, activated_by=actor, activated_at=timezone.now(), activation_note=note
    )
    audit_record(action="model.activate", company=version.company, actor=user, system="" if actor else "training",
                 target=version, before={"active": previous.number if previous else None},
                 after={"active": version.number, "note": note})


@transaction.atomic
def model_activate(*, version: ModelVersion, user: Any) -> ModelVersion:
    """An admin makes this version the active one of its scope (a newer one, or an older one: a rollback)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_active:
        who = getattr(user, "username", "") or "a command"
        at_training = f" At training: {version.activation_note}" if version.activation_note else ""
        _activate(version=version, user=user, note=f"Activated by {who}.{at_training}"[:500])
    version.refresh_from_db()
    return version


def model_train_job(*, job: Any) -> JobOutcome:
    """The train job: params {"scope": "company"} (default) or {"scope": "global"}."""
    company = None if job.params.get("scope") == "global" else job.company
    version = model_train(company=company, user=job.created_by, job=job)
    return JobOutcome(result={"model_version": version.pk, "number": version.number,
                              "active": ModelVersion.objects.get(pk=version.pk).is_active,
                              "note": version.activation_note, "metrics": _headline(version.metrics)})


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("rows", "accuracy", "macro_f1", "threshold", "coverage_at_threshold", "precision_at_threshold",
            "calibration_error")
    return {key: metrics.get(key) for key in keys} | {"cv": metrics.get("cv")}
