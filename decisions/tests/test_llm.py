"""The LLM fallback against a small chat-completions server on 127.0.0.1 (decisions/tests/llm_server.py)."""
from __future__ import annotations

import datetime
import json
import socket
import time
from decimal import Decimal

import pytest

from decisions import llm
from decisions.llm import LlmAnswer, LlmQuestion, llm_answers, llm_budget_used
from decisions.tests.llm_server import ChatServer

CHART = [("6100", "Office Supplies"), ("6200", "Rent"), ("8000", "Sales Revenue")]


def question(key: str = "staples", description: str = "STAPLES STORE 123", counterparty: str = "",
             amount: str = "-42.50", date: datetime.date = datetime.date(2024, 3, 5)) -> LlmQuestion:
    return LlmQuestion(key=key, description=description, counterparty=counterparty, amount=Decimal(amount),
                       date=date)


def ask(*questions: LlmQuestion, company_id: int = 1, chart=CHART):
    return llm_answers(company_id=company_id, chart=chart, questions=list(questions or [question()]))


@pytest.fixture
def server(settings, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ChatServer() as chat:
        settings.USE_LLM = True
        settings.LLM_BASE_URL = chat.base_url
        settings.LLM_MODEL = "test-model"
        settings.LLM_API_KEY = "sk-test-key"
        settings.LLM_TIMEOUT_SECONDS = 0.3
        settings.LLM_MAX_RETRIES = 2
        settings.LLM_RETRY_BACKOFF_SECONDS = 0
        settings.LLM_BREAKER_FAILURES = 3
        settings.LLM_BREAKER_COOLDOWN_SECONDS = 60
        settings.LLM_DAILY_BUDGET_PER_COMPANY = 200
        settings.LLM_CACHE_SECONDS = 3600
        yield chat


# --- answers inside and outside the chart ---------------------------------------------------------------------


def test_an_answer_inside_the_chart_is_accepted_with_the_model_and_its_confidence(server):
    server.answer("6100", 0.93, reason="stationery store")

    [answer], reason = ask()

    assert reason == ""
    assert answer == LlmAnswer(account_code="6100", confidence=0.93, model="test-model",
                               raw=json.dumps({"account": "6100", "confidence": 0.93, "reason": "stationery store"}),
                               cached=False)
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.authorization == "Bearer sk-test-key"
    assert request.body["model"] == "test-model"
    assert request.body["temperature"] == 0
    assert request.body["response_format"] == {"type": "json_object"}
    assert [message["role"] for message in request.body["messages"]] == ["system", "user"]


def test_the_prompt_holds_the_chart_and_the_amount_and_date_unchanged(server):
    ask(question(description="AMAZON MKTPLACE PMTS", counterparty="Amazon", amount="-1000.10",
                 date=datetime.date(2023, 12, 31)))

    system, user = (message["content"] for message in server.requests[0].body["messages"])
    for code, name in CHART:
        assert f"{code}: {name}" in system
    assert "ONLY" in system and "never change" in system.lower()
    assert '"account"' in system and '"confidence"' in system
    transaction = json.loads(user.split("\n", 1)[1])
    assert transaction == {"date": "2023-12-31", "amount": "-1000.10", "description": "AMAZON MKTPLACE PMTS",
                           "counterparty": "Amazon"}


@pytest.mark.parametrize("content", [
    json.dumps({"account": "9999", "confidence": 0.99}),  # not in the chart
    json.dumps({"account": "6100 Rent", "confidence": 0.99}),  # a code with another account's name
    json.dumps({"account": "Travel", "confidence": 0.99}),
    json.dumps({"account": "", "confidence": 0.99}),
    json.dumps({"account": None, "confidence": 0.99}),
    json.dumps({"confidence": 0.99}),
    json.dumps({"account": "6100"}),  # no confidence
    json.dumps({"account": "6100", "confidence": "high"}),
    json.dumps({"account": "6100", "confidence": True}),
    '{"account": "6100", "confidence": NaN}',
    json.dumps([{"account": "6100", "confidence": 0.9}]),
    "I think this is office supplies (6100).",
    '{"account": "6100", "confidence": 0.9',
    "",
])
def test_answers_outside_the_chart_or_unreadable_are_discarded_without_an_error(server, content):
    server.answer_text(content)

    answers, reason = ask()

    assert answers == [None]
    assert reason == ""
    assert server.count == 1


def test_answers_outside_the_chart_are_rejected_also_among_accepted_ones(server):
    server.respond(lambda request: json.dumps(
        {"account": "9999" if "UNKNOWN" in request.prompt else "8000", "confidence": 0.95}))

    answers, reason = ask(question(key="unknown", description="UNKNOWN THING"),
                          question(key="client", description="CLIENT PAYMENT", amount="1200.00"))

    assert reason == ""
    assert answers[0] is None
    assert answers[1] is not None and answers[1].account_code == "8000"


@pytest.mark.parametrize("account", ["6100", " 6100 ", 6100, "6100 Office Supplies", "6100 - office supplies",
                                     "6100: Office Supplies", "Office Supplies", "6100."])
def test_an_account_named_with_its_code_or_name_resolves_to_the_code(server, account):
    server.answer(account, 0.8)

    [answer], _ = ask()

    assert answer is not None and answer.account_code == "6100"


def test_an_answer_in_a_json_code_fence_is_read(server):
    server.answer_text('```json\n{"account": "6200", "confidence": 0.7, "reason": "rent"}\n```')

    [answer], _ = ask()

    assert answer is not None and (answer.account_code, answer.confidence) == ("6200", 0.7)


def test_an_ambiguous_name_does_not_resolve(server):
    server.answer("Rent", 0.9)

    answers, _ = ask(chart=[("6200", "Rent"), ("6210", "Rent")])

    assert answers == [None]


@pytest.mark.parametrize(("stated", "kept"), [(1.7, 1.0), (-0.2, 0.0), (0, 0.0), (1, 1.0)])
def test_the_confidence_is_clamped_to_0_1(server, stated, kept):
    server.answer("6100", stated)

    [answer], _ = ask()

    assert answer is not None and answer.confidence == kept


def test_the_raw_answer_is_truncated_for_the_explanation(server):
    server.answer("6100", 0.9, reason="x" * 2000)

    [answer], _ = ask()

    assert answer is not None and len(answer.raw) == 500 and answer.raw.startswith('{"account": "6100"')


# --- switched off -------------------------------------------------------------------------------------------


def test_switched_off_no_request_is_sent(server, settings):
    settings.USE_LLM = False

    answers, reason = ask(question(), question(key="other"))

    assert answers == [None, None]
    assert reason == "LLM switched off"
    assert server.count == 0


def test_without_a_base_url_or_model_no_request_is_sent(server, settings):
    settings.LLM_MODEL = ""

    answers, reason = ask()

    assert answers == [None] and "LLM_MODEL" in reason
    assert server.count == 0


def test_without_an_api_key_no_authorization_header_is_sent(server, settings):
    settings.LLM_API_KEY = ""

    [answer], _ = ask()

    assert answer is not None
    assert server.requests[0].authorization is None


def test_no_questions_no_request(server):
    assert llm_answers(company_id=1, chart=CHART, questions=[]) == ([], "")
    assert server.count == 0


# --- timeouts, retries --------------------------------------------------------------------------------------


def test_a_timeout_gives_no_answer_and_a_reason_quickly(server, settings):
    settings.LLM_MAX_RETRIES = 1
    server.sleep(2.0)
    started = time.monotonic()

    answers, reason = ask(question(), question(key="other vendor"))

    assert time.monotonic() - started < 1.5
    assert answers == [None, None]
    assert reason == "timeout after 0.3 s"
    assert server.count == 2  # one attempt and one retry; the call stops there, the second vendor is not asked


def test_a_timeout_then_an_answer_on_retry(server):
    server.answer("6100", 0.9)
    server.sleep(2.0, times=1)

    [answer], reason = ask()

    assert answer is not None and answer.account_code == "6100"
    assert reason == ""
    assert server.count == 2


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_retries_are_bounded(server, settings, status):
    server.fail(status)

    answers, reason = ask()

    assert answers == [None]
    assert reason == f"provider answered HTTP {status} after 3 attempts"
    assert server.count == 1 + settings.LLM_MAX_RETRIES


def test_a_failure_then_a_success_within_the_retries(server):
    server.answer("6100", 0.9)
    server.fail(500, times=2)

    [answer], reason = ask()

    assert answer is not None and reason == ""
    assert server.count == 3


def test_a_client_error_is_not_retried(server):
    server.fail(400)

    answers, reason = ask(question(), question(key="other vendor"))

    assert answers == [None, None]
    assert reason == ""  # this request was refused; the provider itself works
    assert server.count == 2  # no retry, and the next vendor is still asked


def test_an_authentication_error_is_not_retried_and_stops_the_call(server):
    server.fail(401)

    answers, reason = ask(question(), question(key="other vendor"))

    assert answers == [None, None]
    assert reason == "provider answered HTTP 401"
    assert server.count == 1


def test_a_response_that_is_not_chat_completions_gives_a_reason(server):
    server.raw_body(b"<html>proxy error</html>")

    answers, reason = ask()

    assert answers == [None]
    assert reason == "unreadable response from provider"


def test_an_unreachable_provider_gives_a_reason(server, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"

    answers, reason = ask()

    assert answers == [None]
    assert reason.startswith("provider unreachable")


def test_a_non_http_base_url_is_refused(server, settings):
    settings.LLM_BASE_URL = "file:///etc"

    answers, reason = ask()

    assert answers == [None] and "http(s)" in reason


# --- circuit breaker ----------------------------------------------------------------------------------------


def _shift_clock(monkeypatch, seconds: float) -> None:
    monkeypatch.setattr(llm, "_now", lambda: time.time() + seconds)


def test_the_breaker_opens_after_consecutive_failures_and_sends_nothing_while_open(server):
    server.fail(500)
    for attempt in range(3):
        answers, reason = ask(question(key=f"vendor {attempt}"))
        assert answers == [None] and reason.startswith("provider answered HTTP 500")
    assert server.count == 9

    answers, reason = ask(question(key="vendor 4"), question(key="vendor 5"))

    assert answers == [None, None]
    assert reason == "circuit open after 3 failures; retrying after 60 s"
    assert server.count == 9


def test_the_breaker_closes_after_the_cooldown_when_the_trial_succeeds(server, monkeypatch):
    server.fail(500)
    for attempt in range(3):
        ask(question(key=f"vendor {attempt}"))
    _shift_clock(monkeypatch, 30)
    assert ask()[1] == "circuit open after 3 failures; retrying after 30 s"
    count = server.count

    server.answer("6100", 0.9)
    _shift_clock(monkeypatch, 61)
    [answer], reason = ask()

    assert answer is not None and reason == ""
    assert server.count == count + 1
    monkeypatch.undo()  # back to the real clock: the breaker is closed, not merely past its cooldown
    server.fail(500, times=3)
    assert ask(question(key="another"))[1].startswith("provider answered HTTP 500")  # one failure: still closed
    server.answer("6100", 0.9)
    assert ask(question(key="yet another"))[0][0] is not None


def test_a_failed_trial_opens_the_breaker_again(server, monkeypatch):
    server.fail(500)
    for attempt in range(3):
        ask(question(key=f"vendor {attempt}"))
    _shift_clock(monkeypatch, 61)

    assert ask(question(key="trial"))[1].startswith("provider answered HTTP 500")
    count = server.count
    answers, reason = ask(question(key="after the trial"))

    assert answers == [None] and reason.startswith("circuit open")
    assert server.count == count


def test_a_success_resets_the_count_of_consecutive_failures(server):
    for attempt in range(2):
        server.fail(500, times=3)
        ask(question(key=f"failing {attempt}"))
    ask(question(key="working"))  # the default answer
    for attempt in range(2):
        server.fail(500, times=3)
        ask(question(key=f"failing again {attempt}"))

    server.answer("6100", 0.9)
    [answer], reason = ask(question(key="still closed"))

    assert answer is not None and reason == ""


# --- budget -------------------------------------------------------------------------------------------------


def test_the_daily_budget_per_company_stops_requests(server, settings):
    settings.LLM_DAILY_BUDGET_PER_COMPANY = 2

    answers, reason = ask(question(key="a"), question(key="b"), question(key="c"))

    assert [answer is not None for answer in answers] == [True, True, False]
    assert reason == "budget of 2 calls/day used up"
    assert server.count == 2

    answers, reason = ask(question(key="d"))
    assert answers == [None] and reason == "budget of 2 calls/day used up"
    assert server.count == 2

    [cached], reason = ask(question(key="a"))  # cached answers are still given
    assert cached is not None and cached.cached and reason == ""

    [other_company], reason = ask(question(key="d"), company_id=2)
    assert other_company is not None and reason == ""
    assert server.count == 3
    assert llm_budget_used(1) >= 2 and llm_budget_used(2) == 1


# --- cache --------------------------------------------------------------------------------------------------


def test_one_request_per_vendor_key_and_then_the_cache(server):
    (first, second), _ = ask(question(description="STAPLES STORE 123"), question(description="STAPLES STORE 456"))

    assert server.count == 1
    assert first == second and first is not None and not first.cached

    [again], reason = ask(question(description="STAPLES #789"))

    assert server.count == 1
    assert again is not None and again.cached and reason == ""
    assert (again.account_code, again.confidence, again.model, again.raw) == (
        first.account_code, first.confidence, first.model, first.raw)


def test_the_cache_is_per_company_chart_and_model(server, settings):
    ask()
    ask(company_id=2)
    assert server.count == 2
    ask(chart=[*CHART, ("6300", "Travel")])
    assert server.count == 3
    settings.LLM_MODEL = "other-model"
    [answer], _ = ask()
    assert server.count == 4
    assert answer is not None and answer.model == "other-model"
    ask()
    assert server.count == 4


def test_questions_without_a_vendor_key_are_asked_separately(server):
    ask(question(key="", description="123 456"), question(key="", description="789"))

    assert server.count == 2


def test_a_discarded_answer_is_not_asked_again_at_once(server):
    server.answer("9999", 0.9)
    assert ask()[0] == [None]

    server.answer("6100", 0.9)
    assert ask()[0] == [None]
    assert server.count == 1


def test_failures_are_not_cached(server):
    server.fail(500, times=3)
    assert ask()[0] == [None]

    [answer], reason = ask()

    assert answer is not None and reason == ""
