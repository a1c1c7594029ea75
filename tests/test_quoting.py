"""A request's words never run: values are written for their shell context, kept out of embedded programs, and
the filled command is proved by a parse (cfgen/languages/bash_quoting.py)."""

import json
import re
import shlex
from pathlib import Path

import pytest

from cfgen.languages.bash_quoting import Edit, substitute
from cfgen.languages.bash_syntax import _commands, _tree
from cfgen.values.slots import fill_placeholders, transfer
from cfgen.training.tldr import PLACEHOLDER

ENTRIES = Path(__file__).resolve().parents[1] / "cfgen" / "weights" / "default" / "retrieval" / "entries.json"
# Every hostile value carries PWNED, so that where it lands can be found.
HOSTILE = [
    "x; touch PWNED; echo", "$(touch PWNED)", "`touch PWNED`", "x' ; touch PWNED; echo '", 'x" ; touch PWNED; echo "',
    'x" || 1 {system("touch PWNED")} "', "a\\", "PWNED\\", "a\nreboot PWNED", "x & touch PWNED", "x | sh PWNED",
    "PWNED)", "${PWNED}", "\uff1btouch PWNED", "\uff04(touch PWNED)", "\u2018PWNED\u2019", "PWNED'\"`$\\",
    "-rf PWNED", "<(touch PWNED)", "x > PWNED",
]
# Utilities that read an argument as a program of their own: the marker must never reach their arguments.
RUNS_TEXT = {"sh", "bash", "zsh", "dash", "ksh", "eval", "awk", "gawk", "mawk", "sed", "perl", "python", "python3",
             "ruby", "node", "jq", "ssh", "su", "watch"}


def _utilities(code: str) -> list[str]:
    return [utility for utility, _ in _commands(_tree(code).root_node)]


def _assert_inert(baseline: str, filled: str, value: str, original: str = "") -> None:
    """The filled command runs the same utilities as the baseline (every slot a plain word), its parse is as clean,
    and no hostile text reaches a utility that runs text as a program."""
    before, after = _utilities(baseline), _utilities(filled)
    assert len(after) <= len(before), (baseline, filled)  # a value may replace a `$(…)` the training value held
    new_utilities = [utility for utility in after if utility not in before]  # a slot where the utility goes
    assert not any(utility in ("touch", "reboot", "sh", "PWNED") for utility in new_utilities), filled
    broken_before = _tree(baseline).root_node.has_error or _tree(original or baseline).root_node.has_error
    assert broken_before or not _tree(filled).root_node.has_error, filled
    for words in _command_words(_tree(filled).root_node):
        for program in _program_words(words):  # the value may be a whole operand (a file), never program text
            if "PWNED" in program:
                around = program.replace(value, "").replace("\\", "")  # `user@VALUE`, `VALUE:/srv`: an operand still
                assert re.fullmatch(r"[\w@:./=,{}*?-]*", around), (filled, value)


def _program_words(words: list[str]) -> list[str]:
    """The words of a command that a language it runs reads as code: the first operand after the language's name,
    the word after a code flag (-c, -e, -pe, -lne…), and for eval, ssh (after the host) and watch, all operands."""
    start = next((i for i, word in enumerate(words) if word.rsplit("/", 1)[-1] in RUNS_TEXT), None)
    if start is None:
        return []
    language, rest = words[start].rsplit("/", 1)[-1], words[start + 1 :]
    if language in ("eval", "watch", "ssh"):
        operands = [word for word in rest if not word.startswith("-")]
        return operands[1:] if language == "ssh" else operands
    code = [word for flag, word in zip(rest, rest[1:]) if re.fullmatch(r"-[A-Za-z]*[ec]|--eval|--expression", flag)]
    operands = [word for word in rest if not word.startswith("-")]
    return code + [word for word in rest if word.startswith("-") and len(word) > 2 and word[1] in "ec"] + (
        operands[:1] if not code and language not in ("sh", "bash", "zsh", "dash", "ksh", "python", "python3",
                                                      "ruby", "node", "perl", "su") else [])


def _substitutes(node) -> bool:
    if node.type in ("process_substitution", "command_substitution"):
        return True
    return any(_substitutes(child) for child in node.children)


