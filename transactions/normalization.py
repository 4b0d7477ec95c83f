"""Bank-description normalization shared by rules, ML features and rule promotion (Django-free)."""

from __future__ import annotations

import re

__all__ = ["normalize_description", "normalize_with_vendor_key", "vendor_key"]

# Noise is replaced by this marker (not simply dropped) so vendor_key can tell where the merchant
# name ends: banks print "NAME <store/ref/phone> CITY ST", and the name is what precedes the
# first piece of noise.  It never survives into normalized output.
_SEP = "|"

# Speed matters (rules, ML features and promotion call this for every row), and a long regex
# alternation costs ~25 us per description in CPython.  So the work is done per
# whitespace-separated token with str methods and set lookups; the only regex is the domain
# pattern, and it runs only on tokens that contain a dot.
_DOMAIN_RE = re.compile(r"\b(?:[A-Z0-9-]+\.)+(?:COM|NET|ORG|IO|CO)\b")

# Punctuation inside a token becomes a space ("UBER*TRIP", "DUKE-ENERGY"); apostrophes and dots
# vanish so "MCDONALD'S"/"MCDONALDS" and "U.S."/"US" agree (domains are handled before this).
_PUNCTUATION = "!\"#$%&()*+,-/:;<=>?@[\\]^_`{|}~"
# The table covers all of ASCII: str.translate is slow for characters missing from its table.
_TRANSLATION = str.maketrans(
    {**{chr(code): chr(code) for code in range(128)}, **{char: " " for char in _PUNCTUATION},
     "'": None, "\u2019": None, ".": None}
)

# Card processors that prefix the merchant name: "SQ *HAMILTON COFFEE", "TST*LA ROSAS".
_PROCESSOR_PREFIXES = frozenset(
    {"SQ", "SQU", "TST", "PAYPAL", "PP", "SP", "IN", "PY", "CLV", "SMP", "BT"}
)
# Transaction-type boilerplate that precedes the merchant ("POS DEBIT", "DEBIT CARD PURCHASE",
# "PURCHASE AUTHORIZED ON 03/12"); only dropped before the first meaningful word.
_LEADING_BOILERPLATE = frozenset(
    {"POS", "DEBIT", "CARD", "PURCHASE", "AUTHORIZED", "ON", "WITHDRAWAL", "DBT", "CRD",
     "CHECKCARD", "VISA", "DDA", "PUR", "ACH", "RECURRING"}
)
# Boilerplate that is noise wherever it appears.
_ANYWHERE_BOILERPLATE = frozenset({"POS", "ACH", "CHECKCARD"})
# Words that label the number following them ("STORE 0042", "CARD 1234", "REF #IB0K2"); they go
# together with that number.
_NUMBER_LABELS = frozenset(
    {"CARD", "STORE", "STR", "STE", "NO", "UNIT", "LOC", "REF", "TRN", "CONF"}
)
# ACH field labels before "ID:" ("PPD ID: 1234567", "CO ID:9424300002").
_ID_LABELS = frozenset({"PPD", "WEB", "CCD", "TEL", "CTX", "ARC", "CO"})
# ACH standard-entry-class codes printed at the very end ("... CCD").
_TRAILING_CLASS_CODES = frozenset({"CCD", "PPD", "CTX", "TEL"})
# Vanity toll-free numbers look like words ("800-COMCAST").
_TOLL_FREE = frozenset({"800-", "833-", "844-", "855-", "866-", "877-", "888-"})

# Single-word vendor aliases, applied per word.
_WORD_ALIASES: dict[str, tuple[str, ...]] = {
    "AMZN": ("AMAZON",),
    "FACEBK": ("FACEBOOK",),
    "MSFT": ("MICROSOFT",),
    "BESTBUY": ("BEST", "BUY"),
    "UBEREATS": ("UBER", "EATS"),
}
# Multi-word aliases, applied to the space-padded word string; longer phrases first.
_PHRASE_ALIASES: tuple[tuple[str, str], ...] = (
    (" AMAZON WEB SERVICES ", " AWS "),
    (" AMAZON MKTP US ", " AMAZON "),
    (" AMAZON MKTPLACE ", " AMAZON "),
    (" AMAZON MKTPL ", " AMAZON "),
    (" AMAZON MKTP ", " AMAZON "),
    (" AMAZON MARKETPLACE ", " AMAZON "),
    (" WAL MART ", " WALMART "),
    (" WM SUPERCENTER ", " WALMART "),
    (" COSTCO WHSE ", " COSTCO "),
    (" COSTCO WHOLESALE ", " COSTCO "),
)
# Only words that can start a phrase alias trigger the (comparatively slow) phrase pass.
_PHRASE_ALIAS_TRIGGERS = frozenset(phrase.split()[0] for phrase, _ in _PHRASE_ALIASES)
# Words needing a closer look; one set lookup keeps ordinary words on the fast path.
_SPECIAL_WORDS = (
    _LEADING_BOILERPLATE | _ANYWHERE_BOILERPLATE | _PROCESSOR_PREFIXES | frozenset(_WORD_ALIASES)
)

