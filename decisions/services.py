"""Writing decisions: classification in chunks (rules -> classifier -> people) and a person's approval or correction.

Classification never touches a transaction a person has decided (`confirmed_at` set) or one that already has a
decision: it picks uncategorized, unconfirmed rows only, so re-running it is safe and cheap.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from decisions.classify_postgres import decisions_write_postgres
from decisions.exceptions import DecisionConflict, DecisionInvalid
from decisions import llm
from decisions.models import Decision, DecisionMethod, DecisionStatus
from jobs.handlers import JobOutcome
from jobs.models import Job, JobKind
from jobs.services import job_create, job_progress
from ledger_site.metrics import decisions_record, model_inference_timer
from ledger.exceptions import LedgerConflict
from ledger.models import SplitLine
from ledger.services.postings import journal_entry_propose_for, transaction_refuse_rebooking
from mlmodels import pipeline
from mlmodels.inference import active_model_for
from rules.engine import TxnInput, counterparty_text
from rules.models import Rule
from rules.selectors import company_rules_compiled
from rules.services.lifecycle import rule_correction_record, rule_create, rule_hits_record
from transactions.models import Account, Company, Transaction, TransactionStatus
from transactions.services.audit import audit_record

ONE = Decimal("1.0000")
OPEN_STATUSES = (DecisionStatus.NEEDS_REVIEW, DecisionStatus.AUTO_APPROVED)  # a person may still act on these


@dataclass(slots=True)
class NewDecision:
    """A decision classify is about to write (a plain object: a model instance per row costs ~50 us to build,
    and the PostgreSQL path never needs one). Field names are Decision's."""
    transaction_id: int
    method: str
    status: str
    account_id: int | None = None
    confidence: Decimal | None = None
    alternatives: list[Any] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)
    rule_id: int | None = None
    rule_version: int | None = None
    model_version_id: int | None = None


def transactions_classify(*, company: Company, import_batch_id: Any = None, through_line: int | None = None,
                          job: Any = None) -> dict[str, Any]:
    """Decide every uncategorized, unconfirmed transaction of the company (or of one import, or of its lines up
    to `through_line`: a segment classified while the import is still being read).

    Chunks of LEDGER_CLASSIFY_CHUNK_ROWS rows, each in its own database transaction: one read (in id order
    along the index txn_company_uncategorized), one matcher pass, one batched model call, the decisions and
    their mirror on the transactions (one statement on PostgreSQL; a bulk insert and one UPDATE per (status,
    account) elsewhere) and the hit counters of the rules that fired. Counts by method: rule, ml, ml_suggestion,
    and review (left to people, with the reason); `to_book`: the auto-approved ones post_propose will book.
    """
    pending = _pending(company=company, import_batch_id=import_batch_id, through_line=through_line)
    total = pending.count()
    counts: Counter[str] = Counter()
    last_id = 0
    done = to_book = 0
    while True:
        with transaction.atomic():
            chunk = list(_chunk_query(pending, last_id=last_id))
            if not chunk:
                break
            last_id = chunk[-1][0]
            chunk_counts, chunk_to_book = _classify_chunk(company=company, chunk=chunk)
        counts.update(chunk_counts)
        to_book += chunk_to_book
        decisions_record(by_method=chunk_counts)  # after the commit, for /metrics
        done += len(chunk)
        if job is not None:
            job_progress(job=job, processed=done, total=total)
    by_method = {method: count for method, count in sorted(counts.items()) if count}
    return {"company": company.slug, "transactions": done, "by_method": by_method, "to_book": to_book}


def _pending(*, company: Company, import_batch_id: Any = None, through_line: int | None = None) -> Any:
    pending = Transaction.objects.filter(
        company=company, status=TransactionStatus.UNCATEGORIZED, confirmed_at__isnull=True
    )
    if import_batch_id:
        pending = pending.filter(import_batch_id=import_batch_id)
        if through_line is not None:
            pending = pending.filter(line__lte=through_line)
    return pending


