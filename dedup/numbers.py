"""Numbers in normalized news prose, however they are written, and whether one was replaced.

News writes one number many ways: "7" and "seven", "4bn", "4 billion" and "4,000 million",
"66,000" and "66.000" (thousands separators in both conventions), "3,7" and "3.7" (decimal
comma or point), "أربعة" and "4", "ثلاثة آلاف" and "3 آلاف" and "3000", "ninth" and "9th".
`read_numbers` finds the numbers of a passage (run of words that together write one number)
and every value each may stand for; `compare_numbers` tells a number *replaced* by another (a
conflict) from one merely written differently, added or left out.

Texts are those of `dedup.normalize.normalize` (lower case, Arabic-Indic digits made ASCII, "٫"
made ".", hamza seats dropped, ة -> ه, ى -> ي, a "." or "," kept only between two digits, dashes
made spaces): the word tables below are normalized the same way when this module is imported.

How digits are read (`digit_values`):
- "1,234,567", "1.234.567": one separator, repeated: thousands separators (and a date such as
  "10.03.2018" one number, 10032018, equal only to itself).
- "1,234.5", "1.234,5": both separators: the last is the decimal mark, the others group
  thousands.
- one separator followed by one, two or four or more digits ("3,7", "3.75", "04,00"): a decimal
  mark.
- one separator followed by exactly three digits ("66,000", "1.234") is ambiguous and both
  readings are kept (66000 and 66.0), except that "0,250" (a zero before it) is only a decimal and
  a three-digit tail that ends in zero ("66,000", "3.700") is only a thousands group: nobody
  writes the decimal 66.0 as "66.000", while reading it so would make "66,000" equal "66".
- a suffix scales: "4bn" = 4e9, "600m" = 6e8, "5k" = 5000, "2tn" = 2e12; "9th" and "21st" are
  ordinals; "1990s" is read as 1990. Arabic prefixes "و", "ب", "ل", "ال" ("و4", "ال70") are
  allowed before digits. A word that mixes other letters and digits ("a380", "5km", "g8",
  "وتنافس597") is split into its letter and digit runs.

How words are read: English and Arabic cardinals and ordinals (masculine and feminine Arabic
forms, with the prefixes و, ب, ل and the article ال), compounds ("twenty five", "خمسة وعشرين",
"three hundred and fifty", "ثلاثمئة وخمسين", "خمسة عشر", "الحادي عشر"), and scale words that
multiply what comes before ("4 billion", "ثلاثة آلاف", "3,7 ملايين", "thousand million").
Plural scale words ("آلاف", "ملايين") are numbers only after a number: on their own they mean
"thousands", "millions", a vague amount. Words left out on purpose: "الاثنين" (Monday, not "the
two"), "المئة"/"بالمئة" ("per cent", not 100), "ست" with a prefix ("وست" is "West"), "باول"
(Powell), and "hundreds", "thousands", "dozens" (vague amounts).

"one" and "واحد"/"واحدة" alone are *weak*: "one of the ..." is a pronoun far more often than a
figure, so a lone "one" counts as the number 1 only when the other side of the comparison has
the number 1 (then "one killed" and "1 killed" agree, and the word is left out of the words
compared); otherwise it is an ordinary word, so "one" can never make a conflict. Inside a
compound ("twenty one", "one million", "واحد وعشرين") it is a number.

When is a number replaced (`compare_numbers`)? Each number on one side is matched when a number
on the other side shares one of its values (any accepted reading; a set, not a multiset: a
number written twice on one side and once on the other is no conflict). A number is replaced
only when an unmatched number on one side stands *in the corresponding place* of an unmatched
number on the other side: the two word sequences, each number made one placeholder word, are
aligned (`difflib`), and the two placeholders stand at the same place of a common stretch, one
that holds a common word too, or else sits where both sides have other words ("gold rose 0.3" /
"silver fell 1.2"), begin or end alike, or have only a few words more ("up 4.75% on Monday" / "up
over 5% by noon on Monday"): a placeholder met across longer stretches put in on one side only,
before it and after it, is no common place. A number dropped from one place while another is
added elsewhere ("in December 2003" dropped, "(£2.8bn)" added) is no replacement: the copy only
lost and gained details. Nor is a number that lost some of its words in the copy ("400 مليار" -> "400", "29 ألفا
و999" -> "29 ألفا", "12 million" -> "million"): the words of one are all among the other's, in
order; a word was left out, no figure put in. "£94 million" -> "£9.4 million" and "4 billion" ->
"4 million" are replacements.
"""
from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping, Sequence

