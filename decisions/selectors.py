"""Reads for decisions, scoped to the user's companies."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from decisions.exceptions import DecisionInvalid
from decisions.models import Decision, DecisionMethod, DecisionStatus
from rules.engine import counterparty_text
from transactions.models import Company, Membership, Role, Transaction
from transactions.selectors import user_has_role


def transaction_get_for_user(*, user: Any, transaction_id: Any, role: str = Role.ACCOUNTANT) -> Transaction:
    """A transaction of one of the user's companies (404 otherwise; 403 when the role is too low)."""
    txn = (
        Transaction.objects.filter(company__in=Company.objects.for_user(user), pk=transaction_id)
        .select_related("company")
        .first()
    )
    if txn is None:
        raise Http404("No such transaction.")
    if not user_has_role(user=user, company=txn.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {txn.company.name}.")
    return txn


def decision_history(*, transaction: Transaction) -> QuerySet[Decision]:
    """Every decision on the transaction, newest first: why it is categorized as it is, and what came before."""
    return Decision.objects.filter(transaction=transaction).select_related("account", "rule", "reviewer")


# ------------------------------------------------------------------------------------------ review queue

REVIEW_GROUPS_PER_PAGE = 20
# Items shown per group: a vendor with thousands of open lines must not make one page of thousands of forms.
# "Approve group" still covers every open item of the group; the rest move up as items are decided.
REVIEW_ITEMS_PER_GROUP = 50
REVIEW_METHODS = (DecisionMethod.ML_SUGGESTION, DecisionMethod.HUMAN, DecisionMethod.LLM)
_MOST_UNCERTAIN = Decimal(1)


@dataclass(frozen=True)
class ReviewFilters:
    """What the queue is narrowed to: `q` text in the vendor/description/counterparty, the deciding `method`,
    and `min_amount` on the absolute amount (money in and out alike)."""

    q: str = ""
    method: str = ""
    min_amount: Decimal | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (empty ones left out), for links that keep them."""
        values = {"q": self.q, "method": self.method,
                  "min_amount": "" if self.min_amount is None else str(self.min_amount)}
        return {key: value for key, value in values.items() if value}


@dataclass
class ReviewGroup:
    """The open items of one normalized vendor: one decision can settle them all."""

    vendor: str
    decision_ids: list[int]  # every open item of the group, in queue order
    uncertainty: Decimal  # mean of 1 - confidence; an item without a suggestion counts as 1
    total_amount: Decimal  # sum of |amount|
    shared_account_id: int | None  # the account every item suggests, if they all suggest the same one
    suggested_count: int = 0  # items with a suggestion ("Approve group" approves these)
    items: list[Decision] = field(default_factory=list)  # the first REVIEW_ITEMS_PER_GROUP, loaded for a page

    @property
    def count(self) -> int:
        return len(self.decision_ids)

    @property
    def hidden_count(self) -> int:
        return self.count - len(self.items)

    @property
    def ids_text(self) -> str:
        """The ids as one comma-separated string for the group-approval form. Joined here, not with the
        template's `join` filter, which escapes each id separately (seconds for a group of 50,000)."""
        return ",".join(map(str, self.decision_ids))

    @property
    def shared_account(self) -> Any:
        """The shared suggestion as an Account (taken from a loaded item), or None."""
        if self.shared_account_id is None or not self.items:
            return None
        return self.items[0].account


@dataclass
class ReviewQueue:
    filters: ReviewFilters
    page: Page  # a page of ReviewGroups, their items loaded
    group_count: int
    item_count: int

    @property
    def groups(self) -> list[ReviewGroup]:
        return list(self.page.object_list)


def review_filters_parse(params: Any) -> ReviewFilters:
    """Read the queue's filters from query parameters; raises DecisionInvalid (400) naming each bad value."""
    errors: dict[str, list[str]] = {}
    method = str(params.get("method") or "").strip()
    if method and method not in REVIEW_METHODS:
        errors["method"] = [f"expected one of {', '.join(REVIEW_METHODS)}"]
    min_amount = None
    text = str(params.get("min_amount") or "").strip()
    if text:
        try:
            min_amount = Decimal(text)
        except InvalidOperation:
            min_amount = None
        if min_amount is None or not min_amount.is_finite() or min_amount < 0 or abs(min_amount) >= 10**12:
            errors["min_amount"] = ["expected a number of at least 0, e.g. 100 or 99.50"]
            min_amount = None
    if errors:
        raise DecisionInvalid("Some filters are not valid.", extra={"fields": errors})
    return ReviewFilters(q=str(params.get("q") or "").strip()[:200], method=method, min_amount=min_amount)


def review_open_decisions(*, company: Company) -> QuerySet[Decision]:
    """The company's decisions waiting for a person: current and needs_review."""
    return Decision.objects.filter(company=company, is_current=True, status=DecisionStatus.NEEDS_REVIEW)


def review_queue(*, company: Company, params: Any) -> ReviewQueue:
    """The company's review queue, ordered to save the reviewer the most work.

    Items are grouped by normalized vendor (the text vendor rules compare against), so one decision can settle
    a whole group. Groups: biggest first, then most uncertain (mean of 1 - confidence, an item without a
    suggestion counting as 1), then most money (sum of |amount|). Inside a group: most uncertain, then largest
    |amount| first - where a person's look matters most. Paginated by groups (`page`).

    Two queries whatever the queue's size: one narrow scan of every open item (ids, confidence, texts, amount;
    grouping runs in Python - fine for tens of thousands) and one for the page's items with their transaction
    and account. Raises DecisionInvalid for bad filters (see review_filters_parse).
    """
    filters = review_filters_parse(params)
    groups = _review_groups(company=company, filters=filters)
    page = Paginator(groups, REVIEW_GROUPS_PER_PAGE).get_page(params.get("page"))
    _load_items(list(page.object_list))
    return ReviewQueue(filters=filters, page=page, group_count=len(groups),
                       item_count=sum(group.count for group in groups))


def _review_groups(*, company: Company, filters: ReviewFilters) -> list[ReviewGroup]:
    rows = review_open_decisions(company=company)
    if filters.method:
        rows = rows.filter(method=filters.method)
    if filters.min_amount is not None:
        rows = rows.filter(Q(transaction__amount__gte=filters.min_amount)
                           | Q(transaction__amount__lte=-filters.min_amount))
    needle = filters.q.casefold()
    vendors: dict[tuple[str, str], str] = {}
    members: dict[str, list[tuple[Decimal, Decimal, int, int | None]]] = defaultdict(list)
    for decision_id, confidence, account_id, description, counterparty, amount in rows.values_list(
        "id", "confidence", "account_id", "transaction__description", "transaction__counterparty",
        "transaction__amount",
    ).iterator(chunk_size=5000):
        key = (counterparty, description)
        vendor = vendors.get(key)
        if vendor is None:
            # No recognizable vendor: the line stands alone (grouping unrelated lines would invite a wrong
            # group approval).
            vendor = vendors[key] = counterparty_text(counterparty, description) or description.strip()
        if needle and not (needle in vendor.casefold() or needle in description.casefold()
                           or needle in counterparty.casefold()):
            continue
        uncertainty = _MOST_UNCERTAIN if account_id is None or confidence is None else _MOST_UNCERTAIN - confidence
        members[vendor].append((uncertainty, abs(amount), decision_id, account_id))
    groups = []
    for vendor, items in members.items():
        items.sort(key=lambda item: (-item[0], -item[1], item[2]))
        accounts = {item[3] for item in items}
        groups.append(ReviewGroup(
            vendor=vendor, decision_ids=[item[2] for item in items],
            uncertainty=sum((item[0] for item in items), Decimal(0)) / len(items),
            total_amount=sum((item[1] for item in items), Decimal(0)),
            shared_account_id=accounts.pop() if len(accounts) == 1 else None,
            suggested_count=sum(1 for item in items if item[3] is not None),
        ))
    groups.sort(key=lambda group: (-group.count, -group.uncertainty, -group.total_amount, group.vendor))
    return groups


def _load_items(groups: list[ReviewGroup]) -> None:
    """The shown items of a page's groups, in one query, with their transaction and account."""
    wanted = [decision_id for group in groups for decision_id in group.decision_ids[:REVIEW_ITEMS_PER_GROUP]]
    loaded = Decision.objects.select_related("transaction", "account").in_bulk(wanted)
    for group in groups:
        # An item decided between the two queries is simply not shown; the group's ids still count it.
        group.items = [loaded[decision_id] for decision_id in group.decision_ids[:REVIEW_ITEMS_PER_GROUP]
                       if decision_id in loaded]


def review_counts(*, company_ids: Iterable[int]) -> dict[int, int]:
    """Open review items per company (0 when none), in one query."""
    ids = list(company_ids)
    counts = dict(Decision.objects.filter(company_id__in=ids, is_current=True, status=DecisionStatus.NEEDS_REVIEW)
                  .values("company").annotate(open=Count("id")).values_list("company", "open"))
    return {company_id: counts.get(company_id, 0) for company_id in ids}


def company_ids_reviewed_by(*, user: Any) -> set[int]:
    """Ids of the companies where the user may review (reviewer or admin; every company for a superuser)."""
    if getattr(user, "is_superuser", False):
        return set(Company.objects.values_list("id", flat=True))
    return set(Membership.objects.filter(user=user, role__in=(Role.REVIEWER, Role.ADMIN))
               .values_list("company_id", flat=True))


def decision_get_for_user(*, user: Any, decision_id: Any, role: str = Role.ACCOUNTANT) -> Decision:
    """A decision of one of the user's companies, with its transaction and account (404 otherwise; 403 when
    the role is too low)."""
    text = str(decision_id)
    decision = (
        Decision.objects.filter(company__in=Company.objects.for_user(user), pk=int(text))
        .select_related("company", "transaction", "account").first()
        if text.isascii() and text.isdigit() else None
    )
    if decision is None:
        raise Http404("No such decision.")
    if not user_has_role(user=user, company=decision.company, role=role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {decision.company.name}.")
    return decision


def decision_ids_for_user(*, user: Any, decision_ids: Iterable[int], role: str = Role.ACCOUNTANT,
                          company: Company | None = None) -> list[int]:
    """The given decision ids, checked: every one must belong to the user's companies (and to `company` if
    given) - else 404, nothing is half-done - and the user needs `role` in each of their companies (else 403).
    Bounded queries: one for the decisions, one role check per distinct company."""
    wanted = set(decision_ids)
    companies = Company.objects.for_user(user)
    if company is not None:
        companies = companies.filter(pk=company.pk)
    found = dict(Decision.objects.filter(pk__in=wanted, company__in=companies).values_list("id", "company_id"))
    if len(found) != len(wanted):
        raise Http404("No such decision.")
    for owner in Company.objects.filter(pk__in=set(found.values())):
        if not user_has_role(user=user, company=owner, role=role):
            raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {owner.name}.")
    return sorted(found)
