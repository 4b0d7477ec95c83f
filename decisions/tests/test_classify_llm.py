"""The LLM stage inside classification, against a chat-completions server started on 127.0.0.1."""
from __future__ import annotations

import json

import pytest

from decisions.models import Decision, DecisionMethod, DecisionStatus
from decisions.services import transaction_categorize, transactions_classify
from decisions.tests.llm_server import ChatServer
from mlmodels.services import training_rows
from rules.tests.factories import add_lines
from transactions.models import Account, Transaction, TransactionStatus


@pytest.fixture
def chat(settings, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ChatServer() as server:
        settings.USE_LLM = True
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_MODEL = "test-model"
        settings.LLM_TIMEOUT_SECONDS = 0.5
        settings.LLM_RETRY_BACKOFF_SECONDS = 0
        yield server


def _by_vendor(request) -> str:
    """Answer by the description in the prompt: confident for STAPLES, unsure for CATERING, off-chart otherwise."""
    prompt = request.prompt
    if "STAPLES" in prompt:
        return json.dumps({"account": "6100", "confidence": 0.95, "reason": "office supplies store"})
    if "CATERING" in prompt:
        return json.dumps({"account": "8000", "confidence": 0.6, "reason": "maybe a sale"})
    return json.dumps({"account": "9999", "confidence": 0.99, "reason": "made up"})


def test_llm_answers_decide_suggest_or_are_discarded(company_a, chat):
    chat.respond(_by_vendor)
    add_lines(company_a, "STAPLES STORE", 2)
    [catering] = add_lines(company_a, "CATERING ORDER", 1, amount="400.00")
    [mystery] = add_lines(company_a, "MYSTERY VENDOR", 1)

    result = transactions_classify(company=company_a)  # no rules, no model: everything reaches the LLM

    assert result["by_method"] == {"llm": 3, "review": 1}
    auto = Decision.objects.filter(method=DecisionMethod.LLM, status=DecisionStatus.AUTO_APPROVED)
    assert auto.count() == 2 and {d.account.code for d in auto} == {"6100"}
    assert auto.first().explanation["llm_model"] == "test-model"
    suggestion = Decision.objects.get(transaction=catering)
    assert (suggestion.method, suggestion.status, suggestion.account.code) == ("llm", "needs_review", "8000")
    assert Transaction.objects.get(pk=catering.pk).status == TransactionStatus.NEEDS_REVIEW
    placeholder = Decision.objects.get(transaction=mystery)  # 9999 is not in the chart: discarded
    assert (placeholder.method, placeholder.account) == (DecisionMethod.HUMAN, None)
    assert chat.count == 3  # the two STAPLES lines share a vendor: asked once


def test_llm_answers_are_not_training_labels_until_a_person_confirms_them(company_a, chat, reviewer_a):
    chat.respond(_by_vendor)
    [line] = add_lines(company_a, "STAPLES STORE", 1)
    transactions_classify(company=company_a)
    assert training_rows(company=company_a) == []

    transaction_categorize(transaction_id=line.id, user=reviewer_a,
                           account=Account.objects.get(company=company_a, code="6100"))

    assert len(training_rows(company=company_a)) == 1


def test_an_llm_timeout_leaves_rows_for_review_with_the_reason(company_a, chat):
    chat.sleep(2)
    add_lines(company_a, "STAPLES STORE", 2)

    result = transactions_classify(company=company_a)

    assert result["by_method"] == {"review": 2}
    assert "timeout" in Decision.objects.first().explanation["llm"]


def test_with_the_llm_off_no_request_is_made(company_a, chat, settings):
    settings.USE_LLM = False
    chat.respond(_by_vendor)
    add_lines(company_a, "STAPLES STORE", 2)

    assert transactions_classify(company=company_a)["by_method"] == {"review": 2}
    assert chat.count == 0