from .normalize import normalize_many

__all__ = ["Number", "NumberComparison", "compare_numbers", "digit_values", "number_values", "read_numbers",
           "split_words"]


class _Kind(enum.Enum):
    UNIT = enum.auto()  # 0-19 (cardinal or ordinal), Arabic 10 included
    TEN = enum.auto()  # 20, 30, ... 90
    HUNDRED = enum.auto()  # "hundred", "مئة": multiplies a unit before it
    HUNDREDS = enum.auto()  # Arabic whole hundreds in one word: "مئتان", "ثلاثمئة"
    SCALE = enum.auto()  # thousand, million, billion, trillion (singular: may start a number)
    PLURAL = enum.auto()  # "آلاف", "ملايين": a scale only after a number
    DUAL = enum.auto()  # Arabic "ألفان", "مليونين": two of a scale, on its own
    ABBR = enum.auto()  # "bn", "m", "k" as a word of their own: a scale only right after digits
    AND = enum.auto()  # English "and" inside "three hundred and fifty"
    A = enum.auto()  # English "a" before "hundred" or a scale: "a million"
    TEEN_ONE = enum.auto()  # Arabic "أحد", "إحدى": one, only in "أحد عشر" (eleven)


@dataclass(frozen=True)
class _Lexeme:
    kind: _Kind
    value: Decimal  # the unit's value; the multiplier of HUNDRED, SCALE, PLURAL, ABBR
    ordinal: bool = False
    conj: bool = False  # Arabic "و" (and) prefixed: joins a compound ("خمسة وعشرين")
    weak: bool = False  # "one", "واحد": see the module docstring
    teen: bool = False  # Arabic "عشر"/"عشرة": adds ten to the unit before it ("خمسة عشر")
    arabic: bool = False


@dataclass(frozen=True)
class Number:
    """One number of a passage: words ``first`` to ``last`` (exclusive) of `split_words`, and
    every value it may stand for (several when a separator is ambiguous)."""

    first: int
    last: int
    values: frozenset[Decimal]
    ordinal: bool = False
    weak: bool = False  # a lone "one"/"واحد"

    def same_as(self, other: "Number") -> bool:
        """Do the two share a reading?"""
        return not self.values.isdisjoint(other.values)


@dataclass(frozen=True)
class NumberComparison:
    """What `compare_numbers` found for a pair of normalized texts."""

    replaced: bool  # a number of one side stands where the other side has another number
    rest: tuple[tuple[str, ...], tuple[str, ...]]  # each side's words, its numbers left out
    unmatched: tuple[tuple[Number, ...], tuple[Number, ...]]  # numbers the other side lacks


# ---------------------------------------------------------------------------- word tables

_D = Decimal
_THOUSAND, _MILLION, _BILLION, _TRILLION = _D(10) ** 3, _D(10) ** 6, _D(10) ** 9, _D(10) ** 12

_EN_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
             "fifteen sixteen seventeen eighteen nineteen").split()
_EN_ORDINAL_UNITS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
                     "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth").split()
_EN_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_ORDINAL_TENS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
_EN_SCALES: Mapping[str, Decimal] = MappingProxyType(
    {"thousand": _THOUSAND, "million": _MILLION, "billion": _BILLION, "trillion": _TRILLION})
_ABBREVIATIONS: Mapping[str, Decimal] = MappingProxyType(
    {"k": _THOUSAND, "m": _MILLION, "mn": _MILLION, "bn": _BILLION, "tn": _TRILLION, "trn": _TRILLION})

