"""Regex conditions that cannot hang the matcher (stdlib ``re`` only: it has no timeout).

Python's ``re`` backtracks, so a badly shaped pattern can run for minutes on one line of text.
Three guards, each bounding a different thing:

1. Length: a pattern may have at most ``MAX_PATTERN_LENGTH`` characters.  Bounds the size of the
   automaton and of the static analysis below, and keeps the combined alternation small.
2. Shape (static, on the parse tree ``re`` itself builds, so both agree on what the pattern is):
   * no nested quantifiers - a repeated group containing a variable repetition, ``(a+)+``,
     ``(.*a){20}`` - and no repeated alternation whose branches can match the same text,
     ``(a|a)*``, ``(a|ab)+``: these are the exponential-time shapes;
   * at most ``MAX_OVERLAPPING_REPEATS`` variable repetitions that can consume a common character
     (``.*FOO.*BAR.*`` has three): k such repetitions cost O(n^(k+1)) on a failing search;
   * no backreferences or conditional groups (exponential in general, and not combinable).
3. Text length (at run time): patterns only ever see the first ``REGEX_TEXT_LIMIT`` characters of
   the normalized text.  With shape rule 2 the worst accepted pattern is cubic in the text length;
   the cap turns that into a constant (measured on 256 characters: ``.*.*X`` ~50 ms,
   ``[A-Z ]*[A-Z ]*X`` ~120 ms; on 500 characters ``.*.*X`` takes ~0.4 s and the rejected
   ``.*.*.*X`` ~35 s).  Real normalized descriptions are far shorter than the cap, so it only ever
   cuts adversarial input.

Patterns are compiled with ``re.IGNORECASE`` and search the NORMALIZED text (upper case letters,
digits and single spaces - no punctuation), so ``duke energy`` matches but ``DUKE-ENERGY`` never
could; such patterns are rejected with a message saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# The parser ``re.compile`` uses; the public ``sre_parse`` alias is deprecated since 3.11.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "MAX_OVERLAPPING_REPEATS",
    "MAX_PATTERN_LENGTH",
    "REGEX_TEXT_LIMIT",
    "check_pattern",
    "combine_patterns",
    "compile_pattern",
]

MAX_PATTERN_LENGTH = 300
REGEX_TEXT_LIMIT = 256
MAX_OVERLAPPING_REPEATS = 2
FLAGS = re.IGNORECASE

# The characters normalized text can contain ("É" stands for any non-ASCII letter, which
# normalization keeps).  Character-set reasoning below is done over this alphabet.
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 É")
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_NEVER_IN_TEXT = "never occurs in normalized text (normalization keeps only letters, digits and single spaces)"

# \d, \s, \w and their negations, to test alphabet characters against class members.
_CATEGORY_PROBES = {
    sre.CATEGORY_DIGIT: re.compile(r"\d"),
    sre.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre.CATEGORY_SPACE: re.compile(r"\s"),
    sre.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    sre.CATEGORY_WORD: re.compile(r"\w"),
    sre.CATEGORY_NOT_WORD: re.compile(r"\W"),
}

SubPattern = Any  # re._parser.SubPattern: a sequence of (opcode, argument) pairs


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a pattern the way regex conditions run it (call ``check_pattern`` first)."""
    return re.compile(pattern, FLAGS)


def check_pattern(pattern: str) -> str | None:
    """Return why a regex condition's pattern is unacceptable, or None when it is fine."""
    if not pattern:
        return "a regex condition needs a pattern"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}"
    try:
        compiled = compile_pattern(pattern)
        tree = sre_parse.parse(pattern, FLAGS)
    except re.error as error:
        return f"invalid regular expression at position {error.pos}: {error.msg}"
    problem = _shape_problem(tree, repeated=False) or _overlap_problem(tree) or _required_char_problem(tree)
    if problem:
        return problem
    if compiled.fullmatch("") is not None and compiled.search("\x01") is not None:
        return "the pattern matches empty text, so it would match every transaction"
    return None


