"""The CF rule engine: parser (both dialects, quirks), executor, grounding, metric."""

import pytest

from conftest import benchmark_items
from cfgen.languages import cf

TABLE = [
    ["Index", "Value", "Product Name", "Price"],
    [0, "10", "Apple pie", "3.5"],
    [1, "25", "banana split", "7"],
    [2, "25", "Cherry tart", "2"],
    [3, "", "apple crumble", "9"],
    [4, "#REF!", "Date loaf", "4"],
    [5, "144.69999999999999", "Eclair", "12"],
    [6, "-3", "fig roll", "TRUE"],
]


def selected(rule, table=TABLE):
    return [i + 1 for i, hit in enumerate(cf.execute(rule, table)) if hit]


@pytest.mark.parametrize(
    "rule, rows",
    [
        ("GreaterThan(20)", [2, 3, 6]),
        ("LessThan(10)", [7]),  # strict; blanks and errors are not numbers
        ("GreaterThanEqual(25)", [2, 3, 6]),
        ("GreaterThanEquals(25)", [2, 3, 6]),
        ("LessThanEqual(10)", [1, 7]),
        ("Equals(25)", [2, 3]),
        ("NotEquals(25)", [1, 6, 7]),
        ("Between(0, 30)", [1, 2, 3]),
        ("Between(30, 0)", [1, 2, 3]),  # reversed bounds
        ("GreaterThan(13 Days)", [2, 3, 6]),  # units ignored
        ("top(1)", [6]),
        ("Top(2)", [2, 3, 6]),  # ties included
        ("bottom(1)", [7]),
        ("top(50%)", [2, 3, 6]),  # k = floor(5 * 0.5) = 2, ties included
        ("TopPercent(20)", [6]),
        ("BottomPercent(40)", [1, 7]),
        ("AboveAverage()", [6]),  # mean of 10, 25, 25, 144.7, -3 = 40.34
        ("aboveAverage()", [6]),
        ("BelowAverage()", [1, 2, 3, 7]),
        ("Duplicate()", [2, 3]),
        ("Duplicates()", [2, 3]),
        ("Blanks()", [4]),
        ("Errors()", [5]),
        ("ColorScale()", [1, 2, 3, 6, 7]),
        ("DataBar()", [1, 2, 3, 6, 7]),
        ("IconSet()", [1, 2, 3, 6, 7]),
        ("AND(GreaterThanEqual(0),LessThan(50))", [1, 2, 3]),
        ("OR(Blanks(), Errors())", [4, 5]),
        ("NOT(GreaterThan(0))", [4, 5, 7]),
        ("TextEquals(25)", [2, 3]),
        ("TextContains(REF)", [5]),
        ("StartsWith(1)", [1, 6]),
        ("TextStartsWith(-)", [7]),
        ("EndsWith(5)", [2, 3]),
    ],
)
def test_implicit_dialect_on_the_value_column(rule, rows):
    assert cf.check(rule) == (True, "ok")
    assert selected(rule) == rows


@pytest.mark.parametrize(
    "rule, rows",
    [
        ("TextContains(c[2], 'apple')", [1, 4]),
        ("TextEquals(c[2], \"Eclair\")", [6]),
        ("StartsWith(c[2], 'b')", [2]),
        ("EndsWith(c[2], 'roll')", [7]),
        ("GreaterThan(c[3], 5)", [2, 4, 6]),
        ("GreaterThan(c[3], c[0])", [1, 2, 4, 6]),  # row-wise: Price > Index
        ("Between(c[3], 3, 7)", [1, 2, 5]),
        ("Top(c[3], 1)", [6]),
        ("Bottom(c[3], 2)", [1, 3]),
        ("NOT(Blanks(c[1]))", [1, 2, 3, 5, 6, 7]),
        ("GreaterThan(LEN(c[2]), 11)", [2, 4]),
        ("AND(TextContains(c[2], 'a'), LessThan(c[3], 5))", [1, 3, 5]),
        ("Duplicate(c[1])", [2, 3]),
        ("AboveAverage(c[3])", [2, 4, 6]),  # mean of 3.5, 7, 2, 9, 4, 12 = 6.25 ("TRUE" is no number)
    ],
)
def test_explicit_dialect(rule, rows):
    assert cf.check(rule) == (True, "ok")
    assert selected(rule) == rows


