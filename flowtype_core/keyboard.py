"""Where each key sits on a US QWERTY keyboard, so per-key figures can be laid out as one.

Letters are folded to the key that types them (`A` and `a` are one key, `!` is the `1` key):
a keyboard heatmap or a digraph matrix is about fingers and keys, not about characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SPACE = " "
BACKSPACE = "BKSP"
SPACE_LABEL = "␣"  # how a space is shown on axes and keys: a blank label reads as missing


@dataclass(frozen=True)
class Key:
    """One key cap: what it types (unshifted), where it sits (in key widths) and how wide it is."""

    key: str
    x: float
    row: int
    width: float = 1.0

    @property
    def label(self) -> str:
        """The text printed on the key cap."""
        return {SPACE: SPACE_LABEL, BACKSPACE: "⌫"}.get(self.key, self.key)


_ROWS = (("`1234567890-=", 0.0), ("qwertyuiop[]\\", 1.5), ("asdfghjkl;'", 1.75), ("zxcvbnm,./", 2.25))
LAYOUT: tuple[Key, ...] = (
    *(Key(ch, start + i, row) for row, (chars, start) in enumerate(_ROWS) for i, ch in enumerate(chars)),
    Key(BACKSPACE, 13.0, 0, 2.0),
    Key(SPACE, 4.0, 4, 6.0),
)
# Keyboard order: row by row, left to right (space last): the order of digraph axes.
KEY_ORDER: tuple[str, ...] = tuple(k.key for k in sorted(LAYOUT, key=lambda k: (k.row, k.x)))
# The letters and space in keyboard order: the keys every text exercises (digraph axes).
LETTER_KEYS: tuple[str, ...] = tuple(k for k in KEY_ORDER if (k.isalpha() and len(k) == 1) or k == SPACE)
_SHIFTED = dict(zip('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./", strict=True))


def key_of(letter: pl.Expr) -> pl.Expr:
    """The key that types `letter` (lower case, unshifted); names such as BKSP and SHIFT stay as they are."""
    single = letter.str.len_chars() == 1
    return pl.when(single).then(letter.str.to_lowercase().replace(_SHIFTED)).otherwise(letter)


def label_of(key: str) -> str:
    """A key as a person reads it on an axis (a space is "␣")."""
    return SPACE_LABEL if key == SPACE else key