def _chunk_query(pending: Any, *, last_id: int) -> Any:
    """The next chunk after `last_id` in id order; on PostgreSQL its rows are locked (others' locked rows are
    skipped). The index txn_company_uncategorized serves this order: the chunk reads its own rows only."""
    rows = pending.filter(id__gt=last_id).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return rows.values_list("id", "description", "counterparty", "amount", "bank_account__code", "date")[
        : settings.LEDGER_CLASSIFY_CHUNK_ROWS
    ]


def _classify_chunk(*, company: Company, chunk: list[tuple[Any, ...]]) -> tuple[Counter[str], int]:
    """Rules first; what they leave goes to the classifier; what it is unsure of goes to people. Returns the
    counts by method and how many decisions post_propose will book (auto-approved, an account, an amount)."""
    account_ids = dict(Account.objects.filter(company=company, is_active=True, is_bank=False).values_list("code", "id"))
    decisions: list[NewDecision] = []
    rule_matches = _rules_stage(company=company, chunk=chunk)
    decisions += _rule_decisions(company=company, chunk=chunk, matches=rule_matches, account_ids=account_ids)
    leftovers = [row for row, match in zip(chunk, rule_matches) if match is None]
    if leftovers:
        ml_decisions = _ml_decisions(company=company, rows=leftovers, account_ids=account_ids)
        _llm_stage(company=company, rows=leftovers, decisions=ml_decisions, account_ids=account_ids)
        decisions += ml_decisions
    if connection.vendor == "postgresql":
        decisions_write_postgres(company_id=company.id, decisions=decisions)
    else:
        _write_decisions_portable(company=company, decisions=decisions)
    # Last, just before the chunk commits: a global rule's counter row is shared by every company, and holding
    # its lock through the model and LLM calls would make other companies' chunks wait.
    rule_hits_record(hits=Counter(d.rule_id for d in decisions if d.method == DecisionMethod.RULE))
    amounts = {row[0]: row[3] for row in chunk}
    to_book = sum(1 for d in decisions if d.status == DecisionStatus.AUTO_APPROVED and d.account_id is not None
                  and amounts[d.transaction_id] != 0)
    by_method = Counter("review" if decision.method == DecisionMethod.HUMAN else decision.method
                        for decision in decisions)
    return by_method, to_book


def _rules_stage(*, company: Company, chunk: list[tuple[Any, ...]]) -> list[Any]:
    if not settings.USE_RULES:
        return [None] * len(chunk)
    compiled = company_rules_compiled(company_id=company.id)
    if not len(compiled):
        return [None] * len(chunk)
    return compiled.match([TxnInput(row[1], row[2], row[3], row[4]) for row in chunk])


def _rule_decisions(
    *, company: Company, chunk: list[tuple[Any, ...]], matches: list[Any], account_ids: dict[str, int]
) -> list[NewDecision]:
    decided = [(row[0], match) for row, match in zip(chunk, matches) if match is not None]
    if not decided:
        return []
    rules = {rule.id: rule for rule in Rule.objects.filter(id__in={match.rule_id for _, match in decided}).only(
        "id", "name", "confidence")}
    decisions = []
    for transaction_id, match in decided:
        rule = rules[match.rule_id]
        decisions.append(NewDecision(
            transaction_id=transaction_id, method=DecisionMethod.RULE,
            account_id=account_ids[match.account_code], confidence=rule.confidence or ONE, rule_id=rule.id,
            rule_version=match.version, status=DecisionStatus.AUTO_APPROVED,
            explanation={"rule_id": rule.id, "rule_version": match.version, "rule_name": rule.name},
        ))
    return decisions