def _command_words(root):
    """Each command's words as the shell reads them after quote removal (shlex), in order."""
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type == "command":
            words = [child.text.decode() for child in node.children  # substitutions are commands of their own
                     if child.type != "file_redirect" and not _substitutes(child)]
            try:
                yield [shlex.split(word)[0] if len(shlex.split(word)) == 1 else word for word in words]
            except ValueError:
                yield words


def _bundled_bash_rows() -> list[tuple[str, list]]:
    entries = json.loads(ENTRIES.read_text(encoding="utf-8"))
    return [(code, values) for code, lang, values in zip(entries["codes"], entries["langs"], entries["values"])
            if lang == "bash"]


def test_no_hostile_value_changes_the_structure_of_any_bundled_program_with_placeholders():
    """Every page program of the bundled index, each slot filled with hostile values (three per program, in turn,
    so that every value meets every kind of program)."""
    shapes = [code for code, _ in _bundled_bash_rows() if "{{" in code]
    assert len(shapes) > 10_000
    for number, code in enumerate(shapes):
        slots = [Edit(m.start(), m.end(), "") for m in PLACEHOLDER.finditer(code)]
        for value in (HOSTILE[(number + k) % len(HOSTILE)] for k in range(3)):
            filled, refused = substitute(code, [slot._replace(value=value) for slot in slots])
            made = [slot for slot in slots if slot._replace(value=value) not in refused]
            baseline = code
            for slot in reversed(made):  # the command with each filled slot a plain word
                baseline = baseline[: slot.start] + "X" + baseline[slot.end :]
            _assert_inert(baseline, filled, value, code)


def test_no_hostile_value_changes_the_structure_of_any_bundled_program_with_training_values():
    """Every NL2Bash program of the bundled index whose training request named a value it holds: the value swapped
    for hostile ones (retrieval's path, slots.transfer)."""
    rows = [(code, values) for code, values in _bundled_bash_rows()
            if "{{" not in code and any(value in code for _, value in values)]
    assert len(rows) > 3_000
    for number, (code, values) in enumerate(rows):
        source = [tuple(value) for value in values]
        for value in (HOSTILE[(number + k) % len(HOSTILE)] for k in range(2)):
            target = [(kind, value) for kind, _ in source]
            filled = transfer(code, source, target, "bash")
            _assert_inert(code, filled, value)


@pytest.mark.parametrize(("code", "request_text", "expected"), [
    # the reported cases: a new shell context inside "$(…)", a quote inside it, a value in awk's program
    ("ln -s \"$(find {{dir}} -name '*.jpg')\" .", 'under "x; touch PWNED; echo"',
     "ln -s \"$(find 'x; touch PWNED; echo' -name '*.jpg')\" ."),
    ("name=\"$(date +'{{format}}')_$(whoami)\"", "format \"%Y'; touch PWNED; echo '\"",
     "name=\"$(date +'%Y'\\''; touch PWNED; echo '\\''')_$(whoami)\""),
    ('rgpt --v --i "$(git diff {{file}})"', 'diff "x; touch PWNED"', "rgpt --v --i \"$(git diff 'x; touch PWNED')\""),
    ("mount | awk '$3 == \"{{text}}\" {print $1}'", "mounted at 'x\" || 1 {system(\"touch PWNED\")} \"'",
     "mount | awk '$3 == \"{{text}}\" {print $1}'"),
    ("find . -exec sh -c 'cp {} {{dir}}' \\;", 'into "a; touch PWNED"', "find . -exec sh -c 'cp {} {{dir}}' \\;"),
    ("sudo -u bob bash -c 'ls {{dir}}'", 'in "x; touch PWNED"', "sudo -u bob bash -c 'ls {{dir}}'"),
    ("rm {{file}}", 'remove "-rf"', "rm {{file}}"),  # an operand never becomes an option
    ('grep "{{text}}" log', 'find "-v"', 'grep "{{text}}" log'),
])
def test_reported_cases_are_quoted_for_their_context_or_left_as_placeholders(code, request_text, expected):
    filled = fill_placeholders(code, request_text)
    assert filled == expected
    assert "touch" not in _utilities(filled)


