"""Bash templates (cfgen/languages/bash_template.py): exact round trips, typed slots, the filler's order."""

import sys
from pathlib import Path

import pytest

from conftest import benchmark_items
from cfgen.languages.bash_template import closed_class, fill, respaced, round_trips, slot_type, template, why_not
from cfgen.values.slots import fill_placeholders
from cfgen.values.written_form import WrittenForm, program_from, written_form

ROOT = Path(__file__).resolve().parents[1]


def test_almost_every_training_program_round_trips_and_the_rest_say_why():
    programs = [pair.code for pair in benchmark_items("bash", "train")]
    literals = closed_class(programs)
    failed = [p for p in programs if not round_trips(p, literals)]
    assert len(failed) / len(programs) < 0.02, len(failed)
    reasons = {why_not(p) for p in failed}
    assert reasons <= {"it does not parse", "a heredoc", "a comment", None}  # None: filled back differently


@pytest.mark.parametrize("program, tokens, values", [
    ("find . -type f -mtime +3 -exec rm {} \\;", ["find", ".", "-type", "f", "-mtime", "+{{timespan}}", "-exec", "rm",
                                                 "{}", "\\;"], ["3"]),
    ("find /var -size -100k -name '*.log'", ["find", "{{path}}", "-size", "-{{size}}", "-name", "{{pattern}}"],
     ["/var", "100k", "'*.log'"]),
    ("chmod 755 $(find . -name x.sh)", ["chmod", "{{permission}}", "$(", "find", ".", "-name", "{{path}}", ")"],
     ["755", "x.sh"]),
    ("curl -s https://x.io/a | grep -c 'err' 2>&1 > out.txt",
     ["curl", "-s", "{{url}}", "|", "grep", "-c", "{{regex}}", "2>&", "1", ">", "{{path}}"],
     ["https://x.io/a", "'err'", "out.txt"]),
    ("x=$(date +%s) && head -n -5 notes", ["x=", "$(", "date", "{{text}}", ")", "&&", "head", "-n", "-{{number}}",
                                          "{{text}}"], ["+%s", "5", "notes"]),
    ("tar xf {{path/to/archive.tar}} --directory={{path/to/directory}}",
     ["tar", "xf", "{{path}}", "--directory={{path}}"], ["{{path/to/archive.tar}}", "{{path/to/directory}}"]),
])
def test_a_template_has_one_token_per_utility_flag_operator_and_argument(program, tokens, values):
    made = template(program, frozenset({"f", "rm", "xf", "date"}))
    assert made.tokens == tokens and made.values == values
    assert fill(*made) == program.replace(" 2>&1", " 2>& 1")  # the same words; spacing is canonical


def test_programs_without_an_exact_template_are_refused_with_the_reason():
    assert template("cat <<EOF\nx\nEOF") is None and why_not("cat <<EOF\nx\nEOF") == "a heredoc"
    assert template("ls ((") is None and why_not("ls ((") == "it does not parse"
    assert why_not("ls # all") == "a comment"


def test_closed_class_words_are_literals_and_values_never_are():
    programs = ["find . -type f -name a.txt"] * 12 + ["sudo cp a b"] * 12 + ["grep -r 'x' /tmp"] * 12
    literals = closed_class(programs, min_count=10)
    assert {"f", "cp"} <= literals
    assert not literals & {"a.txt", "'x'", "/tmp"}
    assert slot_type("3", "find", "-mtime") == "timespan" and slot_type("user@x", "ssh", "ssh") == "text"
    assert slot_type("bob", "find", "-user") == "user" and slot_type("'a.*b'", "grep", "-r", first_operand=True) == "regex"


def test_the_template_text_keeps_each_token_whole_and_respaces_as_bash():
    made = template("x=$(ls -l | wc -l)")
    assert made.text == " x= $( ls -l | wc -l )"
    assert respaced(made.text) == "x=$(ls -l | wc -l)"


def test_a_templates_model_writes_templates_and_its_output_is_filled_from_the_request():
    form = WrittenForm(templates=True, template_literals=frozenset({"f"}))
    assert written_form("find . -type f -mtime +7", "files older than 7 days", "bash", form) == \
        " find . -type f -mtime +{{timespan}}"
    assert written_form("print(1)", "print one", "python", form) == "print(1)"  # other languages as they are
    written = " find {{path}} -type f -mtime +{{timespan}} -size +{{size}}"
    assert program_from(written, "files in /var older than 3 days, bigger than 2 GB", "bash", form) == \
        "find /var -type f -mtime +3 -size +2G"


