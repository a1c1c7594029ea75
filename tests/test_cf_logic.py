"""CF requests that join or negate conditions: read as parts, the parts' rules joined."""

import pytest

from cfgen.languages.cf_logic import Logic, join_rules, split_request


@pytest.mark.parametrize("request_text, logic", [
    ("highlight Stock less than 10 or Price above 80",
     Logic("OR", ("highlight Stock less than 10", "highlight Price above 80"))),
    ("Format cells that are greater than or equal to 25 and less than 50",
     Logic("AND", ("Format cells that are greater than or equal to 25", "Format cells less than 50"))),
    ("Color cells that are either p or ul",
     Logic("OR", ("Color cells that are either p", "Color cells that are either ul"))),
    ("highlight Stock equal to 0 or 3 in column C",
     Logic("OR", ("highlight Stock equal to 0", "highlight Stock equal to 3 in column C"))),
    ("Style cells that do not contain US", Logic("NOT", ("Style cells that contain US",))),
    ("highlight Delivery that isn't Worldwide", Logic("NOT", ("highlight Delivery that is Worldwide",))),
    ("highlight Price not between 20 and 50", Logic("NOT", ("highlight Price between 20 and 50",))),
    ("format cells greater than 0 and are either less than -5 or greater than 9",
     Logic("AND", ("format cells greater than 0", Logic("OR", ("format cells are either less than -5",
                                                               "format cells greater than 9"))))),
    ("highlight Status that is not Done and Stock above 3",
     Logic("AND", (Logic("NOT", ("highlight Status that is Done",)), "highlight Stock above 3"))),
    ("cells above 1 and below 5", Logic("AND", ("cells above 1", "cells below 5"))),  # no verb to lend
])
def test_joined_and_negated_conditions_split_into_requests_of_one_condition(request_text, logic):
    assert split_request(request_text) == logic


@pytest.mark.parametrize("request_text", [
    "Color cells that have a value between 689 and 927",
    "Apply conditional format and color the top 10% values for the data of 2013 in cell C9-C97",
    "Make font color and fill color - Red for top 10 for ENROLLEES",
    'Highlight the cells which contains "abc" in sheet Position and conditions',
    "Probability of dying between ages x and x + 1, find top value from B4 to B104",
    "Find the top value out of column Yesterday and Today on range C3:D8",
    "highlight cells greater than or equal to 5",
    "highlight Days Left of -1 or less",
    "Note the cells above 5",
])
def test_one_condition_is_not_split(request_text):
    assert split_request(request_text) is None


def test_the_parts_rules_are_joined_in_leaf_order_and_a_negated_part_is_not_negated_twice():
    logic = split_request("highlight Status that is not Done and Stock above 3")
    assert logic.leaves() == ["highlight Status that is Done", "highlight Stock above 3"]
    assert join_rules(logic, ["TextEquals(Done)", "GreaterThan(3)"]) == "AND(NOT(TextEquals(Done)), GreaterThan(3))"
    assert join_rules(Logic("NOT", ("x",)), ["NOT(Blanks())"]) == "NOT(Blanks())"


def test_a_request_of_more_conditions_than_max_parts_is_answered_whole():
    from cfgen.languages.cf_logic import MAX_PARTS

    many = " and ".join(f"cells greater than {i}" for i in range(3000))  # deeper than Python's recursion limit
    assert split_request(many) is None
    assert len(split_request(" and ".join(f"Q{i} above {i}" for i in range(MAX_PARTS))).leaves()) == MAX_PARTS
