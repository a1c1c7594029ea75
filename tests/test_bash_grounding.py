"""Bash answers hold the request's values: read by type and role (bash_values), put into the candidate's
template slots (bash_grounding), a neighbour's value kept only where the request says or implies it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cfgen.languages.bash_grounding import ground, grounded, utility_of
from cfgen.languages.bash_installed import installed
from cfgen.languages.bash_values import age_for, request_values
from cfgen.ranking import Candidate

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("request_text, expected", [
    ("find files bigger than 20MB in /data", [("+20M", "size"), ("/data", "path")]),
    ("make a directory called reports", [("reports", "path")]),
    ("copy every .csv file from in to out", [("*.csv", "pattern"), ("in", "path"), ("out", "path")]),
    ("list all txt files", [("*.txt", "pattern")]),
    ("find all python files under src", [("*.py", "pattern"), ("src", "path")]),
    ("stop the container named api", [("api", "path")]),
    ("set the permissions of a.txt to 600", [("a.txt", "path"), ("600", "permission")]),
    ("make backup.sh executable", [("backup.sh", "path"), ("+x", "permission")]),
    ('delete the file named "my file.txt"', [("my file.txt", "path")]),
    ("commit with the message add b", [("add b", "text")]),
    ("replace apple with pear in fruit.txt", [("s/apple/pear/g", "substitution"), ("fruit.txt", "path")]),
    ("replace every occurrence of a/b by 'c d' in x.md", [("s|a/b|c d|g", "substitution"), ("x.md", "path")]),
    ("replace all spaces with underscores in names.txt", [("s/ /_/g", "substitution"), ("names.txt", "path")]),
    ("print the second column of fruit.txt", [("2", "field"), ("fruit.txt", "path")]),
    ("list files", []),
    # a sentence's full stop ends the value; one file's name is no file kind; determiners and verbs are no places
    ("set the permissions of the current directory to 755.", [("755", "permission")]),
    ("find all test.txt files under here", [("test.txt", "path")]),
    ("find files in your home directory bigger than 100M", [("+100M", "size")]),
    ("find the pdf files, careful to prevent the shell from expanding them", [("*.pdf", "pattern")]),
    ("find all files that belong to group developer", [("developer", "user")]),
    ("convert the markdown files to html", [("*.md", "pattern")]),
    # a quoted word is a text unless said as a place; a user where ownership goes; owner and group at once
    ("search 'foo' in the 'build' directory", [("foo", "text"), ("build", "path")]),
    ('change the owner of "docs" to "bob"', [("docs", "text"), ("bob", "user")]),
    ("change the owner of notes.txt to bob", [("notes.txt", "path"), ("bob", "user")]),
    ('set owner "apache" and group "www" on ./site', [("apache:www", "user"), ("./site", "path")]),
    ("find the hidden files", [(".*", "pattern")]),
    ("copy everything but hidden files", []),
    ("ping 10.0.0.1", [("10.0.0.1", "url")]),
    ("create a tar.gz archive of src named src.tar.gz", [("src", "path"), ("src.tar.gz", "path")]),
    ("unset the DISPLAY variable", [("DISPLAY", "text")]),
    ("find the files whose user ID is root", []),
    # a glob without an extension, a folder said with its slash, a name after "file" (not a word: "file systems")
    ("find all 1US* files here", [("1US*", "pattern")]),
    ("archive the txt files from the dir/ tree", [("*.txt", "pattern"), ("dir/", "path")]),
    ("split the file ADDRESS_LIST in two", [("ADDRESS_LIST", "path")]),
    ("find the file systems of type ext3", []),
])
def test_the_requests_values_are_read_by_type_and_role_in_its_order(request_text, expected):
    assert [(v.text, v.fits[0]) for v in request_values(request_text)] == expected


@pytest.mark.parametrize("request_text, plain", [
    ("show the first 2 lines of app.log", "show the first 2 lines of file.log"),
    ("copy a.txt.gz from /srv/www to src/lib", "copy file.txt.gz from folder to folder"),
    ("replace TODO with DONE in notes.md", "replace foo with bar in file.md"),
    ("delete every *.tmp file under . and ~", "delete every *.tmp file under . and ~"),  # how much is meant stays
    ("list files", "list files"),
])
def test_a_requests_plain_text_says_its_names_as_the_words_examples_use(request_text, plain):
    from cfgen.languages.bash_values import with_places_as_words

    assert with_places_as_words(request_text) == plain


def test_a_command_that_leaves_out_the_folder_a_result_goes_to_ranks_after_one_that_uses_it():
    from cfgen.languages.bash_values import is_target

    request = "extract backup.tar into /srv"
    folder = next(v for v in request_values(request) if v.text == "/srv")
    assert is_target(folder, request) and not is_target(folder, "list the files in /srv")
    near, used = (grounded(Candidate(code, score), request) for code, score in
                  [("cat archive.tar | tar x", 0.82), ("gzip -dc archive.tar.gz | tar -xf - -C /destination", 0.71)])
    assert used.code == "gzip -dc backup.tar | tar -xf - -C /srv" and used.score > near.score


def test_ages_carry_their_comparison_and_are_written_for_the_flag_that_reads_them():
    [older] = request_values("files older than 3 days")
    [recent] = request_values("files changed in the last 24 hours")
    assert (older.text, older.unit) == ("+3", "days") and age_for(older, "-mtime") == "+3"
    assert age_for(recent, "-mtime") == "-1" and age_for(recent, "-mmin") == "-1440"
    assert request_values("files smaller than 2k")[0].text == "-2k"
    # said without a comparison it is exact; "not … in the last" is older; counts said in words are numbers
    assert [v.text for v in request_values("files modified 50 days ago")] == ["50"]
    assert [v.text for v in request_values("files not modified in the last 5 days")] == ["+5"]
    assert [v.text for v in request_values("files changed within the last two weeks")] == ["-2"]


@pytest.mark.parametrize("code, request_text, expected", [
    ("mkdir -p dir", "make a directory called reports", "mkdir -p reports"),
    ("cat text", "show the contents of notes.txt", "cat notes.txt"),
    ("find / -name '*.old' -delete", "delete the file old.json", "find . -name old.json -delete"),
    ("find . -name '*.trc' -ctime +3 -exec ls -l {} \\;", "list files older than 3 days",
     "find . -name {{pattern}} -mtime +3 -exec ls -l {} \\;"),
    ("find /etc -mtime +7", "find files modified in the last 24 hours", "find . -mtime -1"),
    ("docker container stop web", "stop the container named api", "docker container stop api"),
    ("find /tmp -type f -size +100M", "find files bigger than 20MB in /data", "find /data -type f -size +20M"),
    ("chmod 755 run.sh", "make backup.sh executable", "chmod +x backup.sh"),
    ("ls /var/log", "list files", "ls ."),
    ("rm 'a b.txt'", 'delete the file named "my file.txt"', "rm 'my file.txt'"),
    ("ls -la ~", "list the files in my home folder", "ls -la ~"),
    ("tar xzf archive.tar.gz", "extract backup.tar.gz", "tar xzf backup.tar.gz"),
    # an age of hours is written in minutes; the folder the request names is where to look, whatever the program's
    ("find / -mmin -60", "find the files in the file system modified in the last 1 hour", "find / -mmin -60"),
    ("find . -mtime -1", "find the files modified in the last 2 hours", "find . -mmin -120"),
    ("find . -mtime -7", "find the files modified in last 1 hour", "find . -mmin -60"),
    ("find . -type d -mtime $AGE", "find the folders under /srv", "find /srv -type d -mtime {{path}}"),
    ("find ~ -type f -mtime -2", "find files under /myfiles modified in the last 2 days",
     "find /myfiles -type f -mtime -2"),
    ("find . -iname 'foo'", 'find files whose name starts with "MyFile", ignoring the case', "find . -iname 'MyFile*'"),
    ("split -b 20 in.txt", "split input.txt into files of at most 10 bytes", "split -b 10 input.txt"),
    ("find . -name '*.tmp' -exec rm {} \\;", "delete the log files", "find . -name '*.log' -exec rm {} \\;"),
    ("cat -n file.txt | less", 'view notes.txt with line numbers in the pager "less"', "cat -n notes.txt | less"),
    ("find . -type f | wc -l", "count the folders under here", "find . -type d | wc -l"),
    ("find /etc -newer /etc/motd", "find all files/directories under /etc modified after /etc/hosts",
     "find /etc -newer /etc/hosts"),
    ("find /tmp -mtime -3", "find the files under /srv modified exactly 2 days ago", "find /srv -mtime 2"),
    ("find /tmp -atime -3", "find files not accessed in the past 100 days", "find . -atime +100"),
    # a search root takes a folder the request says, never a quoted word or a pattern it gives for another slot
    ("find . -type f -exec grep -il {{text}} {} \\;", "find files containing 'foo' and show their names",
     "find . -type f -exec grep -il foo {} \\;"),
    # -type reads what is looked for, not where ("the current directory", "the src directory")
    ("find . -type d | wc -l", "count the files in the current directory", "find . -type f | wc -l"),
    ("find . -type f -exec chmod 644 {} +", "set all directories under /srv/files to 770",
     "find /srv/files -type d -exec chmod 770 {} +"),
    ("chown -R bob:staff /srv", 'set owner "apache" and group "www" on ./site', "chown -R apache:www ./site"),
    # a plain word the request says as a word gives way to a value it gives; find's quoted terminator stays
    # the command a program runs is its own, never a request's value (the address would run)
    ("echo $(/usr/sbin/arp $(hostname))", "print the reverse lookup of 127.0.0.1", "echo $(/usr/sbin/arp $(hostname))"),
    ("sudo /usr/bin/foo x", "run it on 10.0.0.1", "sudo /usr/bin/foo 10.0.0.1"),
    # find's operators are its own (`!` is no value for the request to fill)
    ("find . -type d ! -perm -111", "find the folders here lacking execute permissions",
     "find . -type d ! -perm -111"),
    # a find that names no folder searches here, said or written
    ("find -type d -exec chmod 755 {} \\;", "set all directories under /srv/www to 755",
     "find /srv/www -type d -exec chmod 755 {} \\;"),
    ("find -name x | wc -l", "count the files named a.txt", "find . -name a.txt | wc -l"),
    ("find --version", "show the version of find", "find --version"),
    ("df -k disk", "report the disk usage of /some/dir in kilobytes", "df -k /some/dir"),
    ("find . -exec grep -l x '{}' '+'", "list the files under /usr/ports that contain QTDIR",
     "find /usr/ports -exec grep -l QTDIR '{}' '+'"),
])
def test_a_neighbours_values_give_way_to_the_requests_and_open_slots_stay_visible(code, request_text, expected):
    assert ground(code, request_text, request_values(request_text))[0] == expected


@pytest.mark.parametrize("code, request_text, expected", [
    ("sed -i 's/foo/bar/g' file.txt", "replace apple with pear in fruit.txt", "sed -i 's/apple/pear/g' fruit.txt"),
    ("sed 's/{{apple}}/{{mango}}/g' {{path/to/file}}", "replace TODO with DONE in notes.md",
     "sed 's/TODO/DONE/g' notes.md"),
    ("sed -e 's|x|y|' a.txt", "replace cat by dog in pets.txt", "sed -e 's|cat|dog|' pets.txt"),
    ("sed 's/^/x/' f", "show f.txt", "sed 's/^/x/' f.txt"),  # no substitution said: the script is the program's
    # what sed would read as code (a regex dot, a quote, a substitution) is never written in: the user fills it in
    ("sed -i 's/foo/bar/g' file.txt", "replace a.b with c in f.txt", "sed -i 's/{{old}}/c/g' f.txt"),
    ("sed -i 's/foo/bar/g' file.txt", "replace x with \"'; rm -rf ~; '\" in f.txt", "sed -i 's/x/{{new}}/g' f.txt"),
    ("perl -pi -e 's/a/b/g' x.txt", "replace apple with pear", "perl -pi -e 's/{{old}}/{{new}}/g' {{path}}"),
    # an awk program reading one field reads the one the request counts
    ("awk '{print $5}' {{path/to/file}}", "print the second column of fruit.txt", "awk '{print $2}' fruit.txt"),
    ("awk '{s+=$1} END {print s}' file", "sum the third column of n.txt", "awk '{s+=$3} END {print s}' n.txt"),
    ("awk '{print $1}' f", "print f.txt", "awk '{print $1}' f.txt"),
])
def test_a_substitution_the_request_says_is_written_into_the_programs_script_or_left_open(code, request_text,
                                                                                          expected):
    assert ground(code, request_text, request_values(request_text))[0] == expected


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list its subcommands")
def test_a_git_subcommand_this_machine_lacks_ranks_later():
    from cfgen.languages.bash_installed import subcommand_installed

    assert subcommand_installed("git", "git log") and subcommand_installed("git", "git -C repo status")
    assert not subcommand_installed("git", "git summary-of-everything")
    lacking = grounded(Candidate("git summary-of-everything", 0.9), "show a summary of the git repository")
    assert lacking.group > grounded(Candidate("git log", 0.5), "show a summary of the git repository").group


def test_a_pages_words_are_its_syntax_and_its_placeholders_take_the_values_even_inside_a_word():
    asked = "show which process listens on port 9090"
    assert grounded(Candidate("ss --listening --tcp src :8080", 0.7, page=True), asked).code == \
        "ss --listening --tcp src :9090"
    assert grounded(Candidate("lsof -i :{{port}}", 0.7, page=True), asked).code == "lsof -i :9090"
    assert grounded(Candidate("mkdir dir", 0.7), "make a directory called reports").code == "mkdir reports"


def test_a_utility_is_named_by_its_name_not_by_an_ordinary_word_that_spells_it():
    from cfgen.languages.bash_asks import names_utility

    assert names_utility("rsync", "copy src to dest with rsync") and names_utility("tree", "show the folders as a tree")
    assert not names_utility("tree", "search the current directory tree for directories")
    assert not names_utility("less", "files of less than 10 bytes") and names_utility("less", 'in the pager "less"')
    # a word in capitals is a marker the request searches for, not the `todo` or `error` utility
    assert not names_utility("todo", "replace TODO with DONE in notes.md") and names_utility("todo", "with todo")
    assert not names_utility("column", "print the second column of a.txt") and names_utility("column", "with column")
    assert not names_utility("sleep", "list the processes named sleep") and names_utility("sleep", "sleep 5 seconds")
    assert not names_utility("go", "go to the folder /srv") and names_utility("go", "build it with go")
    # a file's extension is no utility's name, but an archive's names the tool that reads it
    assert not names_utility("tar", "extract b.tar into dest") and names_utility("tar", "extract it with tar.")
    extract = "extract b.tar into dest"
    assert grounded(Candidate("tar xf a.tar -C d", 0.5), extract).score > \
        grounded(Candidate("bzip2 -dc a.tar | tar xf - -C d", 0.5), extract).score


def test_request_text_lands_quoted_as_one_word_and_never_as_code():
    hostile = 'delete the file named "x; touch /tmp/owned"'
    code, used, _ = ground("rm old.txt", hostile, request_values(hostile))
    assert used == 1 and code == "rm 'x; touch /tmp/owned'"
    for request_text in ('remove "$(reboot)"', "remove '`id`'", 'remove "a\nb"'):
        code = ground("rm old.txt", request_text, request_values(request_text))[0]
        assert code.startswith("rm '") or code == "rm {{path}}", code


def test_candidates_that_leave_the_request_unsaid_or_need_an_absent_utility_rank_later():
    asked = "show the contents of notes.txt"
    plain, absent = grounded(Candidate("cat notes.txt", 0.5), asked), grounded(Candidate("bat notes.txt", 0.6), asked)
    opened = grounded(Candidate("cp a.txt b.txt", 0.5), asked)
    assert installed("cat") and not installed("surely-no-such-utility-here")
    assert absent.group > plain.group if not installed("bat") else True
    assert opened.score < plain.score
    named = grounded(Candidate("rsync -a src dest", 0.4), "copy src to dest with rsync")
    assert named.score > grounded(Candidate("cp -r src dest", 0.4), "copy src to dest with rsync").score
    paged = 'view notes.txt with line numbers in the pager "less"'  # named anywhere in the command
    assert grounded(Candidate("cat -n f | less", 0.5), paged).score > grounded(Candidate("cat -n f", 0.5), paged).score
    assert utility_of("sudo env X=1 find . -name x") == "find"


def test_a_count_of_lines_is_a_requirement_and_head_and_tail_show_the_end_the_request_asks_for():
    [count, _] = request_values("show the last line of app.log")
    assert (count.text, count.unit) == ("1", "lines")
    assert request_values("print the top ten lines of a.txt")[0].text == "10"
    asked = "show the last 3 lines of app.log"
    bare, counted = grounded(Candidate("tail app.log", 0.69), asked), grounded(Candidate("tail -n 8 f", 0.58), asked)
    assert counted.code == "tail -n 3 app.log" and counted.score > bare.score
    head = grounded(Candidate("head -n 3 f", 0.6), asked)
    assert head.score < grounded(Candidate("tail -n 3 f", 0.6), asked).score
    dropping = "remove the last line of a.txt"  # `head -n -1` is what drops it
    assert grounded(Candidate("head -n -1 f", 0.6), dropping).score > grounded(Candidate("tail -n 1 f", 0.6), dropping).score


def test_a_niche_utility_is_offered_only_where_too_few_common_ones_are():
    from cfgen.languages.bash_installed import niche
    from cfgen.pipeline import _common_first

    asked = "delete the folder build"
    assert niche("surely-no-such-tool clean", asked) and not niche("rm -r build", asked)
    assert not niche("surely-no-such-tool clean", "delete it with surely-no-such-tool")
    row = [Candidate(f"surely-no-such-tool-{i} clean", 0.8) for i in range(3)] + \
        [Candidate("rm -r build", 0.6), Candidate("rmdir build", 0.5)]
    assert [c.code for c in _common_first(row, asked, niche, 3)] == \
        ["surely-no-such-tool-0 clean", "rm -r build", "rmdir build"]
    assert [c.code for c in _common_first(row, asked, niche, 2)] == ["rm -r build", "rmdir build"]


def test_a_negation_nobody_asked_for_ranks_later():
    asked = "find all .log files and compress them with gzip"
    keeps = grounded(Candidate("find . -type f -name '*.log' -exec gzip {} \\;", 0.5), asked)
    negates = grounded(Candidate("find . -type f ! -name '*.log' -exec gzip {} \\;", 0.5), asked)
    assert negates.score < keeps.score
    without = "show the lines of app.log without INFO"
    assert grounded(Candidate("grep -v INFO f", 0.5), without).score >= grounded(Candidate("grep INFO f", 0.5), without).score


def test_a_pages_alternatives_are_one_reading_not_pipes():
    extract = "extract b.tar into dest"
    assert ground("tar xf {{path/to/source.tar[.gz|.bz2|.xz]}} --directory {{path/to/directory}}", extract,
                  request_values(extract))[0] == "tar xf b.tar --directory dest"
    around = "show 3 lines around each match of ERROR in app.log"
    assert ground('grep {{--context|--before-context}} 3 "{{search_pattern}}" {{path/to/file}}', around,
                  request_values(around))[0] == "grep --context 3 ERROR app.log"


def test_a_command_that_writes_to_a_file_the_request_only_reads_ranks_last():
    from cfgen.languages.bash_risks import written_files

    assert written_files("yes | head -n10 > n.txt") == {"n.txt"} and written_files("sort x 2> e | tee -a l") == {"e", "l"}
    assert written_files("git < b.txt stripspace") == set()
    asked = "show lines 10 to 12 of n.txt"
    clobbering, reading = grounded(Candidate("yes | head -n10 > n.txt", 0.7), asked), \
        grounded(Candidate("sed -n 10,12p n.txt", 0.5), asked)
    assert clobbering.group > reading.group
    saving = "save the sorted lines of a.txt into b.txt"
    assert grounded(Candidate("sort a.txt > b.txt", 0.5), saving).group == 0


# The everyday requests that answered with another request's values (issue 45's table): what the first answer
# must hold, and what it must not.
EVERYDAY = {"make a directory called reports": ("mkdir", "reports", " dir"),
            "show the contents of notes.txt": ("cat notes.txt", None, "text"),
            "delete the file old.json": ("old.json", None, "*.old"),
            "make backup.sh executable": ("chmod +x backup.sh", None, "mkdir"),
            "copy every .csv file from in to out": ("'*.csv'", " out", "hledger"),
            "stop the container named api": ("stop api", None, "{{"),
            "go to the folder /srv": ("cd /srv", None, "go "),
            "find files bigger than 20MB in /data": ("find /data", "-size +20M", "find / "),
            "count the directories under here": ("-type d", None, "-type f"),
            "list files older than 3 days": ("find . -mtime +3", None, ".trc")}


@pytest.mark.bundled
def test_the_bundled_model_answers_the_everyday_table_with_the_requests_values():
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice

    pipeline = PipelineLoader(ModelChoice(None, "cpu"))()
    firsts = [row[0].code for row in pipeline(list(EVERYDAY), "bash", 5)]
    for (request_text, (wanted, also, unwanted)), best in zip(EVERYDAY.items(), firsts):
        assert wanted in best and (also is None or also in best) and unwanted not in best, (request_text, best)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the execution bench needs bubblewrap")
def test_every_exec_task_passes_with_its_reference_and_fails_when_nothing_is_done():
    sys.path.insert(0, str(ROOT / "bench" / "exec"))
    import sandbox
    from references import REFERENCES
    from tasks import TASKS

    if not sandbox.available():
        pytest.skip("bubblewrap cannot make a sandbox here")
    assert len(TASKS) >= 120 and len({t.request for t in TASKS}) == len(TASKS) == len(REFERENCES)
    sample = TASKS[::9]  # every ninth: the whole list is checked by `python bench/exec/run.py --references`
    assert all(sandbox.passes(t.setup, REFERENCES[t.request], t.check) for t in sample)
    assert not any(sandbox.passes(t.setup, "true", t.check) for t in sample)
    assert not sandbox.passes("", "curl -s -m 2 http://example.com >/dev/null && echo online", "printed online")
    assert sandbox.passes("", "id -u", "printed 1000")  # never root


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the execution bench needs bubblewrap")
def test_the_exec_bench_prints_its_table_and_writes_json(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "exec" / "run.py"), "--limit", "3",
                             "--output", str(tmp_path / "exec.json")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pass@1" in result.stdout and "nearest program" in result.stdout
    written = json.loads((tmp_path / "exec.json").read_text())
    assert set(written["systems"]) == {"cfgen", "nearest program", "cfgen without the filler"} and written["systems"]["cfgen"]["tasks"] == 3


def test_two_subcommands_of_one_tool_are_two_candidates_though_nl2bash_gives_them_one_template():
    from cfgen.languages.bash import normalise
    from cfgen.ranking import rank

    assert normalise("git status") == normalise("git summary")  # the benchmark's template: `git _`
    ranked = rank([Candidate("git summary", 0.9), Candidate("git status", 0.8), Candidate("git status", 0.7)], "bash")
    assert [c.code for c in ranked] == ["git summary", "git status"]
