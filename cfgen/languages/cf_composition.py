"""CF candidates settled between making and ranking them: the CF language's `settle` member.

Three things happen to a request's made candidates, in this order:
1. each rule gets the values the request names in place of those it does not (`cf_values.carried`: the
   network writes functions well and unseen words badly);
2. a rule the request does not ask for as it stands (a value nobody said, a comparison its words do not
   allow) moves to the last group, behind every rule it does ask for; a retrieved rule holding a text nobody
   said is dropped (it is another request's answer: "No" for "the values below zero"), and so is any rule
   testing as text a number the request compares ("over 500" is a comparison, never TextContains(500));
3. a request that joins conditions ("… and …", "… or …") or negates one (`cf_logic.split_request`) also
   gets rules joined from the best two candidates of each part, each part answered as a request of its
   own; they rank ahead of the request's own candidates unless its own best already has their operator.

Each candidate is parsed once; the tree goes to every check that reads it. A rule that does not parse is
left as it is (ranking's validity check puts it behind the valid ones).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from cfgen.languages.cf_comparisons import as_said, misses_the_said_rank, tests_a_compared_number, unsaid_in
from cfgen.languages.cf_logic import Logic, join_rules, split_request
from cfgen.languages.cf_rules import Call, CFError, parse, render
from cfgen.languages.cf_values import carried, unasked_in, unasked_texts_in
from cfgen.ranking import Candidate, select

# answer_parts(requests) -> made candidates per request, as the pipeline's method made the request's own
AnswerParts = Callable[[list[str]], list[list[Candidate]]]


def settle(rows: list[list[Candidate]], requests: list[str], answer_parts: AnswerParts,
           last_group: int) -> list[list[Candidate]]:
    """Every request's candidates carried, sorted into asked and unasked, and joined where it composes (see
    the module's contract). `last_group` is the group behind every other one: where unasked rules go."""
    rows = [_carried_row(row, request, last_group) for row, request in zip(rows, requests)]
    logic = {q: found for q, request in enumerate(requests) if (found := split_request(request))}
    if not logic:
        return rows
    leaves = [leaf for found in logic.values() for leaf in found.leaves()]
    answered = iter([_best_two(row, leaf, last_group) for row, leaf in zip(answer_parts(leaves), leaves)])
    for q, found in logic.items():
        best = [next(answered) for _ in found.leaves()]
        if all(best):
            rows[q] = rows[q] + _placed(_joined(found, best), found, rows[q], requests[q], last_group)
    return rows


def _parsed(code: str) -> Call | None:
    try:
        return parse(code)
    except CFError:
        return None


def _carried_row(row: list[Candidate], request: str, last_group: int) -> list[Candidate]:
    return [settled for candidate in row if (settled := _carried(candidate, request, last_group)) is not None]


def _carried(candidate: Candidate, request: str, last_group: int) -> Candidate | None:
    """The candidate with the request's values in, in the last group when the request does not ask for it;
    None for a retrieved rule that keeps a text the request never said and for a text test of a compared number."""
    tree = _parsed(candidate.code)
    if tree is None:
        return candidate
    changed = as_said(carried(tree, request), request)
    if (candidate.source == "retrieved" and unasked_texts_in(changed, request)) or \
            tests_a_compared_number(changed, request):
        return None
    if changed != tree or render(changed, explicit_quotes=False) != candidate.code:
        quoted = "'" in candidate.code or '"' in candidate.code
        candidate = replace(candidate, code=render(changed, explicit_quotes=quoted))
    # unasked: behind every asked rule, a retrieved one behind the network's (their scores are on other scales)
    return replace(candidate, group=last_group + (candidate.source == "retrieved")) if _unasked(changed, request) \
        else candidate


def _unasked(tree: Call, request: str) -> bool:
    """The rule holds a value the request never said, compares otherwise than its words say ("below 20" is
    not Equals(20)), or ranks nothing where the request picks its highest or lowest ("the maximum" is no ColorScale)."""
    return (bool(unasked_in(tree, request)) or bool(unsaid_in(tree, request))
            or tests_a_compared_number(tree, request) or misses_the_said_rank(tree, request))


def _best_two(row: list[Candidate], request: str, last_group: int) -> list[Candidate]:
    """A part's two best valid candidates, the request's values in."""
    chosen = select(_carried_row(row, request, last_group), "cf", limit=2)
    return [candidate for candidate, valid, _ in chosen if valid][:2]


def _joined(logic: Logic, best: list[list[Candidate]]) -> list[Candidate]:
    """Rules joined from each part's best candidates: every part's first, then each part's second in turn with
    the others' first; ranked in that order ahead of all others, labelled by the least generated of their parts."""
    picks = [[0] * len(best)] + [[int(i == j) for j in range(len(best))] for i in range(len(best)) if len(best[i]) > 1]
    joined = []
    for group, pick in enumerate(picks, start=-len(picks)):
        used = [part[i] for part, i in zip(best, pick)]
        source = next((s for s in ("retrieved", "edited") if any(c.source == s for c in used)), "generated")
        joined.append(Candidate(join_rules(logic, [c.code for c in used]), sum(c.score for c in used) / len(used),
                                source, group=group))
    return joined


def _placed(joined: list[Candidate], logic: Logic, own: list[Candidate], request: str,
            last_group: int) -> list[Candidate]:
    """The joined rules in their groups: last when the request does not ask for one, after the request's own
    best when that already joins or negates as the request says ("… and …" answered by an AND)."""
    best = select(own, "cf", limit=1)
    best_tree = _parsed(best[0][0].code) if best and best[0][1] else None
    follows = best_tree is not None and best_tree.name.upper() == logic.op.upper()
    placed = []
    for candidate in joined:
        tree = _parsed(candidate.code)
        if tree is not None and _unasked(tree, request):
            candidate = replace(candidate, group=last_group)
        elif follows:
            candidate = replace(candidate, group=last_group - 1)
        placed.append(candidate)
    return placed