# Arabic as written (normalized when the lexicon is built); several spellings of each.
_AR_UNITS: Mapping[int, tuple[str, ...]] = MappingProxyType({
    0: ("صفر",),
    1: ("واحد", "واحدة"),
    2: ("اثنان", "اثنين", "اثنتان", "اثنتين", "اثنا", "اثني", "اثنتا", "اثنتي"),
    3: ("ثلاث", "ثلاثة"),
    4: ("أربع", "أربعة"),
    5: ("خمس", "خمسة"),
    6: ("ست", "ستة"),
    7: ("سبع", "سبعة"),
    8: ("ثمان", "ثماني", "ثمانية"),
    9: ("تسع", "تسعة"),
    10: ("عشر", "عشرة"),
})
_AR_ORDINALS: Mapping[int, tuple[str, ...]] = MappingProxyType({
    1: ("أول", "أولى", "حادي", "حادية"),
    2: ("ثاني", "ثانية"),
    3: ("ثالث", "ثالثة"),
    4: ("رابع", "رابعة"),
    5: ("خامس", "خامسة"),
    6: ("سادس", "سادسة"),
    7: ("سابع", "سابعة"),
    8: ("ثامن", "ثامنة"),
    9: ("تاسع", "تاسعة"),
    10: ("عاشر", "عاشرة"),
})
_AR_TENS: Mapping[int, tuple[str, ...]] = MappingProxyType({
    20: ("عشرون", "عشرين"),
    30: ("ثلاثون", "ثلاثين"),
    40: ("أربعون", "أربعين"),
    50: ("خمسون", "خمسين"),
    60: ("ستون", "ستين"),
    70: ("سبعون", "سبعين"),
    80: ("ثمانون", "ثمانين"),
    90: ("تسعون", "تسعين"),
})
_AR_HUNDRED = ("مئة", "مائة")
_AR_HUNDREDS: Mapping[int, tuple[str, ...]] = MappingProxyType({
    200: ("مئتان", "مائتان", "مئتين", "مائتين", "مئتا", "مائتا", "مئتي", "مائتي"),
    **{h * 100: (f"{w}مئة", f"{w}مائة") for h, w in
       ((3, "ثلاث"), (4, "أربع"), (5, "خمس"), (6, "ست"), (7, "سبع"), (9, "تسع"))},
    800: ("ثمانمئة", "ثمانمائة", "ثمانيمئة", "ثمانيمائة"),
})
_AR_SCALES: Mapping[str, Decimal] = MappingProxyType({
    "ألف": _THOUSAND, "ألفا": _THOUSAND, "مليون": _MILLION, "مليونا": _MILLION, "مليار": _BILLION,
    "مليارا": _BILLION, "بليون": _BILLION, "تريليون": _TRILLION})
_AR_PLURALS: Mapping[str, Decimal] = MappingProxyType({
    "آلاف": _THOUSAND, "ألوف": _THOUSAND, "ملايين": _MILLION, "مليارات": _BILLION, "بلايين": _BILLION,
    "تريليونات": _TRILLION})
_AR_DUALS: Mapping[str, Decimal] = MappingProxyType({
    "ألفان": 2 * _THOUSAND, "ألفين": 2 * _THOUSAND, "ألفي": 2 * _THOUSAND, "مليونان": 2 * _MILLION,
    "مليونين": 2 * _MILLION, "مليوني": 2 * _MILLION, "ملياران": 2 * _BILLION, "مليارين": 2 * _BILLION,
    "ملياري": 2 * _BILLION})
_AR_TEEN_ONES = ("أحد", "إحدى")

# Prefixes an Arabic number word may carry: "and", "with/in", "to/for", the article, and their
# combinations. (Not "ف": "فاول" is "foul".)
_AR_PREFIXES = ("", "و", "ب", "ل", "وب", "ول", "ال", "وال", "بال", "لل", "ولل")
_AR_DIGIT_PREFIXES = "|".join(p for p in _AR_PREFIXES if p)
_NO_ARTICLE = tuple(p for p in _AR_PREFIXES if not p.endswith(("ال", "لل")))
# Words whose prefixed forms are mostly other words: "الاثنين" is Monday, "المئة" and "بالمئة"
# per cent, "وست" West and "لست" "you are not", "باول" Powell.
_AR_PREFIXES_OF: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "اثنان": _NO_ARTICLE, "اثنين": _NO_ARTICLE, "مئة": _NO_ARTICLE, "مائة": _NO_ARTICLE, "ست": ("",),
    "أول": tuple(p for p in _AR_PREFIXES if p not in ("ب", "وب")), "أحد": ("", "و"), "إحدى": ("", "و"),
})


def _normalized(word: str) -> str:
    return normalize_many([word])[0]


