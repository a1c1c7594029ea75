"""tldr-style pages as a data source: parsing, placeholders, malformed pages, and pages as training data."""

import time

import pytest

from cfgen.tldr import PageError, is_pages_folder, parse_page, placeholder_kind, placeholders, read_pages

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
    assert skipped == 3 and len(examples) == 4 and time.monotonic() - started < 5
    assert is_pages_folder(tmp_path / "pages") and not is_pages_folder(tmp_path / "nowhere")


def test_pages_join_the_training_corpus_as_bash_pairs_with_a_stable_dev_split(tmp_path):
    from cfgen.corpus import DataSources, gather_corpus
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
    assert gather_corpus("finetune", sources).dev == corpus.dev  # the split is a pure function of the pages
    with pytest.raises(DataError, match="one CodeFusion data folder"):
        DataSources.from_folders([tmp_path / "a", tmp_path / "b"])


def test_a_retrieval_index_built_from_pages_answers_with_the_page_command(tmp_path, encoder):
    from cfgen.corpus import DataSources
    from cfgen.indexing import build_index

    (tmp_path / "tar.md").write_text(TAR)
    (tmp_path / "ss.md").write_text(SS)
    index = build_index(DataSources.from_folders([tmp_path]))
    query = "show the sockets listening on a port"
    found = index.nearest_programs(encoder.encode([query]), "bash", 1, requests=[query])[0][0]
    assert found.code == "ss --listening --tcp src :{{8080}}" and found.request.startswith("Show all TCP sockets")
