"""CF rules carry the request's own values: the finder, the carrying, and a tiny model writing a word it never saw."""

import pytest
from conftest import tiny_request, write_pairs

from cfgen.languages.cf_values import carry_values, number_values, text_values, unasked_values


@pytest.mark.parametrize("request_text, values", [
    ("Color cells based on ethnicity when value is Asian", ["Asian"]),
    ("apply the background color when cell value is Movies", ["Movies"]),
    ("cells that contain FB", ["FB"]),
    ("names that starts with SA", ["SA"]),
    ("Color cells that have value equal to On Hold", ["On Hold"]),  # capitalised stop words belong to the value
    ("Format cells that have yes in their value", ["yes"]),
    ('does not contain "US" or \'France\'', ["US", "France"]),
    ("Style values which are 情報", ["情報"]),
    ("Color cells which have repeated values", []),  # no word after a cue is a value
    ("highlight cells greater than 100 in sheet1", []),
])
def test_the_finder_takes_quoted_and_cued_words_with_their_case(request_text, values):
    assert text_values(request_text) == values


@pytest.mark.parametrize("request_text, numbers", [
    ("greater than -0.5", [-0.5]),
    ("value greater than 60,000rs. of ledger", [60000.0]),
    ("between 5 and 10 in D5-D12 of SC-EST2019-AGESEX-28", [5.0, 10.0]),  # not cell names, not inside names
    ("equal to 2015", [2015.0]),
])
def test_numbers_keep_sign_decimals_and_thousands_and_skip_cell_names(request_text, numbers):
    assert number_values(request_text) == numbers


def test_a_rule_carries_the_requests_values_where_it_holds_others():
    assert carry_values("TextEquals(選必)", "Color cells when value is Asian") == "TextEquals(Asian)"
    assert carry_values("TextEquals(c[1], 'S.')", "cells that contain FB") == "TextEquals(c[1], 'FB')"
    assert carry_values("NOT(TextContains(soup))", 'does not contain "US"') == "NOT(TextContains(US))"
    assert carry_values("AND(GreaterThan(3), LessThan(100))", "greater than 3 and less than 5") == \
        "AND(GreaterThan(3), LessThan(5))"
    assert carry_values("bottom(1)", "the bottom value of sheet 2020") == "bottom(1)"  # a rank's count is not asked
    assert carry_values("TextEquals(Asian)", "value is Asian") == "TextEquals(Asian)"  # said: left alone
    assert carry_values("TextContains(u)", "when the value is Domestic") == "TextContains(Domestic)"
    assert carry_values("GreaterThan(", "value is Asian") == "GreaterThan("  # does not parse: as it is


def test_a_value_nobody_said_is_unasked_unless_the_table_holds_it():
    assert unasked_values("TextEquals(withmplete)", "Color cells which have repeated values") == ["withmplete"]
    assert unasked_values("TextEquals(Done)", "color finished tasks", [["status"], ["Done"], ["Open"]]) == []
    assert unasked_values("TextEquals()", "anything") == [""]
    assert unasked_values("TextContains(u)", "when the value is Domestic") == ["u"]  # said inside a word is not said
    assert unasked_values("GreaterThan(10)", "big numbers") == ["10"]  # compared with, never named
    assert unasked_values("top(10)", "the top values") == [] and unasked_values("LessThan(5)", "below 5") == []


@pytest.fixture(scope="module")
def cf_text_model(tmp_path_factory):
    """A tiny CF model whose text values are Apple and Pear only."""
    from cfgen.training.train import run_training

    pairs = [("color cells whose value is Apple", "TextEquals(Apple)", "cf"),
             ("highlight cells that contain Pear", "TextContains(Pear)", "cf"),
             ("format cells greater than 10", "GreaterThan(10)", "cf"),
             ("highlight duplicate values", "Duplicate()", "cf")]
    folder = tmp_path_factory.mktemp("cf-values")
    output = folder / "model"
    run_training(tiny_request(output, write_pairs(folder / "pairs.jsonl", pairs), steps=400))
    return output


