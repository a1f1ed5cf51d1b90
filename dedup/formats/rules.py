"""The rules findings are reported under: one per kind, with stable ids.

Ids are ``DD001`` to ``DD005``, numbered in the schema's order of kinds; they never change
meaning, so SARIF consumers (GitHub code scanning) and baselines can follow them across
versions. A new kind gets the next free number.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
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


def rule_for(kind: str) -> Rule:
    """The rule a finding of `kind` is reported under."""
    return RULES[RULE_INDEX[kind]]
