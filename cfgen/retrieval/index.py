"""Nearest-neighbour retrieval over training utterances.

Two uses: the floor any generator must clear, and the starting programs for
retrieve-and-edit generation (SDEdit: denoise a noised neighbour's code
instead of pure noise). The index is stored as unit sentence vectors (how:
index_files.py) and entries (their code and language, JSON) at paths
the model bundle chooses (`bundle.index_files`). The entries also hold the values each program's training request named
(`slots.find_values`), which `slots.transfer` swaps for the new request's, and
the languages retrieved by masked request (`Language.masked_retrieval` when the
index was built), whose rows have a second vector, of the masked request,
under `masked_vectors`. A trained `RetrievalHead` (retrieval_head.py), when the
index has one (`head.safetensors`), adds a second vector to the rows of the
languages it serves (`tuned_vectors`); there a query is compared with both, and
the similarity is the mean of the two cosines (more stable on dev than either).
"""

from __future__ import annotations

import json
import math

import torch
from safetensors.torch import save_file

from cfgen.retrieval.corpora import COMMAND_BONUS, PAGE_MARGIN, CommandColumns, adjustment, columns_by_command
from cfgen.training.data import Pair
from cfgen.errors import CorruptModelError
from cfgen.model_files.files import read_json, read_tensors, weight_shapes
from cfgen.model_files.index_files import IndexFiles, check_entries, full_shapes, restored, stored
from cfgen.ranking import Candidate, RankedCandidate, rank
from cfgen.retrieval.head import RetrievalHead
from cfgen.values.slots import Values, fill_placeholders, find_values, mask, stand_ins, transfer
from cfgen.training.tldr import COMMON, foreign, this_platform


def sentence_vectors(encodings: list[torch.Tensor]) -> torch.Tensor:
    """Mean-pooled, unit-length sentence vectors from per-token states: (N, D)."""
    pooled = torch.stack([e.float().mean(dim=0) for e in encodings])
    return torch.nn.functional.normalize(pooled, dim=-1)


