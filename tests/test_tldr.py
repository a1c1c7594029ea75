"""tldr-style pages as a data source: parsing, placeholders, malformed pages, and pages as training data."""

import json
import time

import pytest

from cfgen.training.tldr import PageError, is_pages_folder, parse_page, placeholder_kind, placeholders, read_pages

TAR = """# tar

> Archiving utility.
> More information: <https://www.gnu.org/software/tar>.

- [c]reate a g[z]ipped archive and write it to a [f]ile:

`tar czf {{path/to/target.tar.gz}} {{path/to/file1 path/to/file2 ...}}`

- E[x]tract an archive into a directory:

`tar xf {{path/to/source.tar}} {{[-C|--directory]}} {{path/to/directory}}`
"""

SS = """# ss

> Utility to investigate sockets.

- Show all TCP sockets listening on port `8080`:

`ss {{[-lt|--listening --tcp]}} src :{{8080}}`

- Filter sockets by state, `established` or `listening`:

`ss state {{established|listening}}`
"""


def test_a_page_gives_its_examples_without_mnemonics_with_long_options_and_value_placeholders():
    examples = parse_page(TAR)
    assert [e.description for e in examples] == ["create a gzipped archive and write it to a file",
                                                 "Extract an archive into a directory"]
    assert examples[1].command == "tar xf {{path/to/source.tar}} --directory {{path/to/directory}}"
    assert placeholders(examples[0].command) == ["path/to/target.tar.gz", "path/to/file1 path/to/file2 ..."]
    ss = parse_page(SS)
    assert ss[0].description == "Show all TCP sockets listening on port 8080"
    assert ss[0].command == "ss --listening --tcp src :{{8080}}" and ss[1].command == "ss state {{established|listening}}"
    assert all(e.page == "ss" for e in ss)


@pytest.mark.parametrize("name, kind", [("path/to/file", "path"), ("8080", "number"), ("port", "port"),
                                        ("username", "user"), ("https://example.com", "url"), ("*.py", "pattern"),
                                        ("pattern", "pattern"), ("package_name", "text"), ("example.com", "url")])
def test_placeholders_have_kinds(name, kind):
    assert placeholder_kind(name) == kind


@pytest.mark.parametrize("text, why", [
    ("- list files:\n\n`ls {{path/to/dir`\n", "no '# command' title"),
    ("# ls\n\n- list files:\n\n`ls {{path/to/dir`\n", "unclosed placeholder"),
    ("# ls\n\n- list files:\n\n- list more:\n\n`ls -la`\n", "has no command"),
    ("# ls\n\n- list files:\n", "has no command"),
])
def test_malformed_pages_are_refused_with_a_reason(text, why):
    with pytest.raises(PageError, match=why):
        parse_page(text)


def test_a_folder_of_pages_counts_what_it_skips_and_never_hangs(tmp_path):
    pages = tmp_path / "pages" / "common"
    pages.mkdir(parents=True)
    (pages / "tar.md").write_text(TAR)
    (pages / "ss.md").write_text(SS)
    (pages / "broken.md").write_text("# broken\n\n- do it:\n\n`do {{thing`\n")
    (pages / "latin1.md").write_bytes("# caf\xe9\n\n- x:\n\n`x`\n".encode("latin-1"))
    (pages / "huge.md").write_text("# huge\n\n" + "- a:\n\n`a`\n\n" * 1_000_000)  # ~10 MB
    (pages / "alias.md").write_text("# bzcat\n\n> This command is an alias of `bzip2 -dc`.\n")
    started = time.monotonic()
    examples, skipped = read_pages(tmp_path / "pages")
    assert skipped == 3 and len(examples) == 4 and time.monotonic() - started < 30  # against loops, not a timing
    assert is_pages_folder(tmp_path / "pages") and not is_pages_folder(tmp_path / "nowhere")