# Words that vary between variants of one vendor without identifying it ("DUKE ENERGY PAYMENT"
# vs "DUKE ENERGY BILL PAY"); dropped from vendor keys only, never from normalized text.
_KEY_FILLER = frozenset(
    {"THE", "OF", "AND", "INC", "LLC", "CO", "CORP", "LTD", "PAYMENT", "PMT", "PYMT", "BILL",
     "PAY", "AUTOPAY", "ONLINE", "PURCHASE", "RECURRING", "DEBIT", "CREDIT", "WEB"}
)
# A trailing state code is the location, not the vendor ("DUKE ENERGY OH").
_US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DC DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
_KEY_MAX_TOKENS = 3
# Normalization passes before giving up on reaching a fixed point (one or two in practice).
_MAX_PASSES = 5


def _split_domain(token: str) -> list[str]:
    """Split a token at a domain: keep a bare domain's name, drop help URLs (HELP.UBER.COM)."""
    match = _DOMAIN_RE.search(token)
    if match is None:
        return [token]
    labels = match.group().split(".")
    if labels[0] == "WWW":
        labels.pop(0)
    pieces = [token[: match.start()]]
    if len(labels) == 2:
        pieces.append(labels[0])
    pieces.append(_SEP)
    pieces.extend(_split_domain(token[match.end() :]))
    return [piece for piece in pieces if piece]


def _mark_noise(words: list[str], labels: frozenset[str] = _NUMBER_LABELS) -> None:
    """Record a piece of noise, taking the word that labelled it along ("STORE 0042")."""
    if words and words[-1] in labels:
        words.pop()
    # Leading noise separates nothing, and one marker is enough between two words.
    if words and words[-1] != _SEP:
        words.append(_SEP)


def _add_word(words: list[str], word: str, started: bool) -> bool:
    """Append a merchant word (aliases applied) or mark boilerplate as noise; return whether the merchant started."""
    if word in _ANYWHERE_BOILERPLATE or (not started and word in _LEADING_BOILERPLATE):
        _mark_noise(words)
        return started
    words.extend(_WORD_ALIASES.get(word, (word,)))
    return True