def _build_lexicon() -> Mapping[str, _Lexeme]:
    table: dict[str, _Lexeme] = {}

    def add(form: str, lexeme: _Lexeme) -> None:
        table.setdefault(form, lexeme)

    for value, (cardinal, ordinal) in enumerate(zip(_EN_UNITS, _EN_ORDINAL_UNITS)):
        add(cardinal, _Lexeme(_Kind.UNIT, _D(value), weak=cardinal == "one"))
        add(ordinal, _Lexeme(_Kind.UNIT, _D(value), ordinal=True))
    add("nil", _Lexeme(_Kind.UNIT, _D(0)))
    for k, (cardinal, ordinal) in enumerate(zip(_EN_TENS, _EN_ORDINAL_TENS)):
        add(cardinal, _Lexeme(_Kind.TEN, _D(20 + 10 * k)))
        add(ordinal, _Lexeme(_Kind.TEN, _D(20 + 10 * k), ordinal=True))
    add("hundred", _Lexeme(_Kind.HUNDRED, _D(100)))
    add("hundredth", _Lexeme(_Kind.HUNDRED, _D(100), ordinal=True))
    for word, scale in _EN_SCALES.items():
        add(word, _Lexeme(_Kind.SCALE, scale))
        add(word + "th", _Lexeme(_Kind.SCALE, scale, ordinal=True))
    for word, scale in _ABBREVIATIONS.items():
        add(word, _Lexeme(_Kind.ABBR, scale))
    add("and", _Lexeme(_Kind.AND, _D(0)))
    add("a", _Lexeme(_Kind.A, _D(1)))

    def add_arabic(word: str, kind: _Kind, value: Decimal, **flags: bool) -> None:
        base = _normalized(word)
        for prefix in _AR_PREFIXES_OF.get(word, _AR_PREFIXES):
            add(prefix + base, _Lexeme(kind, value, conj=prefix.startswith("و"), arabic=True, **flags))

    for value, words in _AR_UNITS.items():
        for word in words:
            add_arabic(word, _Kind.UNIT, _D(value), weak=value == 1, teen=value == 10)
    for value, words in _AR_ORDINALS.items():
        for word in words:
            add_arabic(word, _Kind.UNIT, _D(value), ordinal=True)
    for value, words in _AR_TENS.items():
        for word in words:
            add_arabic(word, _Kind.TEN, _D(value))
    for word in _AR_HUNDRED:
        add_arabic(word, _Kind.HUNDRED, _D(100))
    for value, words in _AR_HUNDREDS.items():
        for word in words:
            add_arabic(word, _Kind.HUNDREDS, _D(value))
    for word, scale in _AR_SCALES.items():
        add_arabic(word, _Kind.SCALE, scale)
    for word, scale in _AR_PLURALS.items():
        add_arabic(word, _Kind.PLURAL, scale)
    for word, dual in _AR_DUALS.items():
        add_arabic(word, _Kind.DUAL, dual)
    for word in _AR_TEEN_ONES:
        add_arabic(word, _Kind.TEEN_ONE, _D(1))
    return MappingProxyType(table)


_LEXICON: Mapping[str, _Lexeme] = _build_lexicon()
_CONNECTORS = frozenset({"and", "a"})  # lexicon words that are no number on their own
_NUMBER_WORDS = frozenset(_LEXICON) - _CONNECTORS

_SUFFIX_SCALES = _ABBREVIATIONS  # "4bn", "600m", "5k"
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
_DIGIT_WORD = re.compile(rf"(?P<prefix>{_AR_DIGIT_PREFIXES})?(?P<digits>[0-9]+(?:[.,][0-9]+)*)"
                         rf"(?P<suffix>{'|'.join(sorted(_SUFFIX_SCALES, key=len, reverse=True))}|st|nd|rd|th|s)?")
_RUNS = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^0-9]+")
_HAS_DIGIT = re.compile(r"[0-9]")
_SEPARATOR = re.compile(r"[.,]")
_PLACEHOLDER = "\x00"  # a number, in the aligned word sequences (no normalized text holds it)


# ---------------------------------------------------------------------------- reading


def digit_values(digits: str) -> frozenset[Decimal]:
    """Every value a run of digits with "." and "," separators may stand for (see the module
    docstring): ``digit_values("66,000") == {66000}``, ``digit_values("3,7") == {3.7}``,
    ``digit_values("1,234") == {1234, 1.234}``."""
    separators = _SEPARATOR.findall(digits)
    if not separators:
        return frozenset({_D(digits)})
    groups = _SEPARATOR.split(digits)
    if len(set(separators)) == 2:  # "1,234.5": the last one is the decimal mark
        last = max(digits.rfind("."), digits.rfind(","))
        whole = _SEPARATOR.sub("", digits[:last])
        return frozenset({_D(f"{whole}.{digits[last + 1:]}")})
    if len(separators) > 1:  # "1,234,567"; a date "10.03.2018" is read as one number too
        return frozenset({_D("".join(groups))})
    head, tail = groups
    decimal = _D(f"{head}.{tail}")
    if len(tail) != 3 or _D(head) == 0:
        return frozenset({decimal})
    thousands = _D(head + tail)
    return frozenset({thousands}) if tail.endswith("0") else frozenset({thousands, decimal})