def test_a_tiny_model_writes_a_word_and_a_number_it_never_saw_as_training_values(cf_text_model):
    from cfgen.pipeline import Pipeline

    pipeline = Pipeline.from_directory(cf_text_model)
    requests = ["color cells whose value is Zebra", "format cells greater than 37"]
    written = pipeline(requests, "cf", 3, 10, strength=1.0)  # from noise, as the bundled model writes CF
    assert written[0][0].code == "TextEquals(Zebra)" and written[0][0].source == "generated"
    assert written[1][0].code == "GreaterThan(37)"
    retrieved = pipeline(requests, "cf", 3, strength=0.0)  # a training rule carries the request's values too
    assert (retrieved[0][0].code, retrieved[0][0].source) == ("TextEquals(Zebra)", "retrieved")


def test_composed_pairs_parse_use_the_splits_values_and_are_the_same_for_a_seed():
    import runpy
    from pathlib import Path

    from cfgen.languages import cf

    composed_pairs = runpy.run_path(str(Path(__file__).parents[1] / "bench" / "cf_compose.py"))["composed_pairs"]

    rules = ["GreaterThan(10)", "LessThan(250)", "TextEquals(Done)", "TextContains(Kim)", "Between(3, 7)"]
    pairs = composed_pairs(rules, 50, seed=1)
    assert pairs == composed_pairs(rules, 50, seed=1) and pairs != composed_pairs(rules, 50, seed=2)
    assert all(cf.check(rule)[0] for _, rule in pairs)
    heads = {rule.split("(")[0] for _, rule in pairs}
    assert {"NOT", "AND", "OR", "top", "bottom", "Duplicate"} <= heads
    for request, rule in pairs:  # every value a composed rule names is one of the split's, and said in the request
        for value in ("Done", "Kim"):
            assert (value in rule) <= (value in request)
    assert any(r == "NOT(TextContains(Kim))" and "Kim" in q for q, r in pairs)


def test_a_tiny_model_that_never_saw_or_nor_not_writes_both_from_the_requests_parts(cf_text_model):
    from cfgen.pipeline import Pipeline

    pipeline = Pipeline.from_directory(cf_text_model)
    requests = ["format cells greater than 20 or contain Kiwi", "color cells whose value is not Zebra"]
    joined, negated = pipeline(requests, "cf", 3, 10, strength=1.0)
    assert (joined[0].code, joined[0].source, joined[0].valid) == ("OR(GreaterThan(20), TextContains(Kiwi))",
                                                                   "generated", True)
    assert all("10" not in c.code for c in joined[:2])  # a part's value the request never said ranks last
    assert negated[0].code == "NOT(TextEquals(Zebra))" and not negated[0].seen
    plain = pipeline(["format cells greater than 37"], "cf", 3, 10, strength=1.0)[0]
    assert plain[0].code == "GreaterThan(37)"  # a request of one condition is answered as before


@pytest.mark.parametrize("rule, request_text, unsaid", [
    ("Equals(20)", "highlight products with a Price below 20", ["Equals"]),
    ("LessThan(20)", "highlight products with a Price below 20", []),
    ("Equals(25)", "cells greater than or equal to 25", ["Equals"]),  # the longer phrase is read first
    ("GreaterThanEqual(25)", "apply greaterThanOrEqual to 25", []),
    ("AND(Equals(c[1], 60), LessThan(c[1], 90))", "Score above 60 and below 90", ["Equals"]),
    ("GreaterThan(1)", "cells equal to 1", ["GreaterThan"]),
    ("NOT(Equals(5))", "cells not equal to 5", []),
    ("Equals(5)", "cells that are 5", []),  # no comparison word: nothing is judged
    ("TextEquals(US)", "cells that contain US", []),  # text tests never are
    ("Bottom(c[2], 5)", "highlight Stock below 5 or Price above 80", ["Bottom"]),  # ranks are judged too
    ("Between(5, 80)", "below 5 or above 80", ["Between"]),
    ("Between(1, 5)", "values from 1 to 5", []),
    ("GreaterThan(100)", "highlight the highest Price", ["GreaterThan"]),
    ("Top(c[1], 1)", "highlight the lowest Score", ["Top"]),
    ("Bottom(c[1], 1)", "highlight the lowest Score", []),
])
def test_a_comparison_the_requests_words_do_not_allow_is_named(rule, request_text, unsaid):
    from cfgen.languages.cf_comparisons import unsaid_comparisons

    assert unsaid_comparisons(rule, request_text) == unsaid