def test_only_pages_inside_the_folder_are_read(tmp_path, caplog):
    pages, elsewhere = tmp_path / "pages" / "common", tmp_path / "elsewhere"
    pages.mkdir(parents=True)
    elsewhere.mkdir()
    (pages / "tar.md").write_text(TAR)
    (elsewhere / "ss.md").write_text(SS)
    (pages / "ss.md").symlink_to(elsewhere / "ss.md")  # a link out of the folder
    (pages / "tar-again.md").symlink_to(pages / "tar.md")  # a link inside it
    examples, _ = read_pages(tmp_path / "pages")
    commands = {example.command.split()[0] for example in examples}
    assert commands == {"tar"} and "linked from outside" in caplog.text


def test_pages_join_the_training_corpus_as_bash_pairs_with_a_stable_dev_split(tmp_path):
    from cfgen.training.corpus import DataSources, gather_corpus
    from cfgen.errors import DataError

    (tmp_path / "tar.md").write_text(TAR)
    (tmp_path / "ss.md").write_text(SS)
    sources = DataSources.from_folders([tmp_path])
    assert sources.page_dirs == [tmp_path] and sources.data_dir is None
    corpus = gather_corpus("finetune", sources)
    everything = corpus.pairs + corpus.dev
    assert {p.lang for p in everything} == {"bash"} and len(everything) == 4
    assert ("Extract an archive into a directory",
            "tar xf {{path/to/source.tar}} --directory {{path/to/directory}}") in {(p.nl, p.code) for p in everything}
    assert corpus.dev == []  # a user's own pages: every example trains and is indexed, none held out silently
    held_out = gather_corpus("finetune", DataSources.from_folders([tmp_path], page_dev=True))
    assert len(held_out.pairs) + len(held_out.dev) == 4
    assert gather_corpus("finetune", DataSources.from_folders([tmp_path], page_dev=True)).dev == held_out.dev  # stable
    with pytest.raises(DataError, match="one CodeFusion data folder"):
        DataSources.from_folders([tmp_path / "a", tmp_path / "b"])


def test_a_retrieval_index_built_from_pages_answers_with_the_page_command(tmp_path, encoder):
    from cfgen.training.corpus import DataSources
    from cfgen.training.indexing import build_index

    (tmp_path / "tar.md").write_text(TAR)
    (tmp_path / "ss.md").write_text(SS)
    index = build_index(DataSources.from_folders([tmp_path]))
    query = "show the sockets listening on a port"
    found = index.nearest_programs(encoder.encode([query]), "bash", 1, requests=[query])[0][0]
    assert found.code == "ss --listening --tcp src :{{8080}}" and found.request.startswith("Show all TCP sockets")


@pytest.mark.parametrize("command, asked, expected", [
    ("tar xf {{path/to/source.tar}} --directory {{path/to/directory}}", "extract backup.tar into /srv/www",
     "tar xf backup.tar --directory /srv/www"),
    ("ss --listening --tcp src :{{8080}}", "show sockets listening on port 9000", "ss --listening --tcp src :9000"),
    ("find {{path/to/directory}} -name {{*.ext}}", "find all *.py files in ~/code", "find ~/code -name '*.py'"),
    ("curl {{https://example.com}} -o {{path/to/file}}", "download https://x.io/a.zip to a.zip",
     "curl https://x.io/a.zip -o a.zip"),
    ("grep {{search_pattern}} {{path/to/file}}", 'search for "error" in app.log', "grep error app.log"),
    ("rm {{path/to/file}}", 'delete "my notes.txt"', "rm 'my notes.txt'"),
    ("ffmpeg -i {{path/to/video.mp4}} {{path/to/audio.mp3}}", "turn clip.mp4 into song.mp3",
     "ffmpeg -i clip.mp4 song.mp3"),  # extensions with digits are values too
    ("tar xf {{path/to/source.tar}}", "extract the archive", "tar xf {{path/to/source.tar}}"),  # nothing named
])
def test_placeholders_take_the_values_the_request_names_by_kind(command, asked, expected):
    from cfgen.values.slots import fill_placeholders

    assert fill_placeholders(command, asked) == expected


