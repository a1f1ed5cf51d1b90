"""The rules findings are reported under: re-exported from `dedup.rules`, their one source."""
from __future__ import annotations

from ..rules import RULE_INDEX, RULES, Rule, rule_for

__all__ = ["RULES", "RULE_INDEX", "Rule", "rule_for"]