@pytest.mark.parametrize(
    "rule, text",
    [
        ("TextContains(Lower, but not sig)", "lower, but not sig"),
        ("TextContains(TELECON (ALL))", "telecon (all)"),
        ("TextEquals(       NA)", "na"),
        ("TextContains(rich's)", "rich's"),
        ("TextEquals()", ""),
        ('TextEquals("")', ""),
    ],
)
def test_raw_text_quirks_parse(rule, text):
    call = cf.parse(rule)
    assert call.args[0].value.casefold() == text


def test_text_is_compared_for_equality_only_and_a_cell_by_any_comparison():
    for rule in ("Equals('Worldwide')", "NotEquals(c[1], 'x')", "GreaterThan($E$13)", "LessThan(c[2], B7)"):
        assert cf.check(rule) == (True, "ok"), rule
    assert cf.check("LessThan(No)") == (False, "LessThan compares with a number, a column or a cell, not text")


@pytest.mark.parametrize(
    "rule",
    ["", "Foo(1)", "GreaterThan(", "AND(GreaterThan(1))", "NOT(Blanks(), Errors())", "GreaterThan(1, 2, 3)",
     "Between(1)", "LEN(c[0])", "top(a, b)", "GreaterThan(1) junk", "((((((", "AND(" * 100 + ")" * 100,
     "Top(c[1], 'x')", "Blanks(5)", "\x00\x01", "LessThan(No)", "GreaterThanEqual(c[1], 'high')"],
)
def test_broken_rules_are_rejected(rule):
    ok, message = cf.check(rule)
    assert not ok and message


def test_hostile_rules_are_rejected_promptly():
    assert not cf.check("GreaterThan(" * 3000 + "1" + ")" * 3000)[0]
    assert not cf.check("x" * 5000)[0]
    assert not cf.check("AND(" + ",".join(["GreaterThan(1)"] * 400) + ")")[0]


def test_ragged_and_odd_tables_never_raise():
    ragged = [["Index", "Value"], [0], [1, "5", "extra"], [2, None], [3, True], [4, float("nan")]]
    assert selected("GreaterThan(1)", ragged) == [2]
    assert selected("Blanks()", ragged) == [1, 3]
    with pytest.raises(cf.CFError):
        cf.execute("GreaterThan(c[9], 1)", ragged)
    with pytest.raises(cf.CFError):
        cf.execute("GreaterThan(1)", [])


def test_normal_form_merges_aliases_case_spacing_and_quotes():
    assert cf.normalise("GreaterThanEquals( 25 )") == cf.normalise("greaterthanequal(25)")
    assert cf.normalise("TextContains(c[1], \"M type\")") == cf.normalise("textcontains(c[1],'M type')")
    assert cf.normalise("Top(10)") == cf.normalise("top(10.0)")
    assert cf.normalise("Top(10)") != cf.normalise("Top(10%)")


def test_execution_match_and_its_fallback():
    assert cf.matches("GreaterThan(24)", "GreaterThanEqual(25)", TABLE)  # same rows selected
    assert not cf.matches("GreaterThan(25)", "GreaterThanEqual(25)", TABLE)
    assert not cf.matches("GreaterThan(", "GreaterThan(1)", TABLE)
    header_only = [["Index", "Value"]]
    assert cf.matches("greaterthan( 5 )", "GreaterThan(5)", header_only)
    assert not cf.matches("GreaterThan(6)", "GreaterThan(5)", header_only)