def _ml_decisions(*, company: Company, rows: list[tuple[Any, ...]], account_ids: dict[str, int]) -> list[NewDecision]:
    """One batched model call for the rows rules left: auto-approve, suggest, or hand over to people."""
    def to_people(reason: str, alternatives: list[dict[str, str]] | None = None) -> list[NewDecision]:
        return [NewDecision(
            transaction_id=row[0], method=DecisionMethod.HUMAN, status=DecisionStatus.NEEDS_REVIEW,
            alternatives=alternatives or [], explanation={"reason": reason},
        ) for row in rows]

    if not settings.USE_ML:
        return to_people("the classifier is switched off (USE_ML=0)")
    active = active_model_for(company_id=company.id)
    if active.model is None:
        return to_people(active.reason)
    version = active.version
    assert version is not None
    with model_inference_timer(scope=version.scope, rows=len(rows)):
        predictions = active.model.predict([pipeline.Txn(
            description=row[1], counterparty=row[2], amount=row[3], date=row[5], bank_account=row[4],
            company=company.slug,
        ) for row in rows])
    auto_thresholds = dict(Account.objects.filter(company=company, ml_confidence_threshold__isnull=False)
                           .values_list("code", "ml_confidence_threshold"))
    source = {"model_version": version.pk, "model_number": version.number, "scope": version.scope}
    company_threshold, review_threshold = company.confidence_threshold, company.review_threshold  # once, not per row
    decisions = []
    for row, prediction in zip(rows, predictions):
        confidence = Decimal(str(round(prediction.probability, 4)))  # stored; routing uses the exact value
        alternatives = [{"account": code, "probability": f"{probability:.4f}"}
                        for code, probability in prediction.alternatives]
        account_id = account_ids.get(prediction.account_code)
        explanation = {**source, **prediction.explanation}
        route = ml_route(
            confidence=Decimal(str(prediction.probability)), auto_approvable=prediction.auto_approvable,
            auto_threshold=auto_thresholds.get(prediction.account_code, company_threshold),
            review_threshold=review_threshold,
        )
        if account_id is None:
            method, status, account_id = DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, None
            explanation["reason"] = f"the model's answer {prediction.account_code} is not in this chart of accounts"
        elif route == DecisionMethod.ML:
            method, status = DecisionMethod.ML, DecisionStatus.AUTO_APPROVED
        elif route == DecisionMethod.ML_SUGGESTION:
            method, status = DecisionMethod.ML_SUGGESTION, DecisionStatus.NEEDS_REVIEW
            if not prediction.auto_approvable:
                explanation["reason"] = "too few confirmed examples of this account to approve it automatically"
        else:
            method, status, account_id = DecisionMethod.HUMAN, DecisionStatus.NEEDS_REVIEW, None
            explanation["reason"] = (f"confidence {confidence} is below the review threshold "
                                     f"{review_threshold}: no suggestion")
            alternatives = [{"account": prediction.account_code, "probability": f"{prediction.probability:.4f}"},
                            *alternatives]
        decisions.append(NewDecision(
            transaction_id=row[0], method=method, account_id=account_id, confidence=confidence,
            alternatives=alternatives, explanation=explanation, status=status, model_version_id=version.pk,
        ))
    return decisions