def _words(text: str, first_segment_only: bool = False) -> list[str]:
    """Split a description into upper-case merchant words, with _SEP wherever noise was removed."""
    text = text.upper()
    tokens = text.split()
    if "." in text:
        # Only tokens with a dot can hold a domain; e-mail addresses are dropped whole below.
        tokens = [
            piece
            for token in tokens
            for piece in (_split_domain(token) if "." in token and "@" not in token else (token,))
        ]
    if tokens and (
        tokens[-1] in _TRAILING_CLASS_CODES
        or (tokens[-1] == "WEB" and len(tokens) > 1 and not tokens[-2].isalpha())
    ):
        tokens.pop()

    words: list[str] = []
    started = False  # a merchant word was kept; leading boilerplate and prefixes end here
    in_receiver_name = False  # inside "INDN:NAME ...", which runs until the next field
    expect_value = False  # the previous token was "ID:" and its value follows
    for index, token in enumerate(tokens):
        if in_receiver_name and ":" not in token:
            continue
        in_receiver_name = False
        if expect_value:
            expect_value = False
            _mark_noise(words)
        elif token.isalpha():
            if token not in _SPECIAL_WORDS:  # fast path: most tokens are plain words
                words.append(token)
                started = True
                continue  # a word never ends the first segment
            next_token = tokens[index + 1] if index + 1 < len(tokens) else ""
            if not started and token in _PROCESSOR_PREFIXES and next_token.startswith("*"):
                continue  # "SQ *NAME": the name follows
            started = _add_word(words, token, started)
        elif token == _SEP or "@" in token:  # removed URL, e-mail address
            _mark_noise(words)
        elif ":" in token:  # ACH fields: "ID:", "DES:SQ240312", "INDN:NAME"
            label, _, value = token.partition(":")
            in_receiver_name = label == "INDN"
            expect_value = not value and not in_receiver_name
            _mark_noise(words, _ID_LABELS)
        elif token[0] == "#" or token[:4] in _TOLL_FREE:  # store numbers, 800-COMCAST
            _mark_noise(words)
        else:
            if not started and "*" in token:  # processor prefix glued on: "TST*LA ROSAS", "SQ*"
                prefix, _, rest = token.partition("*")
                if prefix in _PROCESSOR_PREFIXES:
                    token = rest or "*"
            parts = [token] if token.isalnum() else token.translate(_TRANSLATION).split()
            if len(parts) > 1 and "".join(parts).isdigit():
                # Digits and punctuation but no letters: a date, phone or reference number.
                _mark_noise(words)
            else:
                for part in parts:
                    if part.isalpha():
                        started = _add_word(words, part, started)
                    elif len(part) >= (3 if part.isdigit() else 5):
                        # Reference, card and store numbers, ids like 2K4LL0; short numbers and
                        # codes belong to names ("76", "3M", "H2O", "401K").
                        _mark_noise(words)
                    else:
                        words.append(part)
                        started = True
        if first_segment_only and words and words[-1] == _SEP:
            break

    if not _PHRASE_ALIAS_TRIGGERS.isdisjoint(words):
        padded = f" {' '.join(words)} "
        for phrase, replacement in _PHRASE_ALIASES:
            if phrase in padded:
                padded = padded.replace(phrase, replacement)
        words = padded.split()
    return words


def _join(words: list[str]) -> str:
    """Normalized text from a word list: noise markers removed, single spaces."""
    if words and words[-1] == _SEP:
        words = words[:-1]
    return " ".join(words).replace(f" {_SEP} ", " ")


def _normalize_once(text: str) -> str:
    """One normalization pass: merchant words joined by single spaces, noise removed."""
    return _join(_words(text))


# First-pass results seen before, with their stable form. Normalized texts repeat far more than raw
# ones (the store and reference numbers are gone), so the confirming passes below mostly become one
# dictionary lookup. A pure function's memo: clearing it when full is always safe.
_STABLE: dict[str, str] = {}
_STABLE_MAX = 50_000


def _until_stable(first_pass: str) -> str:
    """Repeat normalization until nothing changes: removing noise can make new phrases adjacent
    ("AMAZON 123 MKTPL" -> "AMAZON MKTPL"), and normalize(normalize(x)) must equal normalize(x)."""
    stable = _STABLE.get(first_pass)
    if stable is not None:
        return stable
    result = first_pass
    for _ in range(_MAX_PASSES):
        again = _normalize_once(result)
        if again == result:
            break
        result = again
    if len(_STABLE) >= _STABLE_MAX:
        _STABLE.clear()
    _STABLE[first_pass] = result
    return result


def normalize_description(text: str) -> str:
    """Upper-case, collapse whitespace, strip bank noise (store/card/reference numbers, ids, dates, POS, ACH, SQ *)."""
    return _until_stable(_normalize_once(text))


def normalize_with_vendor_key(text: str) -> tuple[str, str]:
    """``(normalize_description(text), vendor_key(text))`` from one tokenization: rules need both per line."""
    words = _words(text)
    return _until_stable(_join(words)), _key_of(words)


def _key(text: str) -> str:
    """Pick the vendor name: the words before the first noise, minus filler and a trailing state."""
    return _key_of(_words(text, first_segment_only=True))


def _key_of(words: list[str]) -> str:
    """The vendor key from a description's words (only the first segment is read)."""
    segment = words[: words.index(_SEP)] if _SEP in words else list(words)  # cut at the noise ending the name
    if len(segment) > 1 and segment[-1] in _US_STATES:
        segment.pop()
    if not _KEY_FILLER.isdisjoint(segment):
        # Keep filler words if they are all there is ("ONLINE PAYMENT" stays a key).
        segment = [word for word in segment if word not in _KEY_FILLER] or segment
    return " ".join(segment[:_KEY_MAX_TOKENS])


def vendor_key(description: str, counterparty: str = "") -> str:
    """A short stable vendor key: the counterparty's name if given, else the description's leading merchant words."""
    return (counterparty and _key(counterparty)) or _key(description)
