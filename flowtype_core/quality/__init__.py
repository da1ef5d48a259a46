"""Validity rules for section rows (issue 13): flag, don't reject. Declared in `rules.py`."""

from flowtype_core.quality.flags import flag_sections
from flowtype_core.quality.rules import INVALIDATING, RULE_NAMES, RULES, Rule, flag_meanings

__all__ = ["INVALIDATING", "RULES", "RULE_NAMES", "Rule", "flag_meanings", "flag_sections"]