@pytest.mark.parametrize("code, asked, expected", [
    ("rsync -av /path/to/files user@host:/path", "sync my files", ["/path/to/files", "/path"]),
    ("tar -xf filename.tar", "extract the tarball", ["filename.tar"]),
    ("cp myfile.txt /tmp", "copy myfile.txt to /tmp", []),  # the request named it: the user's own value
    ("sed 's/<th>//' page.html", "strip the table headers", []), ("echo $myVariable", "print it", []),
])
def test_stand_in_values_of_retrieved_programs_are_found_unless_the_request_names_them(code, asked, expected):
    from cfgen.values.slots import stand_ins

    assert stand_ins(code, asked) == expected


def test_a_model_trained_on_pages_fills_slots_and_flags_what_it_cannot(tmp_path):
    from typer.testing import CliRunner

    from cfgen.commands.app import app

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "tar.md").write_text(TAR)
    (pages / "ss.md").write_text(SS)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", str(tmp_path / "model"), "--data", str(pages), "--size", "tiny",
                                  "--vocab-size", "300", "--steps", "20", "--batch-size", "4", "--eval-every", "0"])
    assert trained.exit_code == 0, trained.output
    model = ["-m", str(tmp_path / "model"), "--strength", "0"]
    filled = runner.invoke(app, ["generate", "extract the archive backup.tar into /srv", *model])
    assert filled.stdout == "tar xf backup.tar --directory /srv\n" and "fill in" not in filled.stderr
    bare = runner.invoke(app, ["generate", "extract an archive into a directory", *model, "--json"])
    best = json.loads(bare.stdout)["candidates"][0]
    assert best["code"] == "tar xf {{path/to/source.tar}} --directory {{path/to/directory}}"
    assert best["placeholders"] == ["path/to/source.tar", "path/to/directory"]
    piped = runner.invoke(app, ["generate", "extract an archive into a directory", *model])
    assert "fill in path/to/source.tar, path/to/directory before running" in piped.stderr


def test_commands_and_the_words_that_name_them():
    from cfgen.retrieval.corpora import command_of, named_commands

    assert [command_of(c) for c in ("sudo ss -lt", "FOO=1 env rsync -av a b", "/usr/bin/tar xf x", "")] == [
        "ss", "rsync", "tar", ""]
    assert named_commands("Use rsync to copy the files with ss") == {"rsync", "copy", "ss"}


def test_the_columns_running_a_command_are_the_same_looked_up_one_by_one_or_read_all_at_once():
    from cfgen.retrieval.corpora import CommandColumns

    programs = ["find . -name '*.txt' | xargs grep -l foo", "ls -l", "sudo tar xf a.tar", "echo find", "grep -r x ."]
    lazy, eager = CommandColumns(programs), CommandColumns(programs)
    eager.LOOKUPS_BEFORE_ALL = 0  # the first lookup reads every program
    words = ["grep", "find", "tar", "echo", "sudo", "ls", "missing", "xargs"]
    assert [eager.columns_running(w) for w in words] == [lazy.columns_running(w) for w in words] == [
        [0, 4], [0], [2], [3], [], [1], [], []]  # xargs starts the command it runs: grep


def test_page_rows_weigh_less_unless_the_request_names_their_command(tmp_path, encoder):
    from cfgen.model_files.bundle import index_files
    from cfgen.training.corpus import DataSources, gather_corpus
    from cfgen.training.data import Pair
    from cfgen.retrieval.index import RetrievalIndex

    (tmp_path / "ss.md").write_text(SS)
    pages = gather_corpus("finetune", DataSources.from_folders([tmp_path])).pairs + gather_corpus(
        "finetune", DataSources.from_folders([tmp_path])).dev
    pairs = [Pair("show every listening tcp socket", "netstat -tln", "bash")] + pages
    index = RetrievalIndex.build(pairs, encoder.encode([p.nl for p in pairs]))
    assert index.pages == frozenset(range(1, len(pairs)))
    index.save(index_files(tmp_path / "model"))
    assert RetrievalIndex.load(index_files(tmp_path / "model")).pages == index.pages

    def best(request, margin, bonus):
        index.margin, index.bonus = margin, bonus
        return index.neighbours(encoder.encode([request]), "bash", 1, requests=[request])[0][0]

    assert best("show all tcp sockets listening", 1.0, 0.0)[0] == "netstat -tln"  # a margin no page row makes up
    assert best("with ss show all tcp sockets listening", 1.0, 2.0)[0].startswith("ss ")  # unless it is named


