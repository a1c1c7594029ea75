"""More CF training pairs, composed from the training split's own conditions: negations, and/or of two
conditions, max/min and duplicates, which the split holds a dozen of in all (NOT 4, AND 3, OR 4).

Each composed pair is a request built from phrasings users write ("Highlight cells that do not contain X",
"Color values greater than 5 and less than 10", "the highest value in column B") around a value taken from a
training rule, with the rule written as the split writes them (`NOT(TextContains(X))`, `top(1)`). Seeded: the
same split gives the same pairs. `python bench/cf_compose.py DATA OUT.jsonl [--count N]` writes them
as `cfgen train --pairs` reads them.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from cfgen.languages.cf_rules import CFError, Number, Text, format_number, parse

CELLS = ["Highlight cells", "Color cells", "Format cells", "Style values", "Highlight values", "Apply conditional "
         "formatting to cells", "Apply red color to cells", "Mark cells", "Select values", "Fill cells"]
VERBS = ["Highlight", "Color", "Format", "Mark", "Find", "Show", "Apply conditional formatting to", "Select",
         "Apply green color to"]
PLACES = ["", "", "", " in column {col}", " from cell {col}2 to {col}{row}", " in range {col}2:{col}{row}",
          " on sheet1", " in column {col} of sheet1"]
NUMBER_CONDITIONS = {  # rule -> phrasings of "a cell's value is ..."
    "GreaterThan": ["greater than {n}", "more than {n}", "above {n}", "over {n}", "> {n}"],
    "LessThan": ["less than {n}", "below {n}", "under {n}", "smaller than {n}", "< {n}"],
    "GreaterThanEqual": ["at least {n}", "greater than or equal to {n}"],
    "LessThanEqual": ["at most {n}", "less than or equal to {n}"],
    "Equals": ["equal to {n}", "that are {n}", "exactly {n}"],
}
TEXT_CONDITIONS = {
    "TextEquals": ["equal to {x}", "that are {x}", "whose value is {x}", "that say {x}"],
    "TextContains": ["containing {x}", "that contain {x}", "with {x} in them", "that have {x} in their value"],
}
NEGATED_TEXT = {
    "TextEquals": ["not equal to {x}", "that are not {x}", "whose value is not {x}"],
    "TextContains": ["that do not contain {x}", "not containing {x}", "without {x} in them"],
}
HIGHEST = ["the highest value", "the maximum value", "the largest number", "the highest record", "the max value",
           "the biggest value"]
LOWEST = ["the lowest value", "the minimum value", "the smallest number", "the lowest record", "the min value"]
REPEATED = ["repeated values", "values that appear more than once", "duplicate entries", "values equal to other "
            "cells", "cells with the same value as another", "values that occur twice or more", "duplicates"]


def training_values(rules: list[str]) -> tuple[list[float], list[str]]:
    """The numbers of comparisons and the texts of text rules in `rules` (the split's own values)."""
    numbers, texts = [], []
    for rule in rules:
        try:
            call = parse(rule)
        except CFError:
            continue
        for argument in call.args:
            if isinstance(argument, Number) and not argument.percent and call.name in NUMBER_CONDITIONS:
                numbers.append(argument.value)
            elif isinstance(argument, Text) and call.name in TEXT_CONDITIONS and 0 < len(argument.value) <= 30:
                texts.append(argument.value)
    return numbers, texts


def composed_pairs(rules: list[str], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` (request, rule) pairs, an even share of each kind, from the values of `rules`."""
    numbers, texts = training_values(rules)
    pick = random.Random(seed)
    kinds = [_negation, _and_range, _or_pair, _max_min, _duplicates]
    pairs = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        request, rule = kind(pick, numbers, texts)
        if kind in (_max_min, _duplicates):
            lead = pick.choice(VERBS)
        else:
            reads_as_state = request.split()[0] in _ADJECTIVES and pick.random() < 0.5
            lead = pick.choice(CELLS) + (" that are" if reads_as_state else "")
        place = _place(pick)
        pairs.append((f"{lead} {request}{place}", rule))
        twin = _twin(request, rule)
        if twin is not None:  # so that "not", "and", "or" are what tell a composition from its plain condition
            pairs.append((f"{lead} {twin[0]}{place}", twin[1]))
    return pairs


def _twin(request: str, rule: str) -> tuple[str, str] | None:
    """A composition's plain condition, as a pair: the negation without its "not", a conjunction's or
    disjunction's first condition alone."""
    if rule.startswith("NOT(") and " not " in f" {request} ":
        return _without_not(request), rule[len("NOT("):-1]
    for joiner, head in ((" and ", "AND("), (" or ", "OR(")):
        if rule.startswith(head) and joiner in request:
            first = _first_argument(rule[len(head):-1])
            if first is not None:
                return request.split(joiner)[0], first
    return None


def _first_argument(arguments: str) -> str | None:
    depth = 0
    for position, char in enumerate(arguments):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            return arguments[:position]
    return None


def _without_not(request: str) -> str:
    for negated, plain in (("do not contain", "contain"), ("not containing", "containing"), ("are not", "are"),
                           ("is not", "is"), ("not equal to", "equal to"), ("not between", "between"),
                           ("without", "with")):
        if negated in request:
            return request.replace(negated, plain, 1)
    return request.replace("not ", "", 1)


# First words of a condition that read as "cells that are ...".
_ADJECTIVES = {"greater", "more", "above", "over", "less", "below", "under", "smaller", "at", "equal", "exactly",
               "not"}


def _n(value: float) -> str:
    return format_number(Number(value))


def _two_numbers(pick: random.Random, numbers: list[float]) -> tuple[float, float]:
    low, high = sorted(pick.sample(sorted(set(numbers)), 2))
    return low, high


def _negation(pick, numbers, texts) -> tuple[str, str]:
    choice = pick.random()
    if choice < 0.5:
        function = pick.choice(sorted(NEGATED_TEXT))
        x = pick.choice(texts)
        return pick.choice(NEGATED_TEXT[function]).format(x=x), f"NOT({function}({x}))"
    if choice < 0.8:
        low, high = _two_numbers(pick, numbers)
        return f"not between {_n(low)} and {_n(high)}", f"NOT(Between({_n(low)}, {_n(high)}))"
    return pick.choice(["that are not blank", "that are not empty", "which are not empty"]), "NOT(Blanks())"


def _and_range(pick, numbers, texts) -> tuple[str, str]:
    low, high = _two_numbers(pick, numbers)
    above = pick.choice(["GreaterThan", "GreaterThanEqual"])
    below = pick.choice(["LessThan", "LessThanEqual"])
    first = pick.choice(NUMBER_CONDITIONS[above]).format(n=_n(low))
    second = pick.choice(NUMBER_CONDITIONS[below]).format(n=_n(high))
    return f"{first} and {second}", f"AND({above}({_n(low)}),{below}({_n(high)}))"


def _or_pair(pick, numbers, texts) -> tuple[str, str]:
    choice = pick.random()
    if choice < 0.35:
        a, b = pick.sample(sorted(set(texts)), 2)
        function = pick.choice(sorted(TEXT_CONDITIONS))
        phrase = pick.choice(TEXT_CONDITIONS[function])
        return f"{phrase.format(x=a)} or {b}", f"OR({function}({a}),{function}({b}))"
    if choice < 0.6:
        a, b = _two_numbers(pick, numbers)
        return f"equal to {_n(a)} or {_n(b)}", f"OR(Equals({_n(a)}),Equals({_n(b)}))"
    if choice < 0.85:
        low, high = _two_numbers(pick, numbers)
        first = pick.choice(NUMBER_CONDITIONS["LessThan"]).format(n=_n(low))
        second = pick.choice(NUMBER_CONDITIONS["GreaterThan"]).format(n=_n(high))
        return f"{first} or {second}", f"OR(LessThan({_n(low)}),GreaterThan({_n(high)}))"
    n = pick.choice(numbers)
    phrase = pick.choice(NUMBER_CONDITIONS["LessThan"]).format(n=_n(n))
    return f"{phrase} or {pick.choice(['empty', 'blank', 'that are empty'])}", f"OR(LessThan({_n(n)}),Blanks())"


def _max_min(pick, numbers, texts) -> tuple[str, str]:
    if pick.random() < 0.5:
        return pick.choice(HIGHEST), "top(1)"
    return pick.choice(LOWEST), "bottom(1)"


def _duplicates(pick, numbers, texts) -> tuple[str, str]:
    return pick.choice(REPEATED), "Duplicate()"


def _place(pick: random.Random) -> str:
    column = pick.choice("ABCDEFGHIJ")
    return pick.choice(PLACES).format(col=column, row=pick.randint(5, 200))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the CodeFusion data folder")
    parser.add_argument("output", type=Path, help="JSON Lines file to write ({nl, code, lang})")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from cfgen.training.data import benchmark_path, load_benchmark

    rules = [pair.code for pair in load_benchmark(benchmark_path(args.data, "cf"), "train", "cf")]
    pairs = composed_pairs(rules, args.count, args.seed)
    args.output.write_text("".join(json.dumps({"nl": nl, "code": code, "lang": "cf"}, ensure_ascii=False) + "\n"
                                   for nl, code in pairs), encoding="utf-8")
    print(f"wrote {len(pairs)} composed CF pairs to {args.output}")


if __name__ == "__main__":
    main()