def _llm_stage(*, company: Company, rows: list[tuple[Any, ...]], decisions: list[NewDecision],
               account_ids: dict[str, int]) -> None:
    """Ask the LLM (when USE_LLM is on) about the rows still without a suggestion, in place.

    An answer naming an account of the chart becomes an `llm` decision: auto-approved when its confidence clears
    LLM_CONFIDENCE_THRESHOLD, otherwise a suggestion for review. Unanswered rows keep their review placeholder,
    with the LLM's reason added. LLM answers never train the model until a person confirms them (training reads
    confirmed rows and rule decisions only).
    """
    if not settings.USE_LLM:
        return
    waiting = [(row, decision) for row, decision in zip(rows, decisions)
               if decision.method == DecisionMethod.HUMAN and decision.account_id is None]
    if not waiting:
        return
    chart = list(Account.objects.filter(company=company, is_active=True, is_bank=False)
                 .order_by("code").values_list("code", "name"))
    questions = [llm.LlmQuestion(key=counterparty_text(row[2], row[1]), description=row[1], counterparty=row[2],
                                 amount=row[3], date=row[5]) for row, _ in waiting]
    answers, reason = llm.llm_answers(company_id=company.id, chart=chart, questions=questions)
    for (_, decision), answer in zip(waiting, answers):
        if answer is None or answer.account_code not in account_ids:
            if reason:
                decision.explanation = {**decision.explanation, "llm": reason}
            continue
        confidence = Decimal(str(round(answer.confidence, 4)))
        decision.method, decision.account_id, decision.confidence = DecisionMethod.LLM, account_ids[answer.account_code], confidence
        decision.status = (DecisionStatus.AUTO_APPROVED if confidence >= settings.LLM_CONFIDENCE_THRESHOLD
                           else DecisionStatus.NEEDS_REVIEW)
        decision.explanation = {**decision.explanation, "llm_model": answer.model, "llm_answer": answer.raw,
                                "cached": answer.cached}


def ml_route(*, confidence: Decimal, auto_approvable: bool, auto_threshold: Decimal, review_threshold: Decimal) -> str:
    """Where a prediction goes: "ml" (auto-approved) at or above the auto threshold when its account has enough
    support, "ml_suggestion" (review with a suggestion) at or above the review threshold, else "human" (review
    without one). Both bounds are inclusive: 0.85 exactly is auto-approved at the default threshold."""
    if confidence >= auto_threshold and auto_approvable:
        return DecisionMethod.ML
    if confidence >= review_threshold:
        return DecisionMethod.ML_SUGGESTION
    return DecisionMethod.HUMAN


def _write_decisions_portable(*, company: Company, decisions: list[NewDecision]) -> None:
    """The ORM write of a chunk's decisions (SQLite; PostgreSQL uses `decisions_write_postgres`)."""
    Decision.objects.bulk_create([
        Decision(company=company, transaction_id=d.transaction_id, method=d.method, status=d.status,
                 account_id=d.account_id, confidence=d.confidence, alternatives=d.alternatives,
                 explanation=d.explanation, rule_id=d.rule_id, rule_version=d.rule_version,
                 model_version_id=d.model_version_id)
        for d in decisions
    ])
    _mirror_on_transactions(decisions)


def _mirror_on_transactions(decisions: list[NewDecision]) -> None:
    """Transactions show their current decision: auto-approved ones are categorized, the rest await review.
    One UPDATE per (status, account) pair, not per transaction."""
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for decision in decisions:
        if decision.status == DecisionStatus.AUTO_APPROVED:
            groups[(TransactionStatus.CATEGORIZED, decision.account_id)].append(decision.transaction_id)
        else:
            groups[(TransactionStatus.NEEDS_REVIEW, None)].append(decision.transaction_id)
    for (status, account_id), ids in groups.items():
        Transaction.objects.filter(id__in=ids).update(status=status, account_id=account_id)


def classify_job(*, job: Any) -> JobOutcome:
    """The classify job: params may name one import (`import_batch`), and a segment of it (`through_line`: queued
    while the import is read); otherwise the whole company. A post_propose job follows: it pairs transfers between
    the company's own accounts and books what was auto-approved - for an import, that import's decisions only,
    walked from the mark taken here to the highest decision id when this job ends (ledger.services.postings), so
    it never reads the company's history nor, for a segment, the later segments' decisions. A segment that
    auto-approved nothing has no follow-up, unless it is a re-run: its first attempt may have committed every
    chunk and died before queueing one (the import's last classify job always has one)."""
    import_batch_id = job.params.get("import_batch")
    through_line = job.params.get("through_line")
    mark = _decisions_mark(job) if import_batch_id else None
    result = transactions_classify(company=job.company, import_batch_id=import_batch_id, through_line=through_line,
                                   job=job)
    result["post_propose_job_id"] = None
    if through_line is None or result["to_book"] or job.attempts > 1:
        params = {} if not import_batch_id else {
            "import_batch": import_batch_id, "decisions_after": mark, "expected": result["to_book"],
            "decisions_through": Decision.objects.order_by("-id").values_list("id", flat=True).first() or 0}
        follow, _ = job_create(company=job.company, kind=JobKind.POST_PROPOSE, created_by=job.created_by,
                               params=params)
        result["post_propose_job_id"] = str(follow.id)
    return JobOutcome(result=result)