_DIGIT_TOKEN = re.compile(r"\S*[0-9]\S*")


def number_tokens(normalized: str) -> tuple[str, ...]:
    """The words of a normalized text that may write a number (digits, number words), sorted:
    two texts with the same ones hold the same numbers, and `compare_numbers` need not run."""
    words = [w for w in normalized.split() if w in _NUMBER_WORDS]
    return tuple(sorted(_DIGIT_TOKEN.findall(normalized) + words))


def split_words(normalized: str) -> list[str]:
    """The words of a normalized text, a word mixing digits with other letters ("a380", "5km")
    split into its runs unless it is a number with a known prefix or suffix ("و4", "4bn", "9th")."""
    words: list[str] = []
    for word in normalized.split():
        if _HAS_DIGIT.search(word) and not _DIGIT_WORD.fullmatch(word):
            words.extend(_RUNS.findall(word))
        else:
            words.append(word)
    return words


@dataclass(frozen=True)
class _DigitLexeme:
    values: frozenset[Decimal]
    scale: Decimal | None
    ordinal: bool
    conj: bool
    closed: bool  # an ordinal or a decade ("9th", "1990s"): nothing joins after it


def _lex(word: str) -> _Lexeme | _DigitLexeme | None:
    lexeme = _LEXICON.get(word)
    if lexeme is not None:
        return lexeme
    m = _DIGIT_WORD.fullmatch(word)
    if m is None:
        return None
    suffix = m["suffix"] or ""
    return _DigitLexeme(digit_values(m["digits"]), _SUFFIX_SCALES.get(suffix), suffix in _ORDINAL_SUFFIXES,
                        (m["prefix"] or "").startswith("و"), suffix in _ORDINAL_SUFFIXES or suffix == "s")


_Item = _Lexeme | _DigitLexeme
_AFTER_MULTIPLIER = (_Kind.HUNDRED, _Kind.HUNDREDS, _Kind.SCALE, _Kind.PLURAL, _Kind.DUAL, _Kind.AND)
_SCALES = (_Kind.SCALE, _Kind.PLURAL)


def _starts(item: _Item, following: _Item | None) -> bool:
    """Can `item` begin a number (given the item after it)?"""
    if isinstance(item, _DigitLexeme):
        return True
    if item.kind in (_Kind.UNIT, _Kind.TEN, _Kind.HUNDRED, _Kind.HUNDREDS, _Kind.SCALE, _Kind.DUAL):
        return True
    if item.kind is _Kind.A:
        return isinstance(following, _Lexeme) and following.kind in (_Kind.HUNDRED, _Kind.SCALE) \
            and not following.arabic
    if item.kind is _Kind.TEEN_ONE:
        return isinstance(following, _Lexeme) and following.teen and not following.conj
    return False