def test_the_filler_takes_a_value_of_the_slots_type_and_else_leaves_the_slot_visible():
    assert fill_placeholders("find {{path}} -mtime +{{timespan}}", "files older than 3 days") == \
        "find {{path}} -mtime +3"
    assert fill_placeholders("chmod {{permission}} {{path}}", "make run.sh mode 755") == "chmod 755 run.sh"
    assert fill_placeholders("du -t {{size}} {{path}}", "over 500 bytes in /srv") == "du -t 500c /srv"


@pytest.mark.parametrize("hostile", ["; reboot", "$(reboot)", "`reboot`", "a'b", 'a"b', "a\\b", "a\nreboot"])
def test_a_hostile_value_in_a_template_slot_stays_one_word(hostile):
    import shlex

    quoted = f"'{hostile}'" if '"' in hostile else f'"{hostile}"'
    filled = fill_placeholders("grep -r {{regex}} {{path}}", f"search {quoted} in /srv")
    words = shlex.split(filled)
    assert words[:2] == ["grep", "-r"] and words[2] == hostile and words[3] == "/srv"


def test_a_slot_the_request_leaves_open_takes_the_nearest_same_template_programs_value():
    form = WrittenForm(templates=True, template_literals=frozenset({"f"}))
    written = " find {{path}} -type f -mtime +{{timespan}}"
    nearest = ["ls -l /tmp", "find ~/docs -type f -mtime +7", "find /var -type f -mtime +1"]
    assert program_from(written, "files older than 3 days", "bash", form, nearest) == "find ~/docs -type f -mtime +3"
    assert program_from(written, "files in /srv older than 3 days", "bash", form, nearest) == \
        "find /srv -type f -mtime +3"
    # no program of that template: the slot stays visible, for the user to fill in
    assert program_from(written, "files older than 3 days", "bash", form, ["ls -l /tmp"]) == \
        "find {{path}} -type f -mtime +3"


def test_a_tiny_templates_model_writes_the_requests_utility_with_flags_it_asks_for(tmp_path):
    from dataclasses import replace

    from conftest import tiny_request, write_pairs

    from cfgen.pipeline import Pipeline
    from cfgen.training.train import run_training

    pairs = [("list files in long format", "ls -l", "bash"),
             ("list all files including hidden ones", "ls -a", "bash"),
             ("list files sorted by size", "ls -S", "bash"),
             ("list files in reverse order", "ls -r", "bash"),
             ("list all files including hidden ones in long format", "ls -a -l", "bash"),
             ("list files in long format sorted by size", "ls -l -S", "bash"),
             ("list files in long format in reverse order", "ls -l -r", "bash"),
             ("list all files including hidden ones in reverse order", "ls -a -r", "bash"),
             ("count the lines of a file", "wc -l notes.txt", "bash")]  # -a with -S is never seen
    output = tmp_path / "templates"
    request = tiny_request(output, write_pairs(tmp_path / "pairs.jsonl", pairs), steps=800)
    run_training(replace(request, templates=True, process="masked"))
    ranked = Pipeline.from_directory(output)(["list all files including hidden ones sorted by size"], "bash", 5, 10,
                                             strength=1.0)[0]
    # Whether 800 steps reach the unseen combination itself differs between CPUs (float sums in another order);
    # that the network writes the request's utility with flags the request asks for, and nothing else, does not.
    best = ranked[0]
    assert best.source == "generated" and best.code in {"ls -a -S", "ls -S -a", "ls -a", "ls -S"}, \
        [(c.code, c.seen) for c in ranked]
    # the execution bench's part-6 systems over this model: the network's own, the network's then retrieved, and
    # cfgen's retrieved answers then the network's, each list in its order, no duplicates
    sys.path.insert(0, str(ROOT / "bench" / "exec"))
    from run import network_systems

    request_text = "list all files including hidden ones sorted by size"
    systems = network_systems(str(output), [request_text], [["ls -a -l", "ls -a"]])
    assert set(systems) == {"network templates", "network, then retrieved", "retrieved, then network"}
    assert systems["network templates"][0]  # its own answers (sampled with the default steps: which ones varies)
    merged = systems["retrieved, then network"][0]
    assert merged[:2] == ["ls -a -l", "ls -a"] and len(merged) == len(set(merged))