def test_a_model_card_credits_tldr_pages_when_its_index_holds_them():
    import torch

    from cfgen.model_files.card import model_card
    from cfgen.config import preset
    from cfgen.training.data import Pair
    from cfgen.model import CodeFusionModel
    from cfgen.retrieval.index import RetrievalIndex

    network = CodeFusionModel(preset("tiny", vocab_size=300))
    pairs = [Pair("count lines", "wc -l a", "bash"), Pair("Count words", "wc --words {{file}}", "bash", from_pages=True)]
    index = RetrievalIndex.build(pairs, [torch.randn(3, 384), torch.randn(2, 384)])
    assert "tldr-pages contributors, CC BY 4.0, changed" in model_card(network, index)
    assert "1 Bash example from" in model_card(network, index)
    assert "tldr" not in model_card(network, RetrievalIndex.build(pairs[:1], [torch.randn(3, 384)]))
    assert "tldr" not in model_card(network)


@pytest.mark.parametrize("command, fill_in", [
    ("tar {{{{a}}}} {{}}", ["a", "value"]),
    ("x {{ }} {{path/to/file}}", ["value", "path/to/file"]),
    ("""echo '{{{"key": "value"}}}' | python -m json.tool""", ['{"key": "value"}']),
    ("for i in {{{1..3}}}; do {{echo $i}}; done", ["{1..3}", "echo $i"]),
])
def test_odd_placeholders_give_a_clean_fill_in_list(command, fill_in):
    """No half-braced names (`{{a`) and no empty ones: each placeholder is named as the user must fill it in."""
    from cfgen.training.tldr import PLACEHOLDER, placeholders

    assert placeholders(command) == fill_in
    assert "{{" not in PLACEHOLDER.sub("V", command) and "}}" not in PLACEHOLDER.sub("V", command)


STAT_OSX = "# stat\n\n> Display file status.\n\n- Show the size of a file in bytes:\n\n`stat -f %z {{path/to/file}}`\n"
STAT_LINUX = "# stat\n\n> Display file status.\n\n- Show the size of a file in bytes:\n\n`stat -c %s {{path/to/file}}`\n"


def test_a_command_for_another_platform_ranks_after_this_ones_and_says_so(tmp_path, encoder):
    from cfgen.model_files.bundle import index_files
    from cfgen.training.corpus import DataSources
    from cfgen.training.indexing import build_index
    from cfgen.retrieval.index import RetrievalIndex

    for platform, page in (("osx", STAT_OSX), ("linux", STAT_LINUX)):
        (tmp_path / "pages" / platform).mkdir(parents=True)
        (tmp_path / "pages" / platform / "stat.md").write_text(page)
    index = build_index(DataSources.from_folders([tmp_path / "pages"]))
    index.save(index_files(tmp_path / "model"))
    index = RetrievalIndex.load(index_files(tmp_path / "model"))  # the platforms are kept with the index
    query = "show the size of the file video.mp4 in bytes"

    def answers(platform):
        index.platform = platform
        found = index.nearest_programs(encoder.encode([query]), "bash", 2, requests=[query])[0]
        return [(candidate.code, candidate.platform) for candidate in found]

    assert answers("linux") == [("stat -c %s video.mp4", None), ("stat -f %z video.mp4", "osx")]
    assert answers("osx") == [("stat -f %z video.mp4", None), ("stat -c %s video.mp4", "linux")]
    # the pipeline offers Bash programs as written (bash.fills_values), and the language's settle fills them
    from cfgen.languages.bash_grounding import grounded
    from cfgen.ranking import Candidate

    assert grounded(Candidate("stat -c %s {{path/to/file}}", 0.5, page=True), query).code == "stat -c %s video.mp4"


def test_json_and_the_table_say_which_platform_a_command_is_for():
    from cfgen.answering.answer import Answer, Request
    from cfgen.ranking import RankedCandidate
    from cfgen.answering.render import _made

    mac = RankedCandidate("stat -f %z a", 0.9, True, "ok", source="retrieved", seen=True, platform="osx")
    record = Answer(Request("size of a", "bash"), [mac]).to_json()["candidates"][0]
    assert record["platform"] == "osx" and _made(mac) == "retrieved, seen, osx only"
    assert "platform" not in Answer(Request("x", "bash"), [RankedCandidate("ls", 1, True, "ok")]).to_json()["candidates"][0]


