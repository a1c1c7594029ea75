"""Requests -> code candidates: encoder, sampler and tokenizer put together."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from cfgen.data import check_language
from cfgen.diffusion import GaussianDiffusion
from cfgen.bundle import GENERATION_CONFIG, read_json, reading
from cfgen.languages import get_language
from cfgen.sampler import sample

DEFAULT_STEPS = 20
# Retrieve-and-edit (models that ship a retrieval index): how far each nearest
# training program is noised before the model denoises it. A model directory's
# generation_config.json holds the strengths chosen on dev for that model
# (`cfgen export --strength LANG=S`); without one, this middle value is used.
FALLBACK_STRENGTH = 0.1


def load_strengths(model_directory: Path) -> dict[str, float]:
    """Per-language default strengths of a model: its generation_config.json, else the fallback."""
    from cfgen import LANGUAGES
    from cfgen.errors import CorruptModelError

    path = Path(model_directory) / GENERATION_CONFIG
    chosen = {}
    if path.is_file():
        try:
            chosen = read_json(path)["strength"]
            if not all(lang in LANGUAGES and type(v) in (int, float) and 0.0 <= v <= 1.0 for lang, v in chosen.items()):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CorruptModelError(f"{path} is not a valid generation config") from None
    return {lang: float(chosen.get(lang, FALLBACK_STRENGTH)) for lang in LANGUAGES}


@dataclass(frozen=True)
class Candidate:
    code: str
    # Higher is better. From noise: the mean token log-probability under the model.
    # Retrieve-and-edit: the similarity of the training utterance it was edited from.
    score: float


@functools.lru_cache(maxsize=2)
def shared_encoder(device: str):
    """One NL encoder per device per process (loading it costs more than a query)."""
    from cfgen.encoder import TextEncoder

    return TextEncoder(device=device)


class CodeGenerator:
    def __init__(self, model_directory: Path, device: str = "cpu", encoder=None, verify: bool = True) -> None:
        """Load a model directory (verified against its checksums unless `verify` is False) as one consistent whole."""
        from cfgen.bundle import load_model
        from cfgen.retrieval import RetrievalIndex

        self.device = device
        with reading(model_directory):
            self.network, self.tokenizer = load_model(model_directory, device, verify=verify)
            self.index = RetrievalIndex.load(model_directory)  # None: no retrieval guidance available
            self.strengths = load_strengths(model_directory)
        self.diffusion = GaussianDiffusion(self.network.config.diffusion_steps, self.network.config.schedule)
        self.encoder = encoder or shared_encoder(device)

    def generate(
        self,
        queries: list[str],
        lang: str,
        num_candidates: int = 5,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        batch_size: int = 32,
        strength: float | None = None,
    ) -> list[list[Candidate]]:
        """`num_candidates` candidates per query.

        strength 1 (or no retrieval index): denoised from pure noise, in draw order.
        strength < 1: candidate i is the i-th nearest training program, with the
        request's values copied in (slots.py), noised to that strength and
        denoised under the query; an edit that fails the language's check gives
        way to the program it came from (0: no edits).
        """
        check_language(lang)
        strength = self.effective_strength(strength, lang)
        results: list[list[Candidate]] = []
        for start in range(0, len(queries), batch_size):
            batch = queries[start : start + batch_size]
            encoded = self.encoder.encode(batch)
            if strength < 1.0:
                results.extend(self._retrieve_and_edit(batch, encoded, lang, num_candidates, steps, seed, strength))
            else:
                results.extend(self._from_noise(encoded, lang, num_candidates, steps, seed))
        return results

    def effective_strength(self, strength: float | None, lang: str) -> float:
        """1.0 (pure noise) without an index; the language's default with one, unless told otherwise."""
        if self.index is None:
            return 1.0
        return self.strengths[lang] if strength is None else strength

    def _condition(self, encoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(e.shape[0] for e in encoded)
        states = torch.zeros((len(encoded), width, encoded[0].shape[-1]))
        mask = torch.zeros((len(encoded), width), dtype=torch.bool)
        for row, e in enumerate(encoded):
            states[row, : e.shape[0]], mask[row, : e.shape[0]] = e.float(), True
        dtype = next(self.network.parameters()).dtype
        with torch.inference_mode():
            return self.network.condition(states.to(self.device, dtype), mask.to(self.device))

    def _sample(self, encoded, lang, num_candidates, steps, seed, start_tokens=None, strength=1.0):
        memory, padding = self._condition(encoded)
        return sample(
            self.network, self.diffusion, memory, padding,
            tag_id=self.tokenizer.tag_ids[lang], end_id=self.tokenizer.end_id,
            length=self._length(lang), num_candidates=num_candidates, steps=steps, seed=seed,
            start_tokens=start_tokens, strength=strength,
        )

    def _retrieval_encodings(self, queries: list[str], encoded: list[torch.Tensor], lang: str) -> list[torch.Tensor]:
        """The queries as the index compares them: encoded again where masked (slots.py)."""
        texts = [self.index.query_text(query, lang) for query in queries]
        changed = [i for i, (text, query) in enumerate(zip(texts, queries)) if text != query]
        if not changed:
            return encoded
        encodings = list(encoded)
        for i, encoding in zip(changed, self.encoder.encode([texts[i] for i in changed])):
            encodings[i] = encoding
        return encodings

    def _length(self, lang: str) -> int:
        config = self.network.config
        return config.sample_lengths.get(lang, config.max_length)

    def _from_noise(self, encoded, lang, num_candidates, steps, seed) -> list[list[Candidate]]:
        sampled = self._sample(encoded, lang, num_candidates, steps, seed)
        return [[Candidate(self.tokenizer.decode(s.tokens), s.score) for s in row] for row in sampled]

    def _retrieve_and_edit(self, queries, encoded, lang, num_candidates, steps, seed, strength) -> list[list[Candidate]]:
        retrieved = self.index.nearest_programs(self._retrieval_encodings(queries, encoded, lang), lang,
                                                num_candidates, requests=queries)
        sources = [row or [Candidate("", 0.0)] for row in retrieved]
        sources = [[row[i % len(row)] for i in range(num_candidates)] for row in sources]  # cycle if too few
        if strength == 0.0:
            return sources
        length = self._length(lang)
        rows = []
        for source in (s for row in sources for s in row):
            ids = self.tokenizer.encode(source.code, lang, length).ids
            rows.append(ids + [self.tokenizer.pad_id] * (length - len(ids)))
        sampled = self._sample(encoded, lang, num_candidates, steps, seed, torch.tensor(rows, dtype=torch.long), strength)
        language = get_language(lang)
        results = []
        for row_sources, row_sampled in zip(sources, sampled):
            edits = (self.tokenizer.decode(s.tokens) for s in row_sampled)
            results.append([Candidate(edit if language.check(edit)[0] else source.code, source.score)
                            for source, edit in zip(row_sources, edits)])
        return results
