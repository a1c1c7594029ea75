"""Requests -> ranked candidates: encode, condition, run the reverse process (or retrieve and edit), decode, rank.

The one entry used by the CLI, `cfgen eval` and bench/. Each query's
candidates are drawn from `Generator(seed)`, so a query's answer does not
depend on the batch it came in. The reverse process is the model's
forward process's own (`cfgen.processes.Process.generate`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from cfgen import LANGUAGES
from cfgen.bundle import Bundle, load_bundle
from cfgen.conditioning import Conditioning
from cfgen.encodings import pad_states
from cfgen.errors import UsageError
from cfgen.languages import get_language
from cfgen.neighbours import neighbour_ids, neighbour_tensors, retrieval_encodings
from cfgen.processes import DenoisingNetwork, Process, make_process
from cfgen.ranking import Candidate, RankedCandidate, rank
from cfgen.slots import fill_placeholders

DEFAULT_STEPS = 20


@dataclass
class SampledSequence:
    tokens: list[int]  # argmax token per position, language tag first
    score: float  # mean log-probability of the tokens up to and including the end token


# An aligned model's j-th candidate reads the request's (j mod k)-th program position by position (the
# first candidate the nearest), so that candidates start from different programs, as retrieval's do.
CANDIDATES_ALIGN_TO_EACH_PROGRAM = True


def sample(network: DenoisingNetwork, process: Process, condition: Conditioning, tag_id: int, end_id: int, length: int,
           num_candidates: int, steps: int, seed: int = 0, start_tokens: torch.Tensor | None = None,
           strength: float = 1.0) -> list[list[SampledSequence]]:
    """`num_candidates` sequences for each of Q queries (`condition` holds Q rows), all in one batch.

    With `start_tokens` (Q*n, L), the process edits those programs (how far: `strength`).
    """
    queries = condition.memory.shape[0]
    candidates = condition.repeat(num_candidates, rotate_aligned=CANDIDATES_ALIGN_TO_EACH_PROGRAM)
    tokens, log_probs = process.generate(network, candidates, tag_id=tag_id, length=length,
                                         num_candidates=num_candidates, steps=steps, seed=seed,
                                         start_tokens=start_tokens, strength=strength)
    sequences = [_score(tokens[i].tolist(), log_probs[i].tolist(), end_id) for i in range(tokens.shape[0])]
    return [sequences[q * num_candidates : (q + 1) * num_candidates] for q in range(queries)]


def _score(tokens: list[int], log_probs: list[float], end_id: int) -> SampledSequence:
    stop = tokens.index(end_id, 1) + 1 if end_id in tokens[1:] else len(tokens)
    kept = log_probs[1:stop] or [0.0]
    return SampledSequence(tokens=tokens, score=sum(kept) / len(kept))


def _edited_or_source(edit: str, source: RankedCandidate, language) -> Candidate:
    """The model's edit if it passes the language's check and changes the program; else the retrieved program."""
    if edit != source.code and language.check(edit)[0]:
        return Candidate(edit, source.score, "edited", request=source.request)
    return Candidate(source.code, source.score, "retrieved", request=source.request, stand_ins=tuple(source.unfilled))


@functools.lru_cache(maxsize=2)
def shared_encoder(device: str):
    """One NL encoder per device per process (loading it costs more than a query)."""
    from cfgen.encoder import TextEncoder

    return TextEncoder(device=device)


class Pipeline:
    def __init__(self, bundle: Bundle, device: str = "cpu", encoder=None) -> None:
        self.bundle, self.device = bundle, device
        self.network, self.tokenizer, self.index = bundle.network, bundle.tokenizer, bundle.index
        config = self.network.config
        self.process = make_process(config.process, config.diffusion_steps, config.schedule)
        self.encoder = encoder or shared_encoder(device)

    @classmethod
    def from_directory(cls, directory: Path, device: str = "cpu", encoder=None, verify: bool = True) -> "Pipeline":
        """A pipeline over a model directory, verified against its checksums unless `verify` is False."""
        return cls(load_bundle(directory, device, verify), device, encoder)

    def __call__(self, queries: list[str], lang: str, num_candidates: int = 5, steps: int = DEFAULT_STEPS,
                 seed: int = 0, strength: float | None = None, batch_size: int = 32) -> list[list[RankedCandidate]]:
        """Ranked candidates per query, best first (at most `num_candidates`; fewer if some coincide), each
        labelled with how it was made (`source`: generated, edited or retrieved) and whether the program occurs
        verbatim in the training data (`seen`).

        strength 1 (or no retrieval index): denoised from pure noise; a model
        that reads retrieved programs ranks them after its own candidates
        (so that they fill the places its duplicates leave). strength
        < 1: candidate i is the i-th nearest training program with the
        request's values put in (slots.py), noised to that strength and
        denoised under the query; an edit that fails the language's check
        gives way to the program it came from (0: the programs unedited).
        """
        if lang not in LANGUAGES:
            raise UsageError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
        if not 1 <= steps <= self.process.num_steps:
            raise UsageError(f"--steps must be between 1 and {self.process.num_steps} for this model")
        strength = self.effective_strength(strength, lang)
        results: list[list[RankedCandidate]] = []
        for start in range(0, len(queries), batch_size):
            batch = queries[start : start + batch_size]
            encoded = self.encoder.encode(batch)
            if strength == 0.0:
                results.extend(self._retrieved(batch, encoded, lang, num_candidates))
            elif strength < 1.0:
                results.extend(rank(row, lang) for row in self._edited(batch, encoded, lang, num_candidates, steps,
                                                                       seed, strength))
            else:
                # a model that reads retrieved programs: the requests as the index compares them, encoded once
                query = self._retrieval_encodings(batch, encoded, lang) if self.network.config.neighbours else None
                rows = self._from_noise(batch, encoded, lang, num_candidates, steps, seed, query)
                results.extend(rank(row, lang)[:num_candidates] for row in self._completed(rows, batch, encoded, lang,
                                                                                          num_candidates, query))
        return [[self._labelled(candidate) for candidate in row] for row in results]

    def effective_strength(self, strength: float | None, lang: str) -> float:
        """1.0 (pure noise) without an index; the model's default for the language with one, unless told otherwise."""
        if self.index is None:
            return 1.0
        return self.bundle.strengths[lang] if strength is None else strength

    def how(self, lang: str, steps: int, strength: float | None) -> str:
        """How this language's candidates are made, in a few words (the terminal's `made` column agrees)."""
        strength = self.effective_strength(strength, lang)
        if strength == 1.0:
            after = ", then retrieved" if self.network.config.neighbours else ""
            return f"{lang}: generated from noise ({steps} steps){after}"
        if strength == 0.0:
            return f"{lang}: retrieved (nearest training programs)"
        return f"{lang}: retrieved, then edited ({steps} steps)"

    def _labelled(self, candidate: RankedCandidate) -> RankedCandidate:
        """`seen`: the program occurs verbatim in the training data, whichever path (`source`) wrote it."""
        seen = self.index is not None and candidate.code in self._training_programs
        return replace(candidate, seen=seen) if seen else candidate

    @functools.cached_property
    def _training_programs(self) -> frozenset[str]:
        return frozenset(self.index.codes)

    # -- the three ways candidates are made ----------------------------------------------------
    def conditioning(self, queries: list[str], encoded: list[torch.Tensor], lang: str,
                     query_encodings: list[torch.Tensor] | None = None) -> Conditioning:
        """The networks' view of encoded requests: E_s, padded and projected, and, for a model that reads
        them, the requests' nearest training programs (found with `query_encodings`, the requests as the
        index compares them, when the caller has them already)."""
        states, mask = pad_states(encoded)
        dtype = next(self.network.parameters()).dtype
        neighbours = neighbour_mask = None
        k = self.network.config.neighbours
        if k:
            if query_encodings is None:
                query_encodings = self._retrieval_encodings(queries, encoded, lang)
            rows = neighbour_ids(self.index, self.tokenizer, queries, query_encodings, lang, k, self.sample_length(lang))
            neighbours, neighbour_mask = neighbour_tensors(rows, k, self.sample_length(lang), self.tokenizer.pad_id)
            neighbours, neighbour_mask = neighbours.to(self.device), neighbour_mask.to(self.device)
        with torch.inference_mode():
            return self.network.condition(states.to(self.device, dtype), mask.to(self.device), neighbours, neighbour_mask)

    def sample_length(self, lang: str) -> int:
        """How many positions (tag, code, end, padding) the sampler denoises for this language."""
        config = self.network.config
        return config.sample_lengths.get(lang, config.max_length)

    def _sample(self, queries, encoded, lang, num_candidates, steps, seed, start_tokens=None, strength=1.0,
                query_encodings=None):
        condition = self.conditioning(queries, encoded, lang, query_encodings)
        return sample(self.network, self.process, condition, tag_id=self.tokenizer.tag_ids[lang],
                      end_id=self.tokenizer.end_id, length=self.sample_length(lang), num_candidates=num_candidates,
                      steps=steps, seed=seed, start_tokens=start_tokens, strength=strength)

    def _from_noise(self, queries, encoded, lang, num_candidates, steps, seed, query_encodings=None
                    ) -> list[list[Candidate]]:
        sampled = self._sample(queries, encoded, lang, num_candidates, steps, seed, query_encodings=query_encodings)
        return [[Candidate(self._written(s, query, lang), s.score, group=self._aligned_rank(j))
                 for j, s in enumerate(row)] for row, query in zip(sampled, queries)]

    def _written(self, sampled: SampledSequence, request: str, lang: str) -> str:
        """A sampled program as text, with the request's values in the placeholders a slots model writes."""
        code = self.tokenizer.decode(sampled.tokens)
        return fill_placeholders(code, request, lang) if "{{" in code and lang != "cf" else code

    def _completed(self, rows: list[list[Candidate]], queries, encoded, lang, num_candidates,
                   query_encodings=None) -> list[list[Candidate]]:
        """A model that reads retrieved programs: each row followed by those programs, ranked after every
        generated candidate, so that they fill what duplicates left empty. Other models: the rows as they are."""
        if not self.network.config.neighbours:
            return rows
        after = self.network.config.neighbours  # a group below every aligned candidate's
        retrieved = self._retrieved(queries, encoded, lang, num_candidates, query_encodings)
        return [row + [Candidate(c.code, c.score, "retrieved", group=after, request=c.request, stand_ins=tuple(c.unfilled))
                       for c in programs]
                for row, programs in zip(rows, retrieved)]

    def _aligned_rank(self, candidate: int) -> int:
        """Which retrieved program the candidate-th candidate read position by position (0 unless aligned)."""
        config = self.network.config
        return candidate % config.neighbours if config.aligned and CANDIDATES_ALIGN_TO_EACH_PROGRAM else 0

    def _retrieved(self, queries, encoded, lang, num_candidates, query_encodings=None) -> list[list[RankedCandidate]]:
        """The nearest distinct programs, valid first (already ranked by the index)."""
        if query_encodings is None:
            query_encodings = self._retrieval_encodings(queries, encoded, lang)
        return self.index.nearest_programs(query_encodings, lang, num_candidates, requests=queries)

    def _retrieval_encodings(self, queries: list[str], encoded: list[torch.Tensor], lang: str) -> list[torch.Tensor]:
        return retrieval_encodings(self.index, self.encoder.encode, queries, encoded, lang)

    def _edited(self, queries, encoded, lang, num_candidates, steps, seed, strength) -> list[list[Candidate]]:
        query = self._retrieval_encodings(queries, encoded, lang)  # once, for the programs to edit and to read
        retrieved = self._retrieved(queries, encoded, lang, num_candidates, query)
        sources = [row or [RankedCandidate("", 0.0, False, "", source="retrieved")] for row in retrieved]
        sources = [[row[i % len(row)] for i in range(num_candidates)] for row in sources]  # cycle if too few
        length = self.sample_length(lang)
        rows = []
        for source in (s for row in sources for s in row):
            ids = self.tokenizer.encode(source.code, lang, length).ids
            rows.append(ids + [self.tokenizer.pad_id] * (length - len(ids)))
        sampled = self._sample(queries, encoded, lang, num_candidates, steps, seed, torch.tensor(rows, dtype=torch.long),
                               strength, query)
        language = get_language(lang)
        results = []
        for row_sources, row_sampled, query in zip(sources, sampled, queries):
            edits = (self._written(s, query, lang) for s in row_sampled)
            results.append([_edited_or_source(edit, source, language) for source, edit in zip(row_sources, edits)])
        return results
