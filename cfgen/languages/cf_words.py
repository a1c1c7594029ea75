"""The words CF requests are read by, in one place: comparisons (cf_comparisons), conditions, joins and
negations (cf_logic), and where a value starts and ends (cf_values). Patterns match case-insensitively."""

from __future__ import annotations

import re

# -- comparisons: the rule functions a request's words allow ------------------------------------------------
GREATER, LESS = {"GreaterThan", "GreaterThanEqual"}, {"LessThan", "LessThanEqual"}
# (words, the comparisons they allow), longest phrases first; `\s*` also reads camelCase (greaterThanOrEqual).
COMPARISON_PHRASES = [
    (r"greater\s*than\s*or\s*equal|greater\s*(?:than\s*)?equal|at\s+least|or\s+(?:more|greater|above|higher)|"
     r"no\s+less\s+than|not\s+less\s+than|>=", GREATER),
    (r"less\s*than\s*or\s*equal|less\s*(?:than\s*)?equal|at\s+most|or\s+(?:less|fewer|below|lower)|no\s+more\s+than|"
     r"not\s+more\s+than|up\s+to|<=", LESS),
    (r"not\s+equal|other\s+than|different\s+from|!=|<>", {"NotEquals", "Equals"}),
    (r"\bbetween\b|\bfrom\s+-?\d\S*\s+to\s+-?\d", {"Between"} | GREATER | LESS),
    (r"\b(?:top|highest|largest|biggest|maximum|max|best)\b|topPercent|topItems", {"Top", "TopPercent"}),
    (r"\b(?:bottom|lowest|smallest|minimum|min|worst)\b|bottomPercent|bottomItems", {"Bottom", "BottomPercent"}),
    (r"greater|more\s+than|\babove\b|\bover\b|exceed|higher\s+than|bigger|larger\s+than|>", GREATER),
    (r"less\s*than|lesser|fewer|\bbelow\b|\bunder\b|lower\s+than|smaller|<", LESS),
    (r"equal|=", {"Equals"}),
]

# The comparison (or rank) each phrase above says when it is the request's only one: what a rule comparing
# otherwise is rewritten to (cf_comparisons.said_in); None where the phrase allows several (between).
SAID_COMPARISONS = ["GreaterThanEqual", "LessThanEqual", "NotEquals", None, "Top", "Bottom", "GreaterThan", "LessThan",
                    "Equals"]
# Words that ask for a visual rule (a colour scale, data bars, icons): a rank word there says how to shade
# ("from the lowest to the highest"), not which cells to pick.
VISUAL_WORDS = r"\b(?:scales?|gradient|heat\s*map|bars?|icons?|arrows|traffic\s+lights?|shades?\s+of)\b"
# The text test each phrase says ("contains X" is a contains rule, whatever the network wrote).
TEXT_TEST_PHRASES = [(r"\bcontain(?:s|ing)?\b|\bincludes?\b|\bwith the (?:word|text)\b", "TextContains"),
                     (r"\b(?:starts?|starting|begins?|beginning) with\b", "StartsWith"),
                     (r"\b(?:ends?|ending) with\b", "EndsWith"),
                     (r"\b(?:says?|is exactly|exactly|equal to|equals|reads)\b", "TextEquals")]
# Numbers said in words ("below zero", "the top three").
NUMBER_WORDS = {"zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}

# -- conditions and negations: how a request splits into parts ---------------------------------------------
# What makes a phrase a condition: a comparison, a text test, blanks, repeats or ranks, or a copula before a value.
CONDITION_CUES = (r"greater|more|less|fewer|above|below|over|under|exceed\w*|higher|lower|equal\w*|at least|at most|"
                  r"contain\w*|start\w*|begin\w*|end\w* with|blank\w*|empty|duplicate\w*|repeat\w*|unique|between|"
                  r"top|bottom|highest|lowest|maximum|minimum|largest|smallest|is|are|was|were|has|have")
NEGATION = re.compile(r"\b(?:(?:does|do|is|are|was|were)\s+not|doesn't|don't|isn't|aren't|wasn't|weren't|not)\s+",
                      re.IGNORECASE)
COPULAS = {"is", "are", "was", "were"}
NOT_VERBS = {"cells", "cell", "values", "value", "rows", "items", "the", "all", "any", "if", "when", "where"}

# -- values: the phrase before a value, the words that end one or cannot be one -----------------------------
# A cue phrase, then the value: matched at every position (a lookahead), so that "have value equal to Complete"
# tries "have", "value" and "equal to" and keeps the one whose value is not a word of the phrase.
VALUE_CUE = re.compile(r"(?=\b(?:equal\s+to|equals|is\s+not|are\s+not|is|are|contains|containing|contain|has|have|"
                       r"starts?\s+with|starting\s+with|begins?\s+with|beginning\s+with|ends?\s+with|ending\s+with|"
                       r"named|called|says|say|reads|text|word|value|values)\s+([^\s,;:!?\"'“”()]+"
                       r"(?:\s+[^\s,;:!?\"'“”()]+){0,3}))", re.IGNORECASE)
# Words that end a value (the request goes on about where or how) or that cannot start one.
VALUE_ENDS = {"in", "on", "of", "from", "for", "to", "at", "and", "or", "but", "with", "the", "a", "an", "column",
              "columns", "cell", "cells", "range", "sheet", "row", "rows", "value", "values", "text", "than", "then",
              "where", "which", "that", "as", "by", "using", "if", "is", "are", "be", "it", "them", "their", "its"}
NOT_A_VALUE = VALUE_ENDS | {"greater", "less", "more", "fewer", "higher", "lower", "not", "empty", "blank", "blanks",
                            "between", "equal", "equals", "above", "below", "over", "under", "duplicate", "duplicates",
                            "duplicated", "repeated", "unique", "top", "bottom", "highest", "lowest", "maximum",
                            "minimum", "max", "min", "average", "positive", "negative", "zero", "red", "green",
                            "yellow", "blue", "orange", "color", "colour", "bold", "highlighted", "highlight",
                            "formatting", "conditional", "contain", "contains", "containing", "equal", "any", "all",
                            "some", "no", "none", "this", "these", "those", "there", "true", "false"}