@pytest.mark.parametrize(("code", "request_text", "expected"), [
    ("mount | awk '$3 == \"{{text}}\" {print $1}'", "mounted at 'Asian'", "mount | awk '$3 == \"Asian\" {print $1}'"),
    ("sed -i 's/{{old}}/new/' {{file}}", 'replace "File 1" in "notes.txt"', "sed -i 's/File 1/new/' notes.txt"),
    ("jq '.{{key}}' {{file}}", 'show "name" of "data.json"', "jq '.name' data.json"),
    ("ssh {{host}} ls {{dir}}", 'on "web1" list "/srv"', "ssh web1 ls {{dir}}"),  # after the host: remote code
    ('echo "{{text}}"', 'say "cost $5 `now`"', 'echo "cost \\$5 \\`now\\`"'),
    ("ls {{dir}}", "list ~/Documents", "ls ~/Documents"),  # a home folder still expands
])
def test_plain_values_still_go_where_they_are_inert(code, request_text, expected):
    assert fill_placeholders(code, request_text) == expected


def test_a_value_that_would_change_the_parse_is_refused_and_the_others_kept():
    code = "cp {{a}} {{b}}"
    filled, refused = substitute(code, [Edit(3, 8, "one.txt"), Edit(9, 14, "-rf")])
    assert filled == "cp one.txt {{b}}" and [edit.value for edit in refused] == ["-rf"]


@pytest.mark.parametrize("value", HOSTILE)
def test_every_hostile_value_reads_back_as_itself_in_a_plain_word(value):
    filled, refused = substitute("cat {{file}}", [Edit(4, 12, value)])
    if refused:
        assert filled == "cat {{file}}"
    else:
        assert shlex.split(filled) == ["cat", value]


@pytest.mark.bundled
def test_the_bundled_model_never_answers_with_a_request_s_words_as_commands(encoder):
    from cfgen.model_files import hub
    from cfgen.pipeline import Pipeline

    pipeline = Pipeline.from_directory(hub.bundled_directory(), encoder=encoder)
    asked = ['Create a symbolic link in the current directory for each .jpg file under "x; touch PWNED; echo"',
             "print the lines of mounts whose mount point is 'x\" || 1 {system(\"touch PWNED\")} \"'"]
    for ranked in pipeline(asked, "bash", 5):
        assert ranked
        for candidate in ranked:
            assert "touch" not in _utilities(candidate.code), candidate.code
            for utility, arguments in _commands(_tree(candidate.code).root_node):
                assert utility not in RUNS_TEXT or not any("PWNED" in a for a in arguments), candidate.code


# Values live in an interactive shell: history expansion (`!!`, `!-1`, `!$`) in bash and zsh, `=name` in zsh.
INTERACTIVE = ["!!;touch PWNED;", "!-1 PWNED", "x!$ PWNED", "=touch PWNED", "a!b PWNED", "PWNED'\"!`$\\"]
SHELLS = {"bash": ["bash", "--norc", "--noprofile", "-i"], "zsh": ["zsh", "-f", "-i"], "fish": ["fish", "-N"]}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_values_stay_themselves_in_every_interactive_shell_history_expansion_included(shell, tmp_path):
    """Each value, written into a plain word, a `'…'` and a `"…"`, is fed to the interactive shell after another
    command line (so that `!!` has one to expand to): the shell prints the value as itself and runs nothing."""
    import shutil
    import subprocess

    if shutil.which(SHELLS[shell][0]) is None:
        pytest.skip(f"{shell} is not installed (apt-get install {shell})")
    shapes = {"printf '%s\\n' {{v}}": "{}", "printf '%s\\n' 'pre {{v}} post'": "pre {} post",
              "printf '%s\\n' \"pre {{v}} post\"": "pre {} post"}
    for value in INTERACTIVE:
        for shape, printed in shapes.items():
            start = shape.index("{{v}}")
            filled, refused = substitute(shape, [Edit(start, start + 5, value)])
            assert not refused, (shape, value)
            expected = printed.replace("{}", value)
            lines = f"echo first\n{filled}\nexit\n"
            result = subprocess.run(SHELLS[shell], input=lines, capture_output=True, text=True, timeout=30,
                                    cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                                                       "HISTFILE": "/dev/null", "TERM": "dumb"})
            assert not (tmp_path / "PWNED").exists(), (shell, filled)
            if shell != "fish" or "\\" not in value:  # fish reads `\\` in '…' as one backslash: a value changes
                assert expected in result.stdout.splitlines(), (shell, filled, result.stdout[-500:])