class _Reader:
    """Reads one number from item `first` on: the words it takes and the values they write."""

    def __init__(self, items: Sequence[_Item | None], first: int) -> None:
        self.items = items
        self.states: list[tuple[Decimal, Decimal]] = [(_D(0), _D(0))]  # (total, current) per reading
        self.previous: _Item | None = None
        self.scale = _D(0)  # the last scale applied
        self.ordinal = False
        self.last = first

    def read(self) -> Number | None:
        items, first = self.items, self.last
        while self.last < len(items):
            item = items[self.last]
            if item is None or not self._take(item, items[self.last + 1] if self.last + 1 < len(items) else None):
                break
            self.previous = item
            self.last += 1
        if self.last == first:
            return None
        weak = self.last - first == 1 and isinstance(self.previous, _Lexeme) and self.previous.weak
        return Number(first, self.last, frozenset(t + c for t, c in self.states), self.ordinal, weak)

    def _take(self, item: _Item, following: _Item | None) -> bool:
        previous = self.previous
        if previous is None:
            if not _starts(item, following):
                return False
        elif not self._joins(previous, item, following):
            return False
        self._apply(item)
        self.ordinal |= item.ordinal
        return True

    def _joins(self, previous: _Item, item: _Item, following: _Item | None) -> bool:
        if isinstance(previous, _DigitLexeme):
            if previous.closed:
                return False
            if isinstance(item, _DigitLexeme):
                return False
            if previous.scale is not None:  # "4bn" is a whole number
                return False
            return item.kind in (_Kind.HUNDRED, _Kind.SCALE, _Kind.PLURAL, _Kind.ABBR) and not item.conj
        if previous.ordinal and not (isinstance(item, _Lexeme) and previous.arabic
                                     and (item.teen and not item.conj or item.kind is _Kind.TEN and item.conj)):
            return False  # "fifth" ends a number; "الحادي عشر", "الحادي والعشرين" go on
        if isinstance(item, _DigitLexeme):  # "مليون و500 ألف"
            return item.conj and previous.kind in _AFTER_MULTIPLIER and previous.kind is not _Kind.AND
        kind, before = item.kind, previous.kind
        if kind is _Kind.UNIT:
            if item.teen and not item.conj and (before is _Kind.TEEN_ONE or before is _Kind.UNIT
                                                 and previous.arabic and 1 <= previous.value <= 9):
                return True  # "خمسة عشر"
            if before is _Kind.TEN and not item.arabic and not previous.arabic and 1 <= item.value <= 9:
                return True  # "twenty five"
            return before in _AFTER_MULTIPLIER and before is not _Kind.PLURAL or before is _Kind.PLURAL and item.conj
        if kind is _Kind.TEN:
            if before is _Kind.UNIT and item.conj and 1 <= previous.value <= 9:
                return True  # "خمسة وعشرين"
            return before in _AFTER_MULTIPLIER and (before is not _Kind.PLURAL or item.conj)
        if kind is _Kind.HUNDRED:
            if item.conj:
                return before in (_Kind.SCALE, _Kind.PLURAL, _Kind.DUAL)
            return before in (_Kind.UNIT, _Kind.TEN, _Kind.A) and self._current_positive()
        if kind is _Kind.HUNDREDS:
            return item.conj and before in (_Kind.SCALE, _Kind.PLURAL, _Kind.DUAL)
        if kind in _SCALES:
            if item.conj:
                return False
            if before in (_Kind.UNIT, _Kind.TEN, _Kind.HUNDRED, _Kind.HUNDREDS, _Kind.A):
                return self._current_positive()
            return before is _Kind.SCALE and item.value > self.scale and not self._current_positive()
        if kind is _Kind.AND:
            return before in (_Kind.HUNDRED, _Kind.SCALE) and isinstance(following, _Lexeme) \
                and following.kind in (_Kind.UNIT, _Kind.TEN) and not following.arabic
        return False

    def _current_positive(self) -> bool:
        return all(c > 0 for _, c in self.states)

    def _apply(self, item: _Item) -> None:
        if isinstance(item, _DigitLexeme):
            if item.scale is not None:
                self.states = [(t + v * item.scale, _D(0)) for t, _ in self.states for v in item.values]
                self.scale = item.scale
            else:
                self.states = [(t, v) for t, _ in self.states for v in item.values]
            return
        kind, value = item.kind, item.value
        if kind in (_Kind.UNIT, _Kind.TEN, _Kind.HUNDREDS, _Kind.DUAL):  # "خمسة عشر": 5 + 10 alike
            self.states = [(t, c + value) for t, c in self.states]
        elif kind is _Kind.TEEN_ONE or kind is _Kind.A:
            self.states = [(t, c + 1) for t, c in self.states]
        elif kind is _Kind.HUNDRED:
            self.states = [(t, (c if c > 0 else _D(1)) * value) for t, c in self.states]
        elif kind in (_Kind.SCALE, _Kind.PLURAL, _Kind.ABBR):
            if all(c == 0 for _, c in self.states) and self.previous is not None:  # "thousand million"
                self.states = [(t * value, c) for t, c in self.states]
            else:
                self.states = [(t + (c if c > 0 else _D(1)) * value, _D(0)) for t, c in self.states]
            self.scale = value


def read_numbers(words: Sequence[str]) -> tuple[Number, ...]:
    """The numbers among `words` (from `split_words`), in order."""
    items = [_lex(w) for w in words]
    found: list[Number] = []
    i = 0
    while i < len(items):
        number = _Reader(items, i).read() if items[i] is not None else None
        if number is None:
            i += 1
        else:
            found.append(number)
            i = number.last
    return tuple(found)


