"""Pagination that stays fast on a million rows: the count stops at a cap instead of scanning everything."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (... LIMIT n)`). Past the cap the total is unknown:
    `count_is_capped` says so, and pages go on for as long as there are rows ("next" while a page is full)."""

    @cached_property
    def cap(self) -> int:
        return COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.cap

    def validate_number(self, number: Any) -> int:
        if not self.count_is_capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number: Any) -> Page:
        if not self.count_is_capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return CappedPage(self.object_list[bottom : bottom + self.per_page], number, self)


class CappedPage(Page):
    def has_next(self) -> bool:
        return len(self.object_list) == self.paginator.per_page
