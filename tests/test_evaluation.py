"""Metrics, the evaluation report, and the gold-against-itself sanity check."""

import json

import pytest

from conftest import benchmark_items
from cfgen.evaluation.evaluate import evaluate
from cfgen.evaluation.metrics import distinct_ngrams, normalised_edit_distance, pairwise_edit_diversity
from cfgen.ranking import Candidate, rank
from cfgen.languages import language_names


@pytest.mark.parametrize("lang", language_names())
def test_gold_scored_against_itself_gives_one(lang):
    items = benchmark_items(lang)
    golds = iter(item.code for item in items)  # utterances repeat with other code: go by position
    report = evaluate(items, lang, lambda queries: [rank([Candidate(next(golds), 0.0)], lang) for _ in queries])
    figures = report["figures"]
    assert figures["items"] == len(items)
    assert figures["top1"] == figures["top3"] == figures["top5"] == 1.0
    if lang == "python":
        assert figures["chrf"] == pytest.approx(100.0) and figures["bleu"] == pytest.approx(100.0)


def test_wrong_answers_score_zero_and_k_matters():
    items = benchmark_items("bash")[:20]
    golds = iter(item.code for item in items)

    def third_is_right(queries):
        return [[*rank([Candidate("cal", -0.1), Candidate("uptime", -0.2)], "bash"),
                 *rank([Candidate(next(golds), -0.3)], "bash")] for _ in queries]

    figures = evaluate(items, "bash", third_is_right)["figures"]
    right_by_accident = sum(item.code.strip() in ("cal", "uptime") for item in items) / len(items)
    assert figures["top1"] == pytest.approx(right_by_accident) and figures["top3"] == 1.0


def test_diversity_metrics():
    assert distinct_ngrams(["a b c", "a b c"], 1) == 0.5
    assert distinct_ngrams(["a b", "c d"], 2) == 1.0
    assert normalised_edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert pairwise_edit_diversity(["same", "same", "same"]) == 0.0
    assert pairwise_edit_diversity(["only one"]) == 0.0


def test_eval_command_writes_a_report(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from cfgen.commands.app import app

    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"dev": [
        {"NL Utterance": "count the lines in file.txt", "Code": "wc -l file.txt"},
        {"NL Utterance": "show the disk usage of my home folder", "Code": "du -sh ~"},
    ]}))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["eval", str(bench), "--lang", "bash", "--model", str(tiny_model),
                                      "-n", "3", "--steps", "10", "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["figures"]["top1"] == 1.0 and data["figures"]["items"] == 2
    assert len(data["items"][0]["candidates"]) >= 1 and "valid" in data["items"][0]["candidates"][0]


@pytest.mark.parametrize("lang", ["cf", "bash"])
@pytest.mark.parametrize("bad_item", [[1, 2], "text", {"NL Utterance": "x", "Code": ["TextEquals(a)"]}])
def test_a_benchmark_item_that_is_not_an_object_of_text_is_named(tmp_path, lang, bad_item):
    from cfgen.training.data import load_benchmark
    from cfgen.errors import DataError

    good = {"NL Utterance": "Style values which are N/A", "Code": "TextEquals(N/A)", "Data": [["Value"], ["N/A"]]}
    path = tmp_path / "benchmark.json"
    path.write_text(json.dumps({"dev": [good, bad_item]}))
    with pytest.raises(DataError, match="item 1 of 'dev'"):
        load_benchmark(path, "dev", lang)


def test_a_benchmark_item_with_a_null_request_is_skipped_not_scored_as_none(tmp_path):
    from cfgen.training.data import load_benchmark

    path = tmp_path / "benchmark.json"
    path.write_text(json.dumps({"dev": [{"NL Utterance": None, "Code": "print(1)"}, {"NL Utterance": "x", "Code": "y"}]}))
    assert [pair.nl for pair in load_benchmark(path, "dev", "python")] == ["x"]
