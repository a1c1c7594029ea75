"""Requests -> ranked candidates: encode, condition, make candidates, rank.

The one entry used by the CLI, `cfgen eval` and bench/. Requests are answered
a batch of one language at a time (`Batch`: what is computed once per
batch). A language is answered by one `Method`, chosen by the edit strength:
1 generates from noise (a model that reads retrieved programs then adds those
programs, ranked after its own candidates), 0 retrieves the nearest training
programs, in between edits them. Each method is one candidate maker
(`_generated`, `_retrieved`, `_edited`), and one `rank` orders what it made
and marks the programs the training data holds (`seen`); a request may get
fewer candidates than asked for, never made-up ones. Each query's candidates
are drawn from `Generator(seed)`, so a query's answer does not depend on the
batch it came in. The reverse process is the model's forward process's own
(`cfgen.processes.Process.generate`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from cfgen.batch_conditioning import Batch, Conditioner
from cfgen.model_files.bundle import Bundle, load_bundle
from cfgen.errors import UsageError
from cfgen.answering.language_guess import Guess, guess_languages
from cfgen.languages import check_language, get_language, optional
from cfgen.processes import make_process
from cfgen.ranking import Candidate, RankedCandidate, rank, select
from cfgen.sampling import SampledSequence, sample
from cfgen.values.written_form import WrittenForm, program_from, written_form

DEFAULT_STEPS = 20
# How much less a program found by a request's plain text (Language.plain_request) counts than its similarity:
# the request's own words decide between two programs that fit about as well.
PLAIN_REQUEST_COST = 0.06
# How much further retrieval looks for a language with `niche` programs, so that the common ones it offers are
# not crowded out by the many niche tools near an everyday request ("delete the folder build": `gradle clean`).
POOL_WIDENING = 3


def _common_first(row: list[Candidate], request: str, niche, size: int) -> list[Candidate]:
    """The `size` most similar of a row's candidates, niche ones (Language.niche) only where too few others are;
    the row's order kept."""
    kept = sorted(range(len(row)), key=lambda i: niche(row[i].code, request))[:size]  # stable: common ones first
    return [row[i] for i in sorted(kept)]


def _edited_or_source(edit: str, changed: bool, source: Candidate, language) -> Candidate:
    """The model's edit if it changed the program it started from and passes the language's check; else the
    retrieved program."""
    if changed and edit != source.code and language.check(edit)[0]:
        return Candidate(edit, source.score, "edited", request=source.request)
    return source


@dataclass(frozen=True)
class Method:
    """How a language's candidates are made: "generate" (from noise, strength 1), "retrieve" (the nearest
    training programs as they are, strength 0) or "edit" (those programs noised `strength` far, then denoised)."""

    kind: str
    strength: float

    @classmethod
    def of(cls, strength: float) -> Method:
        return cls("retrieve" if strength == 0.0 else "generate" if strength == 1.0 else "edit", strength)


@functools.lru_cache(maxsize=2)
def shared_encoder(device: str):
    """One NL encoder per device per process (loading it costs more than a query)."""
    from cfgen.encoding.encoder import TextEncoder

    return TextEncoder(device=device)