def _decisions_mark(job: Any) -> int:
    """The highest decision id before this job writes any: every decision it writes gets a higher one (ids come
    from a sequence, handed out in increasing order whoever commits first). Kept on the job before the first
    chunk, so a re-run after a crash keeps the first attempt's mark and its committed chunks stay in scope."""
    mark = job.params.get("decisions_after")
    if mark is None:
        mark = Decision.objects.order_by("-id").values_list("id", flat=True).first() or 0
        job.params = {**job.params, "decisions_after": mark}
        Job.objects.filter(pk=job.pk).update(params=job.params)
    return int(mark)


def transaction_categorize(
    *, transaction_id: int, user: Any, account: Account, expected_decision_id: int | None = None,
    remember_as_rule: bool = False,
) -> Decision:
    """A person decides a transaction's account: approving the current decision if it agrees, else correcting it.

    A correction keeps the old decision (status "corrected", no longer current) next to the new human one, and
    tells the rule that made it (rules whose corrections pile up are flagged). A review placeholder (no
    suggestion) simply becomes the person's decision. The transaction becomes confirmed: promotion and training
    learn from it.

    `expected_decision_id`: the decision the reviewer was looking at. If another reviewer has decided the
    transaction meanwhile, this raises DecisionConflict (409) and changes nothing - of two reviewers acting on
    one item exactly one wins. `remember_as_rule`: "always categorize like this" - also create a rule for the
    vendor (active for admins, proposed otherwise).
    """
    with transaction.atomic():
        txn = Transaction.objects.select_for_update().get(pk=transaction_id)
        if account.company_id != txn.company_id or account.is_bank or not account.is_active:
            raise DecisionInvalid(
                f"{account.code} is not an active category account of this transaction's company.",
                extra={"fields": {"account": ["expected an active, non-bank account code of the company"]}},
            )
        now = timezone.now()
        actor = user if getattr(user, "pk", None) else None
        current = (Decision.objects.filter(transaction=txn, is_current=True)
                   .select_related("account", "reviewer").first())
        if expected_decision_id is not None:
            _check_still_open(current, expected_decision_id)
        transaction_refuse_rebooking(txn, then="categorize it again", matched_ok=True)
        before = {"account": current.account.code if current and current.account else None,
                  "method": current.method if current else None, "status": current.status if current else None}
        agrees = current is not None and current.account_id == account.id
        answers_placeholder = current is not None and current.account_id is None and current.method == DecisionMethod.HUMAN
        if agrees or answers_placeholder:
            # Agreeing with the suggestion, or answering a review placeholder: the same decision, now approved.
            decision, action = current, "decision.approve" if agrees else "decision.categorize"
            if current.status != DecisionStatus.APPROVED or answers_placeholder:
                current.account, current.status, current.reviewer, current.reviewed_at = (
                    account, DecisionStatus.APPROVED, actor, now)
                current.save(update_fields=["account", "status", "reviewer", "reviewed_at"])
        else:
            action = "decision.correct" if current is not None else "decision.categorize"
            if current is not None:
                current.status, current.is_current = DecisionStatus.CORRECTED, False
                current.reviewer, current.reviewed_at = actor, now
                current.save(update_fields=["status", "is_current", "reviewer", "reviewed_at"])
            decision = Decision.objects.create(
                company_id=txn.company_id, transaction=txn, method=DecisionMethod.HUMAN, account=account,
                status=DecisionStatus.APPROVED, reviewer=actor, reviewed_at=now,
                explanation={"corrects": current.pk} if current is not None else {},
            )
            if current is not None and current.method == DecisionMethod.RULE and current.rule_id:
                rule_correction_record(rule_id=current.rule_id, version=current.rule_version or 0)
        Transaction.objects.filter(pk=txn.pk).update(
            account=account, status=TransactionStatus.CATEGORIZED, confirmed_at=now
        )
        audit_record(action=action, company=txn.company, actor=user, target=decision, before=before,
                     after={"account": account.code, "transaction": txn.pk})
        # One account for the whole amount replaces an earlier split (ledger.services.splits), before the entry is
        # proposed from it; a split calls this first and then stores its new parts.
        SplitLine.objects.filter(transaction=txn).delete()
        # Hand-off to the books: the approved transaction gets its (proposed) journal entry in the same commit.
        decision.transaction = txn
        journal_entry_propose_for(decision=decision, user=actor)
        if remember_as_rule:
            raw = vendor_rule_data(txn=txn, account=account)
            # A rule for this vendor and direction exists already (an earlier "always"): the correction still
            # counts against it if it decided otherwise, and an admin sees it flagged; no second rule.
            if not Rule.objects.filter(company=txn.company, name=raw["name"]).exists():
                rule_create(company=txn.company, user=user, raw=raw)
    return decision


