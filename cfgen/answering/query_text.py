"""Whether a request holds anything to read. Standard library only: the shell widget's client uses it too.

A request of nothing but spaces, zero-width characters (U+200B), direction controls (U+202E), other format or
control characters, or combining marks on nothing says nothing, however long it is: it is refused as a blank
one is, never answered with an arbitrary command.
"""

from __future__ import annotations

import unicodedata


def has_visible_text(text: str) -> bool:
    """Whether `text` holds a letter, digit, punctuation mark or symbol (Unicode categories L, N, P, S)."""
    return any(unicodedata.category(character)[0] in "LNPS" for character in text)
