"""Which language a request asks for, when `--lang` is not given: the language of its most similar training
request in the model's retrieval index (per language, the best cosine), with a confidence.

A request that names its language ("in python", "a bash one-liner") is in it; one in a spreadsheet's words (cells
that…, highlight, shade, conditional formatting, the sheet) is a CF rule whatever the index says, unless it names a
file or speaks of code (a list, a dataframe, backticks). Measured on the dev requests of the three benchmarks and on
hand-written requests (bench/language_guess.py); below GUESS_CONFIDENCE the caller answers in Bash, as cfgen always
did without `--lang`, and says what the guess was and the other language it considered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

DEFAULT_LANGUAGE = "bash"
GUESS_CONFIDENCE = 0.6
# Softmax temperature over the languages' best cosines: a 0.02 lead is worth e to one.
TEMPERATURE = 0.02


# A request that speaks of a spreadsheet's cells or of formatting them asks for a CF rule, table or not; the
# words are the spreadsheet's own, and a request naming a file ("the csv file") is left to the index.
SPREADSHEET_WORDS = re.compile(
    r"\b(?:highlight(?:s|ed)?|shade|conditional(?:ly)? format\w*|spreadsheet|excel|data bars?|icon sets?|"
    r"colou?r scales?|(?:colou?r|format|mark|shade) (?:the |all |every |any )?(?:cells|rows)|sheet|"
    r"colou?r (?:the |all |every |any )?\w+ (?:that|which|who|where|whose)|"
    r"cells? (?:with|that|which|where|whose|containing|greater|less|above|below|equal))\b", re.I)
# Words of code and of terminals: a request with them is not about a spreadsheet's cells, whatever else it says.
NOT_SPREADSHEET = re.compile(r"`|\b(?:dataframe|data frame|pandas|numpy|matplotlib|plot|tkinter|button|terminal|"
                             r"calendar|tmux|list|dictionary|array|differences)\b", re.I)
NAMES_A_FILE = re.compile(r"\b[\w-]+\.(?:csv|txt|json|py|sh|log|xlsx?)\b|/\w|\bfiles?\b", re.I)


# A request that names the language it wants ("… in python", "a bash one-liner") is in it.
# A request that speaks of both ("run a shell command from python") asks for neither by name.
NAMED_LANGUAGES = {"python": re.compile(r"\bin python\b|\bpython (?:snippet|function|one-liner)\b", re.I),
                   "bash": re.compile(r"\bin (?:bash|the shell|a shell)\b|\bbash one-liner\b", re.I)}
OTHER_NAMES = {"python": re.compile(r"\b(?:bash|shell|terminal)\b", re.I),
               "bash": re.compile(r"\bpython\b|\bsubprocess\b|`", re.I)}


@dataclass(frozen=True)
class Guess:
    lang: str  # the most likely language
    confidence: float  # its share (0-1)
    runner_up: str | None = None  # the other language the guess considered most

    @property
    def sure(self) -> bool:
        return self.confidence >= GUESS_CONFIDENCE

    @property
    def answered_in(self) -> str:
        """The language the request is answered in: the guess when sure, else DEFAULT_LANGUAGE."""
        return self.lang if self.sure else DEFAULT_LANGUAGE


def guess_languages(index, query_encodings: list[torch.Tensor], queries: list[str] | None = None) -> list[Guess]:
    """A guess per request from its encoding (E_s), and from its words where they are a spreadsheet's (`queries`);
    without an index, nothing to compare with: Bash, unsure."""
    if index is None:
        return [Guess(DEFAULT_LANGUAGE, 0.0) for _ in query_encodings]
    languages, best = index.best_similarity_by_language(query_encodings)
    shares = torch.softmax(best / TEMPERATURE, dim=1)
    guesses = []
    for row, query in zip(shares, queries or [None] * len(shares)):
        order = [languages[int(i)] for i in row.argsort(descending=True)]
        named = next((lang for lang, said in NAMED_LANGUAGES.items()
                      if query and said.search(query) and not OTHER_NAMES[lang].search(query)), None)
        if named in languages:
            guesses.append(Guess(named, 1.0, next((lang for lang in order if lang != named), None)))
        elif query is not None and "cf" in languages and _speaks_of_cells(query):
            runner_up = next((lang for lang in order if lang != "cf"), None)
            guesses.append(Guess("cf", max(float(row[languages.index("cf")]), GUESS_CONFIDENCE), runner_up))
        else:
            guesses.append(Guess(order[0], float(row.max()), order[1] if len(order) > 1 else None))
    return guesses


def _speaks_of_cells(query: str) -> bool:
    return bool(SPREADSHEET_WORDS.search(query)) and not NAMES_A_FILE.search(query) and \
        not NOT_SPREADSHEET.search(query)
