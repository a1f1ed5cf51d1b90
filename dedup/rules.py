"""Rule codes: one rule per kind of repeat, with a stable code, and rule selectors.

This module is the one source of the codes. Every output format that names a rule (SARIF's
``ruleId``, rdjsonl's ``code``, GitHub's title, GitLab Code Quality's ``check_name``, JUnit's
failure type), the ``select``/``ignore`` configuration keys and the ``<!-- dedup: ignore
CODE -->`` comments read them from here.

=====  ==========  ==================================================
code   kind        meaning
=====  ==========  ==================================================
DD001  exact       passage repeated character for character
DD002  normalized  repeated with trivial (typographic) differences
DD003  near        a garbled or reworded copy
DD004  contained   most of the shorter passage stands in the longer
DD005  conflict    a near copy whose numbers or names differ
=====  ==========  ==================================================

Codes are numbered in the schema's order of kinds and never change meaning, so SARIF
consumers (GitHub code scanning), baselines and ignore comments can follow them across
versions; a new kind gets the next free number.

A *selector* names a set of rules, as in ruff: ``ALL``; a code (``DD003``); a prefix of codes
(``DD``, ``DD00``); or a kind's name (``near``), which is the same as its code. Codes and
``ALL`` are read case-insensitively. `selected_kinds` resolves ``select`` and ``ignore``
lists: a kind is reported when a ``select`` selector matches it and no ``ignore`` selector
does, except that a more specific selector wins over a less specific one (``select =
["DD003"]`` with ``ignore = ["DD"]`` reports ``near``); at equal specificity ``ignore`` wins.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ALL", "CODE_PREFIX", "RULES", "RULE_INDEX", "Rule", "SelectorError", "kinds_of", "normalize_selector",
           "rule_for", "selected_kinds"]

ALL = "ALL"
CODE_PREFIX = "DD"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # the code
    kind: str
    name: str  # a PascalCase name, as SARIF's reportingDescriptor.name wants
    short: str
    full: str
    help: str


RULES: tuple[Rule, ...] = (
    Rule("DD001", "exact", "ExactRepeat", "Passage repeated word for word",
         "The passage repeats an earlier passage character for character.",
         "Delete one of the two copies, or rewrite one if both are needed."),
    Rule("DD002", "normalized", "NormalizedRepeat", "Passage repeated with trivial differences",
         "The passage repeats an earlier one once case, diacritics, letter variants, digits, "
         "punctuation and spacing are normalized.",
         "Delete one of the two copies; the differences between them are only typographic."),
    Rule("DD003", "near", "NearDuplicate", "Near-duplicate passage",
         "The passage is a garbled or reworded copy of an earlier passage of about the same length.",
         "Keep one version of the passage: delete the other, or rewrite it to add something new."),
    Rule("DD004", "contained", "ContainedPassage", "Passage contained in another",
         "Most of the shorter of the two passages stands inside the longer one.",
         "Remove the part that restates the other passage, or merge the two."),
    Rule("DD005", "conflict", "ConflictingDuplicate", "Near-duplicate with different numbers or names",
         "The passage is a near copy of an earlier one, but their numbers or names differ: "
         "at most one of them can be right.",
         "Check which figure or name is correct, fix the other passage, then remove the repeat."),
)

RULE_INDEX: dict[str, int] = {rule.kind: index for index, rule in enumerate(RULES)}
_BY_KIND = {rule.kind: rule for rule in RULES}


class SelectorError(ValueError):
    """A selector that names no rule; the message says which and suggests the closest."""


def rule_for(kind: str) -> Rule:
    """The rule a finding of `kind` is reported under."""
    return RULES[RULE_INDEX[kind]]


def normalize_selector(selector: str) -> str:
    """`selector` in its written form: codes and ``ALL`` upper-case, kind names lower-case;
    SelectorError when it names no rule."""
    text = selector.strip()
    if text.lower() in _BY_KIND:
        return text.lower()
    upper = text.upper()
    if upper == ALL or (upper and any(rule.id.startswith(upper) for rule in RULES)):
        return upper
    choices = [ALL, CODE_PREFIX, *(rule.id for rule in RULES), *_BY_KIND]
    close = difflib.get_close_matches(text, choices, n=1) or difflib.get_close_matches(upper, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SelectorError(f"unknown rule code {selector!r}: expected ALL, a code {RULES[0].id}..{RULES[-1].id} "
                        f"or a prefix of one, or a kind{hint}")


def kinds_of(selector: str) -> tuple[str, ...]:
    """The kinds `selector` names, in the order of `RULES`."""
    return tuple(rule.kind for rule in RULES if _specificity(normalize_selector(selector), rule) >= 0)


def selected_kinds(select: Iterable[str], ignore: Iterable[str] = ()) -> tuple[str, ...]:
    """The kinds that `select` names and `ignore` does not, the more specific selector winning
    (see the module docstring); in the order of `RULES`."""
    chosen = [normalize_selector(s) for s in select]
    dropped = [normalize_selector(s) for s in ignore]
    kinds = []
    for rule in RULES:
        best_select = max((_specificity(s, rule) for s in chosen), default=-1)
        best_ignore = max((_specificity(s, rule) for s in dropped), default=-1)
        if best_select >= 0 and best_select > best_ignore:
            kinds.append(rule.kind)
    return tuple(kinds)


def _specificity(selector: str, rule: Rule) -> int:
    """How specifically a normalized `selector` names `rule`: -1 not at all, 0 for ``ALL``,
    the prefix's length for a code prefix, and a full code's length for a kind's name."""
    if selector == ALL:
        return 0
    if selector == rule.kind:
        return len(rule.id)
    return len(selector) if rule.id.startswith(selector) else -1