DEPLOY = "# deploy\n\n> Our deployment tool.\n\n- Deploy a branch to staging:\n\n`deploy --branch {{branch_name}} --env staging`\n"


def test_pages_added_to_a_models_index_are_answered_and_the_rest_is_kept(tmp_path, tiny_model):
    import json

    from typer.testing import CliRunner

    from cfgen.model_files.bundle import index_files
    from cfgen.commands.app import app
    from cfgen.retrieval.index import RetrievalIndex

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "deploy.md").write_text(DEPLOY)
    runner = CliRunner()
    exported = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "grown"), "--add-pages",
                                   str(tmp_path / "pages")])
    assert exported.exit_code == 0, exported.stderr
    before = RetrievalIndex.load(index_files(tiny_model))
    after = RetrievalIndex.load(index_files(tmp_path / "grown"))
    assert after.codes[: len(before.codes)] == before.codes and len(after.codes) == len(before.codes) + 1
    assert after.pages == before.pages | {len(before.codes)}
    answer = runner.invoke(app, ["generate", "deploy a branch to staging", "-m", str(tmp_path / "grown"), "--lang",
                                 "bash", "--strength", "0", "--json"])
    assert json.loads(answer.stdout)["candidates"][0]["code"] == "deploy --branch {{branch_name}} --env staging"


def test_export_index_of_puts_another_models_index_beside_this_network_and_checks_its_files(tiny_model, tmp_path):
    """`--index-of` swaps a retrained network in beside an existing index: the index (here one with a page added)
    is taken as it is, its files verified; asking to build one as well is a usage error."""
    from typer.testing import CliRunner

    from cfgen.model_files.bundle import index_files
    from cfgen.commands.app import app
    from cfgen.retrieval.index import RetrievalIndex

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "deploy.md").write_text(DEPLOY)
    runner = CliRunner()
    grown = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "grown"), "--add-pages", str(tmp_path / "pages")])
    assert grown.exit_code == 0, grown.stderr
    swapped = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "swapped"), "--index-of", str(tmp_path / "grown")])
    assert swapped.exit_code == 0, swapped.stderr
    assert RetrievalIndex.load(index_files(tmp_path / "swapped")).codes == RetrievalIndex.load(index_files(tmp_path / "grown")).codes
    both = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "both"), "--index-of", str(tmp_path / "grown"),
                               "--index-from", str(tmp_path)])
    assert both.exit_code == 2 and "give one of them" in both.stderr
    entries = next((tmp_path / "grown" / "retrieval").glob("entries*"))
    entries.write_bytes(entries.read_bytes().replace(b"deploy", b"reboot"))
    tampered = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "bad"), "--index-of", str(tmp_path / "grown")])
    assert tampered.exit_code == 6 and not (tmp_path / "bad").exists()


def test_export_add_pairs_indexes_a_pairs_file_of_any_language(tiny_model, tmp_path):
    import json

    from typer.testing import CliRunner

    from cfgen.commands.app import app

    pairs = tmp_path / "more.jsonl"
    pairs.write_text(json.dumps({"nl": "highlight cells above 5 and below 9", "code": "AND(GreaterThan(5),LessThan(9))",
                                 "lang": "cf"}) + "\n")
    runner = CliRunner()
    exported = runner.invoke(app, ["export", str(tiny_model), str(tmp_path / "more"), "--add-pairs", str(pairs)])
    assert exported.exit_code == 0, exported.stderr
    answer = runner.invoke(app, ["generate", "highlight cells above 2 and below 4", "-m", str(tmp_path / "more"),
                                 "--lang", "cf", "--strength", "0", "--json"])
    first = json.loads(answer.stdout)["candidates"][0]
    # its values carried, the rule written canonically
    assert (first["code"], first["source"]) == ("AND(GreaterThan(2), LessThan(4))", "retrieved")