def test_grounding_uses_the_column_the_request_names():
    header = ["Index", "Product Name", "Price"]
    assert cf.ground("TextContains(M type)", [header], "highlight Product Name containing M type") == \
        "TextContains(c[1], 'M type')"
    assert cf.ground("GreaterThan(10)", [header], "prices above ten where price is high") == "GreaterThan(c[2], 10)"
    assert cf.ground("top(10%)", [["Index", "Value"]], "top ten percent") == "Top(c[1], 10%)"
    assert cf.ground("AND(GreaterThan(1),LessThan(5))", [header], "Price between") == \
        "AND(GreaterThan(c[2], 1), LessThan(c[2], 5))"
    grounded = cf.ground("TextContains(apple)", [["Index", "Value", "Product Name", "Price"]], "product name has apple")
    assert selected(grounded) == [1, 4]


PRODUCTS = [["Item Name", "Price", "Stock", "Delivery"], ["USB cable", 12, 0, "Worldwide"],
            ["HDMI adapter", 25, 14, "Domestic"], ["Web cam", "90", 3, "Worldwide"]]


def test_each_condition_gets_its_column_by_words_type_and_cells():
    ground = cf.ground
    # plurals name a header; a text goes to the column holding it, the request's own first
    assert ground("TextContains('cable')", PRODUCTS, "highlight Item Names with cable") == \
        "TextContains(c[0], 'cable')"
    assert ground("TextEquals(Domestic)", PRODUCTS, "highlight the domestic ones") == "TextEquals(c[3], 'Domestic')"
    # a numeric condition goes to a numeric column: the one named before its number
    assert ground("AND(GreaterThan(0), TextEquals(Worldwide))", PRODUCTS,
                  "highlight Stock greater than 0 and Delivery is Worldwide") == \
        "AND(GreaterThan(c[2], 0), TextEquals(c[3], 'Worldwide'))"
    assert ground("OR(LessThan(10), GreaterThan(80))", PRODUCTS, "Stock less than 10 or Price above 80") == \
        "OR(LessThan(c[2], 10), GreaterThan(c[1], 80))"
    assert ground("GreaterThan(20)", PRODUCTS, "highlight Delivery and Price over 20") == "GreaterThan(c[1], 20)"
    assert ground("GreaterThan(20)", PRODUCTS, "highlight big ones over 20") == "GreaterThan(c[1], 20)"
    # no value: a named column no other condition took; a column given stays
    assert ground("OR(LessThan(0), Blanks())", PRODUCTS, "Stock below 0 or blank Delivery") == \
        "OR(LessThan(c[2], 0), Blanks(c[3]))"
    assert ground("GreaterThan(LEN(c[0]), 3)", PRODUCTS, "long Delivery names") == "GreaterThan(LEN(c[0]), 3)"
    assert ground("NOT(Duplicate(c[3]))", PRODUCTS, "unique Price") == "NOT(Duplicate(c[3]))"
    # a comparison holding text tests text: the column holding it, not a numeric one
    assert ground("Equals('Worldwide')", PRODUCTS, "Delivery equal to Worldwide") == "Equals(c[3], 'Worldwide')"


@pytest.mark.parametrize("rule, request_text, grounded, rows", [
    ("NOT(TextEquals(Worldwide))", "highlight Delivery that is not Worldwide", "NOT(TextEquals(c[3], 'Worldwide'))",
     [2]),
    ("OR(LessThan(5), GreaterThan(80))", "Stock below 5 or Price above 80",
     "OR(LessThan(c[2], 5), GreaterThan(c[1], 80))", [1, 3]),
])
def test_a_negation_and_an_or_pass_the_checker_and_preview_their_rows(rule, request_text, grounded, rows):
    assert cf.check(rule) == (True, "ok")
    assert cf.ground_rows(rule, PRODUCTS, request_text) == (grounded, rows)
    assert cf.check(grounded) == (True, "ok")


def test_every_benchmark_rule_parses_and_runs_on_its_table():
    for split in ("train", "dev"):
        for item in benchmark_items("cf", split):
            assert cf.check(item.code)[0], item.code
            if item.table and len(item.table) > 1:
                assert len(cf.execute(item.code, item.table)) == len(item.table) - 1