class RetrievalIndex:
    def __init__(self, vectors: torch.Tensor, codes: list[str], langs: list[str], values: list[Values] | None = None,
                 masked: frozenset[str] = frozenset(), masked_vectors: torch.Tensor | None = None,
                 head: RetrievalHead | None = None, tuned_vectors: torch.Tensor | None = None,
                 requests: list[str] | None = None, pages: frozenset[int] = frozenset(),
                 bases: dict[str, torch.Tensor] | None = None, platforms: dict[int, str] | None = None) -> None:
        self.vectors, self.codes, self.langs = vectors.float(), codes, langs
        # Matrices held in fewer dimensions (by name: vectors, masked_vectors, tuned_vectors): full dims x kept
        # dims, the directions they keep; a query is projected onto them before it is compared.
        self.bases = dict(bases or {})
        self.requests = requests  # the training request each program was written for; None in older indexes
        self.pages = frozenset(pages)  # rows from tldr-style pages (corpora.py weighs them against the others)
        # A page row's platform where it is not common (tldr.PLATFORMS); rows for another platform than
        # `platform` rank after the others and say which they are for.
        self.platforms = dict(platforms or {})
        self.platform = this_platform()
        self.margin, self.bonus = PAGE_MARGIN, COMMAND_BONUS  # corpora.py; bench/bash_corpora.py varies them
        # The head's vectors of its languages' rows, in row order.
        self.head = head if tuned_vectors is not None else None
        self.tuned_vectors = None if self.head is None else tuned_vectors.float()
        self.values = values  # what each training request named; None (older indexes): nothing to transfer
        # Languages retrieved by masked request when the request names values: their
        # rows' vectors again, of the masked training requests, in row order.
        self.masked = frozenset(masked) if masked_vectors is not None else frozenset()
        self.masked_vectors = None if masked_vectors is None else masked_vectors.float()
        self._matrices: dict[tuple[str, bool], tuple[list[int], torch.Tensor]] = {}  # found once per language
        self._corpora: dict[str, tuple[CommandColumns, torch.Tensor]] = {}  # _corpus_columns, per language

    @classmethod
    def build(cls, pairs: list[Pair], encodings: list[torch.Tensor], masked: frozenset[str] = frozenset(),
              masked_encodings: list[torch.Tensor] | None = None,
              head: RetrievalHead | None = None) -> "RetrievalIndex":
        """`masked_encodings`: of the masked requests of the pairs whose language is in `masked`, in order."""
        masked_vectors = sentence_vectors(masked_encodings) if masked and masked_encodings else None
        if head is not None and head.languages & masked:
            raise ValueError(f"a retrieval head cannot serve masked languages: {sorted(head.languages & masked)}")
        tuned_vectors = None
        if head is not None:
            tuned_vectors = head.vectors([encodings[i] for i, p in enumerate(pairs) if p.lang in head.languages])
        return cls(sentence_vectors(encodings), [p.code for p in pairs], [p.lang for p in pairs],
                   [find_values(p.nl) for p in pairs], masked, masked_vectors, head, tuned_vectors,
                   [p.nl for p in pairs], frozenset(i for i, p in enumerate(pairs) if p.from_pages),
                   platforms={i: p.platform for i, p in enumerate(pairs) if p.platform not in (None, COMMON)})

    def save(self, files: IndexFiles) -> None:
        files.vectors.parent.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for name, vectors in (("vectors", self.vectors), ("masked_vectors", self.masked_vectors),
                              ("tuned_vectors", self.tuned_vectors)):
            if vectors is not None:
                tensors.update({name + suffix: part for suffix, part in stored(vectors, self.bases.get(name)).items()})
        save_file(tensors, str(files.vectors))
        entries = {"codes": self.codes, "langs": self.langs, "values": self.values, "masked": sorted(self.masked),
                   "requests": self.requests, "pages": sorted(self.pages),
                   "platforms": {str(row): platform for row, platform in sorted(self.platforms.items())}}
        files.entries.write_text(json.dumps(entries, separators=(",", ":")), encoding="utf-8")
        if self.head is not None:
            self.head.save(files.head)

    @classmethod
    def load(cls, files: IndexFiles) -> "RetrievalIndex | None":
        """The index in `files`, None if there is none; CorruptModelError (naming the file) if it is inconsistent."""
        if not files.vectors.is_file() or not files.entries.is_file():
            return None
        entries = read_json(files.entries)
        shapes = full_shapes(weight_shapes([files.vectors]))  # headers first: nothing allocated for a bad file
        check_entries(entries, shapes, files)
        tensors, bases = restored(read_tensors([files.vectors], int8=True), files.vectors)
        values = entries.get("values")
        head = RetrievalHead.load(files.head, shapes["vectors"][1]) if files.head.is_file() else None
        if head is not None:
            tuned_rows = sum(lang in head.languages for lang in entries["langs"])
            if tensors.get("tuned_vectors") is None or tensors["tuned_vectors"].shape[0] != tuned_rows:
                raise CorruptModelError(f"{files.vectors} does not hold a tuned vector per row the head serves")
        return cls(tensors["vectors"], entries["codes"], entries["langs"], values,  # rows of [kind, value] lists
                   frozenset(entries.get("masked") or ()), tensors.get("masked_vectors"), head,
                   tensors.get("tuned_vectors"),
                   entries.get("requests"), frozenset(entries.get("pages") or ()), bases,
                   {int(row): platform for row, platform in (entries.get("platforms") or {}).items()})

    def extended(self, pairs: list[Pair], encodings: list[torch.Tensor],
                 masked_encodings: list[torch.Tensor] | None = None) -> "RetrievalIndex":
        """This index with `pairs` (their requests' E_s `encodings`) as more rows, in the coordinates and with the
        head it has: the cost is that of the new rows. `masked_encodings`: of the masked requests of the pairs
        whose language is masked, in order."""
        def rows(vectors: torch.Tensor, matrix: str) -> torch.Tensor:
            return torch.nn.functional.normalize(self._projected(vectors, matrix), dim=-1)

        tuned_rows = [e for p, e in zip(pairs, encodings) if self.tuned(p.lang)]
        masked_rows = masked_encodings or []
        if len(masked_rows) != sum(p.lang in self.masked for p in pairs):
            raise ValueError("a masked encoding is needed for each new pair of a masked language")
        first = len(self.codes)
        return RetrievalIndex(
            torch.cat([self.vectors, rows(sentence_vectors(encodings), "vectors")]),
            self.codes + [p.code for p in pairs], self.langs + [p.lang for p in pairs],
            None if self.values is None else self.values + [find_values(p.nl) for p in pairs],
            self.masked,
            _appended(self.masked_vectors, masked_rows, lambda e: rows(sentence_vectors(e), "masked_vectors")),
            self.head,
            _appended(self.tuned_vectors, tuned_rows, lambda e: rows(self.head.vectors(e), "tuned_vectors")),
            None if self.requests is None else self.requests + [p.nl for p in pairs],
            self.pages | {first + i for i, p in enumerate(pairs) if p.from_pages}, self.bases,
            {**self.platforms,
             **{first + i: p.platform for i, p in enumerate(pairs) if p.platform not in (None, COMMON)}})

    def query_text(self, request: str, lang: str) -> str:
        """What to encode for a request: masked where its language is and it names values."""
        return mask(request) if lang in self.masked else request

    def _matrix(self, lang: str, masked: bool) -> tuple[list[int], torch.Tensor]:
        """A language's rows and their vectors (of the masked requests, if `masked`)."""
        if (lang, masked) not in self._matrices:
            rows = [i for i, l in enumerate(self.langs) if l == lang]
            if masked:
                vectors = self.masked_vectors[self._positions(rows, self.masked)]
            elif self.tuned(lang):
                tuned = self.tuned_vectors[self._positions(rows, self.head.languages)]
                vectors = self._joined(self.vectors[rows], tuned)
            else:
                vectors = self.vectors[rows]
            self._matrices[lang, masked] = rows, vectors
        return self._matrices[lang, masked]

    def _positions(self, rows: list[int], languages: frozenset[str]) -> list[int]:
        """Where `rows` sit among the rows of `languages` (how masked and tuned vectors are stored)."""
        position = {row: n for n, row in enumerate(i for i, l in enumerate(self.langs) if l in languages)}
        return [position[row] for row in rows]

    def tuned(self, lang: str) -> bool:
        """Whether a retrieval head serves this language."""
        return self.head is not None and lang in self.head.languages

    def _projected(self, queries: torch.Tensor, matrix: str) -> torch.Tensor:
        """Query vectors in the coordinates `matrix` is held in (its kept directions, if it has fewer dims)."""
        basis = self.bases.get(matrix)
        return queries if basis is None else queries @ basis

    @staticmethod
    def _joined(plain: torch.Tensor, tuned: torch.Tensor) -> torch.Tensor:
        """Unit vectors whose dot product is the mean of the plain and the tuned cosines."""
        return torch.cat([plain, tuned], dim=-1) / math.sqrt(2)

    def best_similarity_by_language(self, query_encodings: list[torch.Tensor]) -> tuple[list[str], torch.Tensor]:
        """The index's languages, and (Q, languages) the best cosine of each query to a training request of each."""
        languages = sorted(set(self.langs))
        similarity = self._projected(sentence_vectors(query_encodings), "vectors") @ self.vectors.T
        columns = [torch.tensor(self._matrix(name, False)[0]) for name in languages]  # rows found once per language
        return languages, torch.stack([similarity[:, rows].max(dim=1).values for rows in columns], dim=1)

    def neighbours(self, query_encodings: list[torch.Tensor], lang: str, k: int,
                   requests: list[str] | None = None, exclude: list[int] | None = None, transfer: bool = True
                   ) -> list[list[tuple[str, float, int]]]:
        """Up to k (code, cosine, row) of the same language per query, most similar first.

        Given the queries' `requests` (then `query_encodings` must encode their
        `query_text`), each program gets their values (`slots.transfer`; not
        with `transfer=False`), and a request that names values is compared with
        the masked training requests.
        `exclude[q]` is a row never returned for query q (leave-one-out: a
        training pair's own row, when its neighbours condition training).
        """
        values = None if requests is None else [find_values(request) for request in requests]
        masked = [False] * len(query_encodings) if values is None else [lang in self.masked and bool(v) for v in values]
        rows, vectors = self._matrix(lang, False)
        if not rows:
            return [[] for _ in query_encodings]
        pooled = sentence_vectors(query_encodings)
        query_vectors = self._projected(pooled, "vectors")
        if self.tuned(lang):
            query_vectors = self._joined(query_vectors,
                                         self._projected(self.head.vectors(query_encodings), "tuned_vectors"))
        similarity = query_vectors @ vectors.T  # (Q, N_lang)
        if any(masked):
            masked_similarity = self._projected(pooled, "masked_vectors") @ self._matrix(lang, True)[1].T
            similarity = torch.where(torch.tensor(masked)[:, None], masked_similarity, similarity)
        if requests is not None and self.pages and lang == "bash":
            columns, from_pages = self._corpus_columns(lang)
            similarity = similarity + adjustment(requests, columns, from_pages, self.margin, self.bonus)
        if exclude is not None:
            column = {row: j for j, row in enumerate(rows)}
            for q, row in enumerate(exclude):
                if row in column:
                    similarity[q, column[row]] = -math.inf
            k = min(k, len(rows) - 1)
        found = [[(rows[j], s) for j, s in row] for row in _most_similar(similarity, k)]
        return [[(self._program(j, named if transfer else None, lang, request), s, j) for j, s in row]
                for row, named, request in zip(found, values or [None] * len(found), requests or [None] * len(found))]

    def _corpus_columns(self, lang: str) -> tuple[CommandColumns, torch.Tensor]:
        """For the language's rows: the columns of each command they run (corpora.py), and which come from pages;
        found once per language."""
        if lang not in self._corpora:
            rows = self._matrix(lang, False)[0]
            self._corpora[lang] = (columns_by_command([self.codes[row] for row in rows]),
                                   torch.tensor([row in self.pages for row in rows]))
        return self._corpora[lang]

    def _program(self, row: int, named: Values | None, lang: str, request: str | None = None) -> str:
        """A row's program, with the values the new request names in place of its own (if known), and in its
        placeholders (a page's program, tldr.py)."""
        if named is None or self.values is None:
            return self.codes[row]
        code = transfer(self.codes[row], [tuple(value) for value in self.values[row]], named, lang)
        return fill_placeholders(code, request) if request is not None and "{{" in code else code

    def request_of(self, row: int) -> str | None:
        return self.requests[row] if self.requests is not None else None

    def nearest_rows(self, query_encodings: list[torch.Tensor], lang: str, k: int, requests: list[str] | None = None,
                     exclude: list[int] | None = None, as_written: bool = False) -> list[list[Candidate]]:
        """The 4k nearest rows per query as candidates, most similar first, the request's values put in (not
        `as_written`: for a language that fills them itself): enough for `ranking.rank` to select k distinct valid
        programs from (duplicates and broken programs stay in; a page's program for another platform than
        `self.platform` is in the group after the others)."""
        found = self.neighbours(query_encodings, lang, 4 * k, requests, exclude, transfer=not as_written)
        asked = requests or [None] * len(found)
        return [[Candidate(code, s, "retrieved", request=self.request_of(j),
                           stand_ins=tuple(stand_ins(code, request)) if request is not None else (),
                           group=int(self._foreign(j) is not None), platform=self._foreign(j),
                           page=j in self.pages)
                 for code, s, j in row] for row, request in zip(found, asked)]

    def nearest_programs(self, query_encodings: list[torch.Tensor], lang: str, k: int,
                         requests: list[str] | None = None,
                         exclude: list[int] | None = None) -> list[list[RankedCandidate]]:
        """Up to k distinct programs per query (by normal form), valid ones first, then most similar: the ranked
        `nearest_rows`."""
        rows = self.nearest_rows(query_encodings, lang, k, requests, exclude)
        return [rank(row, lang, limit=k)[:k] for row in rows]

    def _foreign(self, row: int) -> str | None:
        """The platform a row's program is for, if that is not this one (`self.platform`)."""
        platform = self.platforms.get(row)
        return platform if foreign(platform, self.platform) else None


def _appended(matrix: torch.Tensor | None, encodings: list[torch.Tensor], vectors) -> torch.Tensor | None:
    """`matrix` with the rows `vectors(encodings)` below it (none to add: as it is)."""
    if matrix is None or not encodings:
        return matrix
    return torch.cat([matrix, vectors(encodings)])


def _most_similar(similarity: torch.Tensor, k: int) -> list[list[tuple[int, float]]]:
    """Per row of (Q, N) similarities, the k largest as (column, similarity), largest first; equal ones in column
    order (one request, several programs: training order), as a stable sort of the whole row would give them,
    without sorting the whole row."""
    if k <= 0 or similarity.shape[1] == 0:
        return [[] for _ in range(similarity.shape[0])]
    kth = similarity.topk(min(k, similarity.shape[1]), dim=-1).values[:, -1:]
    found = []
    for row, threshold in zip(similarity, kth):
        columns = (row >= threshold).nonzero().flatten()  # the k largest, and any tied with the k-th
        scores, order = row[columns].sort(descending=True, stable=True)
        found.append(list(zip(columns[order][:k].tolist(), scores[:k].tolist())))
    return found