def _check_still_open(current: Decision | None, expected_decision_id: int) -> None:
    if current is not None and current.pk == expected_decision_id and current.status in OPEN_STATUSES:
        return
    who = ""
    if current is not None and current.reviewer is not None:
        who = f" by {current.reviewer.get_username()}"
    raise DecisionConflict(
        f"Someone else has already decided this transaction{who}; the page shows an old state. Reload to see it.",
        extra={"current_decision": current.pk if current else None},
    )


def vendor_rule_data(*, txn: Transaction, account: Account) -> dict[str, Any]:
    """The rule "always categorize this vendor like this": counterparty text equals the vendor, same direction."""
    vendor = counterparty_text(txn.counterparty, txn.description)
    direction = "in" if txn.amount > 0 else "out"
    if not vendor:
        raise DecisionInvalid("This description names no vendor a rule could recognize; write the rule by hand.")
    return {
        "name": f"{vendor} ({'money in' if direction == 'in' else 'money out'})"[:200],
        "conditions": [{"field": "counterparty", "op": "equals", "value": vendor},
                       {"field": "direction", "op": direction, "value": ""}],
        "account_code": account.code,
    }


def decisions_approve(*, decision_ids: Iterable[int], user: Any) -> dict[str, Any]:
    """Approve many suggestions at once (a vendor group, a selection): each is approved if it is still open and
    has an account; the others are counted with the reason, never half-done."""
    approved: list[int] = []
    skipped: Counter[str] = Counter()
    decisions = Decision.objects.filter(pk__in=set(decision_ids)).select_related("account").order_by("pk")
    for decision in decisions:
        if decision.account is None:
            skipped["no_suggestion"] += 1
            continue
        try:
            transaction_categorize(transaction_id=decision.transaction_id, user=user, account=decision.account,
                                   expected_decision_id=decision.pk)
        except DecisionConflict:
            skipped["already_decided"] += 1
            continue
        except DecisionInvalid:  # its suggested account was deactivated since
            skipped["account_unavailable"] += 1
            continue
        except LedgerConflict:  # posted or booked as a transfer meanwhile: reversing comes first
            skipped["in_the_books"] += 1
            continue
        approved.append(decision.pk)
    return {"approved": len(approved), "skipped": dict(sorted(skipped.items())), "approved_ids": approved}
