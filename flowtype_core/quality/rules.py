"""The validity rules (issue 13 item 6, "flag, don't reject"): every threshold, its source, its order.

A section that trips a rule is still recorded; its `quality_flags` name the rules it tripped (in
the order of `RULES`) and `valid` is false when one of them is `invalidates`. The split: a rule
invalidates when the timing cannot come from a person typing this sentence (too fast, too
regular, corrupt holds) or the section is not a typing of the sentence (incomplete input). A rule
that only describes a real but disturbed attempt (an idle gap, the tab hidden, focus lost, a key
held past the end, capitals whose Shift was not logged) flags without invalidating: the analyst
decides. Every invalidating rule reads the keystrokes alone, so `valid` is the same wherever the
rules run (recorder, import, pipeline, Spark); the provenance rules (tab_hidden, focus_lost) need
what the capture component reports and only ever flag.

Aalto sample figures quoted below were measured on the 156 participants / 2,340 sections of
`../shared/datasets/aalto_sample` (tests/core/test_quality_aalto.py prints them).
"""

from __future__ import annotations

from dataclasses import dataclass

# Monkeytype marks a result invalid above 350 WPM ("impossible" speed; its anti-cheat limit).
MAX_WPM = 350.0
# A key is down for some time: keybr and the Aalto study both measure holds in whole ms, so a
# hold under 1 ms (0, or a release logged before its press) is a broken event, not a fast tap.
MIN_HOLD_MS = 1
# keybr's per-key interval bounds: it discards intervals under 40 ms or over 12 s as not typing.
MIN_IKI_MS = 40
MAX_IKI_MS = 12_000
# keybr drops single out-of-bounds intervals; one such interval is normal (rollover, a pause), so
# a section trips only when more than this share of its intervals is out of bounds. On the Aalto
# sample the largest share in any section is 13.6 % (95th percentile 3.4 %).
MAX_OUT_OF_BOUNDS_SHARE = 0.2
# One gap this long inside a sentence is an interruption, not typing: 5 s is ~20 times the
# population's mean IKI (238.66 ms, Dhakal et al. CHI 2018); 0.6 % of Aalto sections have one.
LONG_IDLE_MS = 5_000
# Issue 13 item 3: text shorter than half the sentence is not a finished sentence.
MIN_INPUT_SHARE = 0.5
# Humans vary: the IKI coefficient of variation (SD / mean) of an Aalto section is 0.70 at the
# median, 0.31 at the 1st percentile and 0.19 at its lowest. Below 0.1 the rhythm is a
# metronome's (a script typing with a fixed delay), judged only from this many intervals on.
MIN_IKI_CV = 0.1
MIN_IKIS_FOR_RHYTHM = 10
# Keys that make the next letters capitals (the capture component's and the Aalto names).
CAPITALISING_KEYS = ("SHIFT", "CAPS_LOCK")


@dataclass(frozen=True)
class Rule:
    """One validity rule: its name in `quality_flags` and whether it makes a section invalid."""

    name: str
    invalidates: bool
    meaning: str


RULES = (
    Rule("impossible_speed", True, f"faster than {MAX_WPM:g} WPM"),
    Rule("bad_hold", True, f"a hold under {MIN_HOLD_MS} ms, or a release before its press"),
    Rule(
        "interval_out_of_bounds",
        False,
        f"over {MAX_OUT_OF_BOUNDS_SHARE:.0%} of intervals outside {MIN_IKI_MS} ms - {MAX_IKI_MS // 1000} s",
    ),
    Rule("long_idle", False, f"an interval of {LONG_IDLE_MS // 1000} s or more"),
    Rule("tab_hidden", False, "the tab was hidden during the sentence"),
    Rule("focus_lost", False, "the page lost focus during the sentence"),
    Rule("incomplete_input", True, f"input shorter than {MIN_INPUT_SHARE:.0%} of the sentence"),
    Rule("uppercase_without_shift", False, "capitals typed with no Shift or Caps Lock pressed"),
    Rule("key_never_released", False, "a key with no release time"),
    Rule(
        "too_regular",
        True,
        f"IKI coefficient of variation under {MIN_IKI_CV:g} over {MIN_IKIS_FOR_RHYTHM}+ intervals",
    ),
)
RULE_NAMES = tuple(rule.name for rule in RULES)
INVALIDATING = frozenset(rule.name for rule in RULES if rule.invalidates)
# What the capture component reports per section (optional: absent columns trip nothing).
PROVENANCE_RULES = {"tab_hidden": "hidden_ms", "focus_lost": "blur_count"}


def flag_meanings(quality_flags: str) -> list[str]:
    """What each rule a row tripped means, in plain words, for a typist or a reviewer."""
    meaning = {rule.name: rule.meaning for rule in RULES}
    return [meaning.get(name, name) for name in quality_flags.split(",") if name]
