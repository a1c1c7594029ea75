"""Score a predictor on benchmark items with the paper's metrics.

A predictor maps a batch of queries to ranked candidates; the model and the
retrieval baseline are both predictors, so they are scored by the same code.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from cfgen.training.data import Pair
from cfgen.languages import get_language, optional
from cfgen.evaluation.metrics import chrf, distinct_ngrams, pairwise_edit_diversity, top_k_match
from cfgen.ranking import RankedCandidate

Predictor = Callable[[list[str]], list[list[RankedCandidate]]]
CUTOFFS = (1, 3, 5)


def score_item(item: Pair, candidates: list[RankedCandidate]) -> dict:
    codes = [c.code for c in candidates]
    result = {
        "query": item.nl,
        "gold": item.code,
        "candidates": [asdict(c) for c in candidates],
        "match": {str(k): top_k_match(codes, item.code, item.lang, k, item.table) for k in CUTOFFS},
        "valid_top1": bool(candidates) and candidates[0].valid,
        # written by the network and not a training program verbatim
        "generated_top1": bool(candidates) and candidates[0].source == "generated" and not candidates[0].seen,
        "distinct_1": distinct_ngrams(codes[:5], 1),
        "distinct_2": distinct_ngrams(codes[:5], 2),
        "edit_diversity": pairwise_edit_diversity(codes[:5]),
    }
    top = codes[0] if codes else ""
    result["chrf"] = chrf(top, item.code)  # how close the arguments and values are, where the metric ignores them
    extra = optional(get_language(item.lang), "extra_metrics")
    result["extra"] = extra(top, item.code) if extra else {}
    return result


def summarise(results: list[dict], lang: str) -> dict:
    count = len(results)
    mean = lambda key: sum(r[key] for r in results) / count if count else 0.0  # noqa: E731
    figures = {f"top{k}": sum(r["match"][str(k)] for r in results) / count if count else 0.0 for k in CUTOFFS}
    figures.update(
        items=count,
        metric=get_language(lang).metric,
        valid_top1=mean("valid_top1"),
        generated_top1=mean("generated_top1"),
        distinct_1=mean("distinct_1"),
        distinct_2=mean("distinct_2"),
        edit_diversity=mean("edit_diversity"),
        chrf=mean("chrf"),
    )
    for name in results[0]["extra"] if results else ():
        figures[name] = sum(r["extra"][name] for r in results) / count
    if note := optional(get_language(lang), "metric_note"):
        figures["note"] = note
    return figures


def evaluate(items: list[Pair], lang: str, predict: Predictor, batch_size: int = 32,
             on_progress: Callable[[int], None] | None = None) -> dict:
    results = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        for item, candidates in zip(chunk, predict([item.nl for item in chunk])):
            results.append(score_item(item, candidates))
        if on_progress:
            on_progress(len(chunk))
    return {"lang": lang, "figures": summarise(results, lang), "items": results}


def evaluate_pipeline(pipeline, items: list[Pair], lang: str, num_candidates: int, steps: int | None, seed: int,
                      strength: float | None, on_progress: Callable[[int], None] | None = None,
                      guidance: float = 1.0) -> dict:
    """`evaluate` with a Pipeline as the predictor; the result also records the model and its settings
    (`steps`: as the pipeline ran, its default for None)."""
    from cfgen.pipeline import DEFAULT_STEPS

    steps = steps or DEFAULT_STEPS
    result = evaluate(items, lang, lambda queries: pipeline(queries, lang, num_candidates, steps, seed, strength,
                                                                guidance=guidance),
                      on_progress=on_progress)
    result.update(
        model=str(pipeline.bundle.directory),
        steps=steps,
        candidates=num_candidates,
        seed=seed,
        guidance=guidance,
        strength=pipeline.effective_strength(strength, lang),
    )
    return result