class Pipeline:
    def __init__(self, bundle: Bundle, device: str = "cpu", encoder=None) -> None:
        self.bundle, self.device = bundle, device
        self.network, self.tokenizer, self.index = bundle.network, bundle.tokenizer, bundle.index
        config = self.network.config
        self.process = make_process(config.process, config.diffusion_steps, config.schedule)
        self.encoder = encoder or shared_encoder(device)
        self.conditioner = Conditioner(self.network, self.tokenizer, self.index, self.encoder, device)

    @classmethod
    def from_directory(cls, directory: Path, device: str = "cpu", encoder=None, verify: bool = True) -> Pipeline:
        """A pipeline over a model directory, verified against its checksums unless `verify` is False."""
        return cls(load_bundle(directory, device, verify), device, encoder)

    def __call__(self, queries: list[str], lang: str, num_candidates: int = 5, steps: int | None = None,
                 seed: int = 0, strength: float | None = None, batch_size: int = 32,
                 guidance: float = 1.0) -> list[list[RankedCandidate]]:
        """Ranked candidates per query, best first (at most `num_candidates`; fewer if some coincide or there is
        nothing to retrieve), each labelled with how it was made (`source`: generated, edited or retrieved) and
        whether the program occurs verbatim in the training data (`seen`). `steps`: network calls (None:
        DEFAULT_STEPS); `strength`: as `method`; `guidance`: classifier-free guidance's scale (1: none; other
        values need a model trained with request dropout)."""
        steps = steps or DEFAULT_STEPS
        if guidance != 1.0 and not self.network.config.request_dropout:
            raise UsageError("--guidance needs a model trained with request dropout (cfgen train --request-dropout "
                             "0.1); this one never saw a request left out")
        lang = check_language(lang, UsageError)
        written = self._languages_written
        if lang not in written:
            raise UsageError(f"this model does not write {lang} (it writes {', '.join(written)}): "
                             "choose another --lang or --model")
        if not 1 <= steps <= self.process.num_steps:
            raise UsageError(f"--steps must be between 1 and {self.process.num_steps} for this model")
        method = self.method(lang, strength)
        make = {"generate": self._generated, "retrieve": self._retrieved,
                "edit": functools.partial(self._edited, strength=method.strength)}[method.kind]
        results: list[list[RankedCandidate]] = []
        for start in range(0, len(queries), batch_size):
            texts = queries[start : start + batch_size]
            batch = Batch(texts, lang, self.encoder.encode(texts), num_candidates, steps, seed, guidance)
            made = self._settled(make(batch), batch, make)
            results.extend(rank(row, lang, limit=num_candidates, seen_in=self._training_programs)[:num_candidates]
                           for row in made)
        return results

    def _settled(self, rows: list[list[Candidate]], batch: Batch, make) -> list[list[Candidate]]:
        """The made candidates as the language settles them before ranking (`Language.settle`: e.g. the
        request's values carried in, a request that joins conditions answered part by part, each part made by
        `make`); as made in a language without one."""
        settle = optional(get_language(batch.lang), "settle")
        if settle is None:
            return rows

        def answer_parts(requests: list[str]) -> list[list[Candidate]]:
            return make(replace(batch, queries=requests, encoded=self.encoder.encode(requests), query_encodings=None))

        return settle(rows, batch.queries, answer_parts, self._last_group)

    @property
    def _last_group(self) -> int:
        """The group behind an aligned model's groups and the retrieved programs: where unasked candidates go."""
        return self.network.config.neighbours + 2

    def guess_languages(self, queries: list[str]) -> list[Guess]:
        """Which language each request asks for (language_guess.py), for requests without `--lang`."""
        return guess_languages(self.index, self.encoder.encode(queries), queries)

    def method(self, lang: str, strength: float | None) -> Method:
        """Generate without an index; with one, the model's default strength for the language unless told one
        (1: generate from noise, 0: retrieve, between: edit the retrieved programs noised that far)."""
        return Method.of(self.effective_strength(strength, lang))

    def effective_strength(self, strength: float | None, lang: str) -> float:
        """1.0 (pure noise) without an index; the model's default for the language with one, unless told otherwise."""
        if self.index is None:
            return 1.0
        return self.bundle.strengths[lang] if strength is None else strength

    def how(self, lang: str, steps: int | None, strength: float | None, guidance: float = 1.0) -> str:
        """How this language's candidates are made, in a few words (the terminal's `made` column agrees)."""
        steps = steps or DEFAULT_STEPS
        kind = self.method(lang, strength).kind
        guided = f", guidance {guidance:g}" if guidance != 1.0 and kind != "retrieve" else ""
        if kind == "generate":
            after = ", then retrieved" if self.network.config.neighbours else ""
            return f"{lang}: generated from noise ({steps} steps{guided}){after}"
        if kind == "retrieve":
            return f"{lang}: retrieved (nearest training programs)"
        return f"{lang}: retrieved, then edited ({steps} steps{guided})"

    @functools.cached_property
    def _languages_written(self) -> list[str]:
        """The languages the tokenizer has a tag for and, where the model has an index, that its training data held
        (an index holds every training pair: a language with no row there was never trained on)."""
        tagged = list(self.tokenizer.tag_ids)
        if self.index is None or not self.index.langs:
            return tagged
        return [lang for lang in tagged if lang in set(self.index.langs)]

    @functools.cached_property
    def _training_programs(self) -> frozenset[str]:
        return frozenset(self.index.codes) if self.index is not None else frozenset()

    # -- the three candidate makers: a batch -> candidates per request, to rank ----------------
    def _generated(self, batch: Batch) -> list[list[Candidate]]:
        """The reverse process from noise; a model that reads retrieved programs adds those programs in a
        group after all of its own candidates, so that they fill the places its duplicates leave."""
        sampled = self._sample(batch)
        k, templates = self.network.config.neighbours, self.network.config.templates
        nearest = self._retrieved(batch) if self.index is not None and (k or templates) else \
            [[] for _ in batch.queries]
        rows = [[Candidate(self._written(s, query, batch.lang, [p.code for p in programs]), s.score,
                           group=self._aligned_rank(j)) for j, s in enumerate(row)]
                for row, query, programs in zip(sampled, batch.queries, nearest)]
        if not k:
            return rows
        return [row + [replace(c, group=k + c.group) for c in programs] for row, programs in zip(rows, nearest)]

    def _retrieved(self, batch: Batch, as_written: bool | None = None) -> list[list[Candidate]]:
        """The nearest distinct training programs, valid first, then most similar (`ranking.select` over the
        index's nearest rows: the programs on offer, which the one ranking in `__call__` orders among the
        others), the request's values put in unless `as_written` (default: where the language fills them)."""
        language = get_language(batch.lang)
        if as_written is None:
            as_written = bool(optional(language, "fills_values"))
        niche = optional(language, "niche")
        k = batch.num_candidates * (POOL_WIDENING if niche else 1)
        rows = self.index.nearest_rows(self.conditioner.query_encodings(batch), batch.lang, k,
                                       requests=batch.queries, as_written=as_written)
        plain = optional(language, "plain_request")
        if plain is not None:
            rows = self._with_plain_request(rows, batch, plain, as_written, k)
        n = batch.num_candidates * (optional(language, "candidate_pool") or 1)
        if niche is not None:
            rows = [_common_first(row, query, niche, 4 * batch.num_candidates)
                    for row, query in zip(rows, batch.queries)]
        return [[candidate for candidate, _, _ in select(row, batch.lang, limit=n)[:n]] for row in rows]

    def _with_plain_request(self, rows: list[list[Candidate]], batch: Batch, plain, as_written: bool, k: int
                            ) -> list[list[Candidate]]:
        """Each request's nearest rows and those of its `plain` text (where that differs), PLAIN_REQUEST_COST
        below their similarity, a program found by both once at its better score, most similar first."""
        texts = [plain(query) for query in batch.queries]
        changed = [q for q, (text, query) in enumerate(zip(texts, batch.queries)) if text != query]
        if not changed:
            return rows
        plain_batch = batch.subset(changed)
        plain_batch = replace(plain_batch, encoded=self.encoder.encode([texts[q] for q in changed]),
                              query_encodings=None, queries=[texts[q] for q in changed])
        found = self.index.nearest_rows(self.conditioner.query_encodings(plain_batch), batch.lang,
                                        k, requests=[batch.queries[q] for q in changed],
                                        as_written=as_written)
        rows = list(rows)
        for q, extra in zip(changed, found):
            best: dict[str, Candidate] = {}
            for candidate in rows[q] + [replace(c, score=c.score - PLAIN_REQUEST_COST) for c in extra]:
                if candidate.code not in best or candidate.score > best[candidate.code].score:
                    best[candidate.code] = candidate
            rows[q] = sorted(best.values(), key=lambda candidate: (candidate.group, -candidate.score))
        return rows

    def _edited(self, batch: Batch, strength: float) -> list[list[Candidate]]:
        """Candidate i: the i-th nearest program (cycled when there are fewer), noised `strength` far and
        denoised under the request; an edit that fails the language's check or changes nothing gives way to
        the program. A slots model starts from the program in the form it writes (the request's values as
        placeholders, filled again after the edit), so that an edit reshapes the command and cannot garble a
        value. A request with no program to edit gets no candidates."""
        sources = self._retrieved(batch, as_written=False)  # edited from the form the network learnt to read
        rows: list[list[Candidate]] = [[] for _ in batch.queries]
        editable = [q for q, programs in enumerate(sources) if programs]
        if not editable:
            return rows
        n = batch.num_candidates
        cycled = [[sources[q][i % len(sources[q])] for i in range(n)] for q in editable]
        form = WrittenForm.of(self.network.config)
        forms = [[written_form(c.code, batch.queries[q], batch.lang, form) for c in row]
                 for q, row in zip(editable, cycled)]
        start = self.tokenizer.padded([form for row in forms for form in row], batch.lang,
                                      self.sample_length(batch.lang))
        sampled = self._sample(batch.subset(editable), start, strength)
        started = [self.tokenizer.decode(row) for row in start.tolist()]  # the forms as the network read them
        language = get_language(batch.lang)
        for i, (q, programs, edits) in enumerate(zip(editable, cycled, sampled)):
            rows[q] = [_edited_or_source(self._written(edit, batch.queries[q], batch.lang),
                                         self.tokenizer.decode(edit.tokens) != begun, program, language)
                       for program, edit, begun in zip(programs, edits, started[i * n : (i + 1) * n])]
        return rows

    # -- what the makers share --------------------------------------------------------------
    def sample_length(self, lang: str) -> int:
        """How many positions (tag, code, end, padding) the sampler denoises for this language."""
        return self.conditioner.sample_length(lang)

    def _sample(self, batch: Batch, start_tokens: torch.Tensor | None = None,
                strength: float = 1.0) -> list[list[SampledSequence]]:
        condition, unconditional = self.conditioner.of(batch)
        return sample(self.network, self.process, condition, tag_id=self.tokenizer.tag_ids[batch.lang],
                      end_id=self.tokenizer.end_id, length=self.sample_length(batch.lang),
                      num_candidates=batch.num_candidates, steps=batch.steps, seed=batch.seed,
                      start_tokens=start_tokens, strength=strength, unconditional=unconditional,
                      guidance=batch.guidance)

    def _written(self, sampled: SampledSequence, request: str, lang: str, nearest: list[str] = ()) -> str:
        """A sampled program as text, with the request's values in the placeholders a slots model writes (and a
        templates model's open slots filled from the `nearest` training program of the same template)."""
        return program_from(self.tokenizer.decode(sampled.tokens), request, lang, WrittenForm.of(self.network.config),
                            nearest)

    def _aligned_rank(self, candidate: int) -> int:
        """Which retrieved program the candidate-th candidate read position by position (0 unless aligned)."""
        config = self.network.config
        return candidate % config.neighbours if config.aligned else 0
