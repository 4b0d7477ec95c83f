"""The classifier a company's decisions use, loaded once per process and verified before use.

The company's active version, else the active global one. Each worker keeps the loaded models in memory
(keyed by version id, so activating another version is seen on the next chunk: one small query per chunk).
A missing or tampered artifact is not a crash: the caller gets the reason and sends the rows to review.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from mlmodels import pipeline
from mlmodels.models import ModelVersion

_loaded: dict[int, pipeline.TrainedModel] = {}
_lock = threading.Lock()
_MAX_LOADED = 8  # models are tens of MB; a worker serving many companies keeps the most recent few


@dataclass(frozen=True)
class ActiveModel:
    version: ModelVersion | None
    model: pipeline.TrainedModel | None
    reason: str  # why there is no model to use ("" when there is)


def active_model_for(*, company_id: int) -> ActiveModel:
    """The model to use for this company: its own active version, else the global one, else none (with why)."""
    versions = list(
        ModelVersion.objects.filter(Q(company_id=company_id) | Q(company__isnull=True), is_active=True)
        .only("id", "company_id", "number", "artifact", "sha256")
    )
    versions.sort(key=lambda version: version.company_id is None)  # the company's own first
    if not versions:
        return ActiveModel(None, None, "no trained model for this company yet (and no global model)")
    version = versions[0]
    model = _loaded.get(version.pk)
    if model is None:
        try:
            model = pipeline.load(settings.LEDGER_MODELS_DIR / version.artifact, sha256=version.sha256)
        except pipeline.ArtifactInvalid as error:
            return ActiveModel(version, None, f"model v{version.number} cannot be used: {error}")
        with _lock:
            if len(_loaded) >= _MAX_LOADED:
                _loaded.clear()
            _loaded[version.pk] = model
    return ActiveModel(version, model, "")


def forget_loaded_models() -> None:
    """Drop the per-process cache (tests; an operator replacing artifacts by hand)."""
    with _lock:
        _loaded.clear()