def test_a_candidate_comparing_otherwise_than_the_request_says_ranks_after_those_that_do():
    from cfgen.languages.cf_composition import settle
    from cfgen.ranking import Candidate, rank

    made = [Candidate("Equals(20)", -0.1), Candidate("LessThan(20)", -0.5), Candidate("GreaterThan(7)", -0.2)]
    [settled] = settle([made], ["highlight Price below 20"], lambda parts: [], last_group=9)
    ranked = rank(settled, "cf")
    # each rule of one comparison compares as the request's "below" says (as_said): they are one rule
    assert [c.code for c in ranked] == ["LessThan(20)"]


@pytest.mark.parametrize("rule, request_text, said", [
    ("Equals(0)", "highlight the values below zero", "LessThan(0)"),
    ("LessThan(5)", "highlight values that are at least 5", "GreaterThanEqual(5)"),
    ("TextEquals(late)", "highlight cells that contain late", "TextContains(late)"),
    ("TextContains(A)", "highlight cells that start with A", "StartsWith(A)"),
    ("top(10)", "shade the biggest value in the column", "Top(1)"),
    ("top(3)", "highlight the top 3 scores", "Top(3)"),
    ("Between(1, 5)", "highlight values between 1 and 5", "Between(1, 5)"),  # several comparisons allowed: as it is
    ("AND(Equals(1), Equals(2))", "values below 3", "AND(Equals(1), Equals(2))"),  # joined: the parts' business
])
def test_a_rule_of_one_test_compares_as_the_request_says(rule, request_text, said):
    from cfgen.languages.cf_comparisons import as_said
    from cfgen.languages.cf_rules import normalise, parse, render

    assert normalise(render(as_said(parse(rule), request_text))) == normalise(said)


def test_numbers_in_words_are_values_and_a_compared_number_is_no_text():
    from cfgen.languages.cf_comparisons import tests_a_compared_number
    from cfgen.languages.cf_rules import parse

    assert number_values("highlight the values below zero") == [0.0]
    assert number_values("the top three and then 5") == [3.0, 5.0]
    assert tests_a_compared_number(parse("TextContains(500)"), "colour the rows where the amount is over 500")
    assert not tests_a_compared_number(parse("TextContains(500)"), "rows whose code contains 500")


def test_a_compared_number_is_never_answered_by_a_text_test():
    from cfgen.languages.cf_composition import settle
    from cfgen.ranking import Candidate

    made = [Candidate("GreaterThan(500)", -0.2, "generated"), Candidate("TextContains(500)", -0.1, "generated"),
            Candidate("TextContains(@)", -0.3, "generated")]
    [row] = settle([made], ["colour the rows where the amount is over 500"], lambda parts: [[] for _ in parts], 5)
    assert [c.code for c in row][:1] == ["GreaterThan(500)"] and "TextContains(500)" not in [c.code for c in row]
    [row] = settle([made], ["rows whose code contains 500"], lambda parts: [[] for _ in parts], 5)
    assert "TextContains(500)" in [c.code for c in row]  # a text test the request asks for stays


def test_an_unasked_retrieved_rule_ranks_after_an_unasked_generated_one():
    from cfgen.languages.cf_composition import settle
    from cfgen.ranking import Candidate

    made = [Candidate("Top(3)", -0.9, "generated"), Candidate("Bottom(4)", 0.9, "retrieved", group=3)]
    [row] = settle([made], ["highlight cells below 5"], lambda parts: [[] for _ in parts], 5)
    assert [(c.source, c.group) for c in row] == [("generated", 5), ("retrieved", 6)]