def number_values(normalized: str) -> list[frozenset[Decimal]]:
    """The values of each number of a normalized text, in order: every reading of each (see
    the module docstring), weak ones ("one") included."""
    return [n.values for n in read_numbers(split_words(normalized))]


# ---------------------------------------------------------------------------- comparing


def _strong(numbers: Sequence[Number], other: Sequence[Number]) -> tuple[Number, ...]:
    """`numbers` less each weak "one" that the other side gives no 1 to agree with."""
    one = any(_D(1) in n.values for n in other if not n.weak)
    return tuple(n for n in numbers if not n.weak or one)


def _placed(words: Sequence[str], numbers: Sequence[Number]) -> tuple[list[str], list[str], list[int]]:
    """(words with each number made one placeholder, the other words, the placeholder positions)."""
    sequence: list[str] = []
    rest: list[str] = []
    where: list[int] = []
    i = 0
    for n in numbers:
        sequence.extend(words[i:n.first])
        rest.extend(words[i:n.first])
        where.append(len(sequence))
        sequence.append(_PLACEHOLDER)
        i = n.last
    sequence.extend(words[i:])
    rest.extend(words[i:])
    return sequence, rest, where


_FEW_WORDS = 3  # words put in on one side that still leave two numbers in one place


def _floating(before: tuple[str, int, int, int, int] | None, after: tuple[str, int, int, int, int] | None) -> bool:
    """Is a placeholder matched alone, between these opcodes, adrift: words put in on one side
    only before and after it, and more than a few of them on one side?"""
    if before is None or after is None or before[0] == "replace" or after[0] == "replace":
        return False
    return max(i2 - i1 + j2 - j1 for _, i1, i2, j1, j2 in (before, after)) > _FEW_WORDS


def _part_left_out(a: Sequence[str], b: Sequence[str]) -> bool:
    """Are the words of one number all among the other's, in order ("400 مليار" and "400",
    "29 ألفا و999" and "29 ألفا", "12 million" and "million")? Then a hasty copy left a word
    of the number out: no other number was put in."""
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    rest = iter(longer)
    return all(word in rest for word in shorter)


def compare_numbers(a: str, b: str) -> NumberComparison:
    """Compare the numbers of two normalized texts (see the module docstring): was one
    replaced, and what words are left once the numbers are left out."""
    words_a, words_b = split_words(a), split_words(b)
    read_a, read_b = read_numbers(words_a), read_numbers(words_b)
    nums_a, nums_b = _strong(read_a, read_b), _strong(read_b, read_a)
    lone_a = [not any(x.same_as(y) for y in nums_b) for x in nums_a]
    lone_b = [not any(y.same_as(x) for x in nums_a) for y in nums_b]
    seq_a, rest_a, where_a = _placed(words_a, nums_a)
    seq_b, rest_b, where_b = _placed(words_b, nums_b)
    unmatched = (tuple(n for n, lone in zip(nums_a, lone_a) if lone),
                 tuple(n for n, lone in zip(nums_b, lone_b) if lone))
    replaced = False
    if unmatched[0] and unmatched[1]:
        at_a = {pos: n for pos, n, lone in zip(where_a, nums_a, lone_a) if lone}
        at_b = {pos: n for pos, n, lone in zip(where_b, nums_b, lone_b) if lone}

        def other_number(pos_a: int, pos_b: int) -> bool:
            return pos_a in at_a and pos_b in at_b and not _part_left_out(
                words_a[at_a[pos_a].first:at_a[pos_a].last], words_b[at_b[pos_b].first:at_b[pos_b].last])

        # difflib matches every word the two sides share (placeholders too), so two numbers
        # stand in one place only inside an "equal" stretch; the lone placeholder met between
        # words put in on one side only, more than a few of them ("... June 2017." / "... June
        # last year after the four states accused ..."), is no common place.
        opcodes = difflib.SequenceMatcher(None, seq_a, seq_b, autojunk=False).get_opcodes()
        for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
            if tag != "equal":
                continue
            before, after = opcodes[k - 1] if k else None, opcodes[k + 1] if k + 1 < len(opcodes) else None
            if i2 - i1 == 1 and _floating(before, after):
                continue
            if any(other_number(i1 + d, j1 + d) for d in range(i2 - i1)):
                replaced = True
                break
    return NumberComparison(replaced, (tuple(rest_a), tuple(rest_b)), unmatched)