def combine_patterns(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One alternation that matches wherever any of the patterns does (a prefilter), or None.

    Sound because an alternation, tried at each position, succeeds wherever one branch succeeds.
    None when the patterns cannot be combined (duplicate group names, inline flags); callers then
    evaluate each pattern on its own.
    """
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), FLAGS)
    except re.error:
        return None


# --- shape analysis ------------------------------------------------------------------------------


_NESTED = (
    "nested quantifier: a repeated group contains a variable repetition, like (a+)+ or (.*a){20}, which can "
    "take exponential time; repeat the group or its contents, not both"
)
_AMBIGUOUS = (
    "repeated alternation whose branches can match the same text, like (a|a)* or (a|ab)+, which can take "
    "exponential time; make the alternatives start differently"
)


def _children(op: Any, arg: Any) -> list[SubPattern]:
    """The sub-patterns directly inside a node (none for single characters and anchors)."""
    if op in _REPEATS:
        return [arg[2]]  # (min, max, item)
    if op == sre.BRANCH:
        return list(arg[1])  # (None, alternatives)
    if op == sre.SUBPATTERN:
        return [arg[3]]  # (group, add_flags, del_flags, pattern)
    if op == sre.ATOMIC_GROUP:
        return [arg]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [arg[1]]  # (direction, pattern)
    return []


def _shape_problem(tree: SubPattern, *, repeated: bool) -> str | None:
    """Find exponential shapes; ``repeated`` means we are inside a group repeated more than once."""
    for op, arg in tree:
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            return "backreferences and conditional groups are not supported (they can take exponential time)"
        inside_repeat = repeated
        if op in _REPEATS:
            low, high, item = arg
            if repeated and low != high:
                return _NESTED
            if high > 1 and _has_ambiguous_branch(item):
                return _AMBIGUOUS
            inside_repeat = repeated or high > 1
        for child in _children(op, arg):
            problem = _shape_problem(child, repeated=inside_repeat)
            if problem:
                return problem
    return None


def _has_ambiguous_branch(tree: SubPattern) -> bool:
    """Whether an alternation in ``tree`` has a branch that can match empty text or two that can start alike."""
    for op, arg in tree:
        if op == sre.BRANCH:
            firsts: list[frozenset[str]] = []
            for alternative in arg[1]:
                chars, nullable = _first_chars(alternative)
                if nullable or any(chars & other for other in firsts):
                    return True
                firsts.append(chars)
        if any(_has_ambiguous_branch(child) for child in _children(op, arg)):
            return True
    return False


def _first_chars(tree: SubPattern) -> tuple[frozenset[str], bool]:
    """The characters a match of ``tree`` can start with, and whether it can match empty text."""
    chars: set[str] = set()
    for op, arg in tree:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero width: what follows decides
        if op in _REPEATS:
            inner, nullable = _first_chars(arg[2])
            chars |= inner
            if arg[0] == 0 or nullable:
                continue
            return frozenset(chars), False
        if op == sre.BRANCH:
            nullable = False
            for alternative in arg[1]:
                inner, alternative_nullable = _first_chars(alternative)
                chars |= inner
                nullable = nullable or alternative_nullable
            if nullable:
                continue
            return frozenset(chars), False
        if op in (sre.SUBPATTERN, sre.ATOMIC_GROUP):
            inner, nullable = _first_chars(_children(op, arg)[0])
            chars |= inner
            if nullable:
                continue
            return frozenset(chars), False
        chars |= _atom_chars(op, arg)
        return frozenset(chars), False
    return frozenset(chars), True


def _overlap_problem(tree: SubPattern) -> str | None:
    """Reject more than MAX_OVERLAPPING_REPEATS variable repetitions able to consume one same character."""
    repeats = list(_variable_repeats(tree))
    for char in _ALPHABET:
        if sum(char in chars for chars in repeats) > MAX_OVERLAPPING_REPEATS:
            return (
                f"more than {MAX_OVERLAPPING_REPEATS} variable repetitions (*, +, {{m,n}}) can match the same "
                "characters, which can take seconds on a long description; use fewer, or narrower classes "
                "(e.g. a space instead of .* between words)"
            )
    return None


def _variable_repeats(tree: SubPattern) -> Iterable[frozenset[str]]:
    """The character sets of the repetitions that can match a varying number of times (more than once)."""
    for op, arg in tree:
        if op in _REPEATS and arg[0] != arg[1] and arg[1] > 1:
            yield _all_chars(arg[2])
        for child in _children(op, arg):
            yield from _variable_repeats(child)


def _all_chars(tree: SubPattern) -> frozenset[str]:
    """Every character some part of ``tree`` can consume (an over-approximation)."""
    chars: set[str] = set()
    for op, arg in tree:
        children = _children(op, arg)
        for child in children:
            chars |= _all_chars(child)
        if not children:
            chars |= _atom_chars(op, arg)
    return frozenset(chars)


def _atom_chars(op: Any, arg: Any) -> frozenset[str]:
    """The alphabet characters one single-character node matches, case-insensitively (none for anchors)."""
    if op == sre.LITERAL:
        return frozenset(char for char in _ALPHABET if char.lower() == chr(arg).lower())
    if op == sre.NOT_LITERAL:
        return frozenset(char for char in _ALPHABET if char.lower() != chr(arg).lower())
    if op == sre.ANY:
        return _ALPHABET
    if op == sre.IN:
        negate = bool(arg) and arg[0][0] == sre.NEGATE
        items = arg[1:] if negate else arg
        matched = frozenset(char for char in _ALPHABET if any(_in_item_matches(item, char) for item in items))
        return _ALPHABET - matched if negate else matched
    return frozenset()


def _in_item_matches(item: tuple[Any, Any], char: str) -> bool:
    """Whether one member of a character class ([...]) matches ``char`` in either case."""
    op, arg = item
    candidates = {char, char.lower()}
    if op == sre.LITERAL:
        return chr(arg).lower() == char.lower()
    if op in (sre.RANGE, sre.RANGE_UNI_IGNORE):
        low, high = arg
        return any(low <= ord(candidate) <= high for candidate in candidates)
    if op == sre.CATEGORY and arg in _CATEGORY_PROBES:
        return _CATEGORY_PROBES[arg].fullmatch(char) is not None
    return True  # unknown member: assume it matches (errs on the side of rejecting)


def _required_char_problem(tree: SubPattern) -> str | None:
    """Reject a literal character every match needs but normalized text never contains ("-", "*", "#")."""
    for op, arg in tree:
        if op == sre.LITERAL:
            char = chr(arg)
            if not (char.isalnum() or char == " "):
                return f"the pattern requires {char!r}, which {_NEVER_IN_TEXT}"
        elif op in (sre.SUBPATTERN, sre.ATOMIC_GROUP):
            problem = _required_char_problem(_children(op, arg)[0])
            if problem:
                return problem
    return None
