"""Checkers and the CF executor answer any text: never raise, never hang."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgen.languages import bash, cf, python
from cfgen.languages import language_names

ANY_TEXT = st.text(max_size=300)
RULE_LIKE = st.text(alphabet="()[],'\" c0123456789%-.ANDORTtopGreaterThanLENBetween", max_size=200)
CELL = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10))
TABLE = st.lists(st.lists(CELL, max_size=5), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_checkers_never_raise(text):
    for language in (bash, python, cf):
        ok, message = language.check(text)
        assert isinstance(ok, bool) and isinstance(message, str)
        language.normalise(text)
        language.risks(text)
    bash.template(text)


@settings(max_examples=300, deadline=None)
@given(RULE_LIKE, TABLE)
def test_cf_executor_rejects_or_answers_per_row(rule, table):
    try:
        result = cf.execute(rule, table)
    except cf.CFError:
        return
    assert len(result) == len(table) - 1 and all(isinstance(v, bool) for v in result)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_checkers_take_bytes_that_are_not_utf8(data):
    for language in (bash, python, cf):
        language.check(data)


def test_bash_checker_survives_code_points_that_crash_tree_sitter_bash():
    """'{' + U+E8CE3 segfaulted tree-sitter-bash 0.25 in most runs: check in a child process, several times."""
    import subprocess
    import sys

    probe = ("from cfgen.languages import bash\n"
             "for cp in (0xE8CE3, 0xE0001, 0xE0100, 0xF0000, 0x10FFFD, 0xDFFFF):\n"
             "    for text in ('{' + chr(cp), 'x' + chr(cp) + ' {' + chr(cp) + 'a', 'echo {' + chr(cp) + '2'):\n"
             "        bash.check(text); bash.risks(text); bash.template(text)\n")
    for _ in range(3):
        assert subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, st.sampled_from(language_names()))
def test_value_transfer_answers_any_text(code, source_request, request, lang):
    from cfgen.values.slots import find_values, mask, transfer

    source, values = find_values(source_request), find_values(request)
    assert transfer(code, source, source, lang) == code  # the same request changes nothing
    assert isinstance(transfer(code, source, values, lang), str)
    # masking leaves no number or path (a stray backtick may pair with a placeholder's)
    assert all(kind == "quoted" for kind, _ in find_values(mask(request)))
