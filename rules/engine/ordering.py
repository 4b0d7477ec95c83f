"""The order in which rules are tried; the first rule that matches decides.

1. ``priority``, lower first: the author's explicit word wins over everything.
2. Specificity, more specific first, so a narrow rule is not shadowed by a broad one of equal priority:
   a. more conditions first - for an "all" rule each condition narrows it; an "any" rule is only as
      narrow as its loosest condition, so it counts as one condition;
   b. then the kind of text test: equals > starts_with > contains > regex (an "all" rule ranks by
      its strongest text condition, an "any" rule by its weakest; a rule without text conditions, or an
      "any" rule with a non-text one, ranks after regex).
3. ``rule_id``, lower first: a stable, deterministic tie-break.
"""

from __future__ import annotations

from .spec import TEXT_FIELDS, RuleSpec

__all__ = ["TEXT_OP_RANK", "rule_sort_key"]

TEXT_OP_RANK = {"equals": 0, "starts_with": 1, "contains": 2, "regex": 3}
_NO_TEXT_RANK = len(TEXT_OP_RANK)


def rule_sort_key(spec: RuleSpec) -> tuple[int, int, int, int]:
    """Sort key implementing the order above (for a validated spec)."""
    text_ranks = [TEXT_OP_RANK[c.op] for c in spec.conditions if c.field in TEXT_FIELDS]
    if spec.combine == "all":
        breadth = len(spec.conditions)
        rank = min(text_ranks, default=_NO_TEXT_RANK)
    else:
        breadth = 1
        has_other = len(text_ranks) < len(spec.conditions)
        rank = _NO_TEXT_RANK if has_other or not text_ranks else max(text_ranks)
    return (spec.priority, -breadth, rank, spec.rule_id)
