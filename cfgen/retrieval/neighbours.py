"""Retrieved programs as conditioning: which ones a request gets, and as the tensors the network attends to.

A model whose config names `neighbours: k` reads, beside E_s, the k nearest
distinct training programs of the request (retrieval.py: same language, the
request's values put in, valid first), each tokenised as `[tag] code [end]`
and cut to the language's sample length (a slots model reads them with the
request's values as placeholders, the form it writes). Training uses the same function with
the pair's own row left out, so that the network learns what to copy from
programs that are near, not from its target.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cfgen.values.written_form import WrittenForm, written_form
from cfgen.tokenizer import CodeTokenizer

NeighbourIds = list[list[int]]  # one request's programs, token ids each (tag first, end token last if it fits)


def retrieval_encodings(index, encode: Callable[[list[str]], list[torch.Tensor]], requests: list[str],
                        encoded: list[torch.Tensor], lang: str) -> list[torch.Tensor]:
    """The requests as the index compares them: encoded again where masked (slots.py)."""
    texts = [index.query_text(request, lang) for request in requests]
    changed = [i for i, (text, request) in enumerate(zip(texts, requests)) if text != request]
    if not changed:
        return encoded
    encodings = list(encoded)
    for i, encoding in zip(changed, encode([texts[i] for i in changed])):
        encodings[i] = encoding
    return encodings


def neighbour_ids(index, tokenizer: CodeTokenizer, requests: list[str], query_encodings: list[torch.Tensor],
                  lang: str, k: int, length: int, exclude: list[int] | None = None,
                  form: WrittenForm = WrittenForm()) -> list[NeighbourIds]:
    """Up to k programs per request, tokenised; `query_encodings` encode the index's `query_text` of each.
    They are in the model's written `form` (a slots model's placeholders, a templates model's templates), as in
    what it writes, so that a program it copies is already in the form of its target."""
    found = index.nearest_programs(query_encodings, lang, k, requests=requests, exclude=exclude)
    return [[tokenizer.encode(written_form(program.code, request, lang, form), lang, length).ids
             for program in row] for row, request in zip(found, requests)]


def neighbour_tensors(rows: list[NeighbourIds], k: int, length: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, k, N) token ids and their validity mask, N <= length the longest program's length (padding costs
    attention); a missing program is all padding (E_s is always there)."""
    length = max([1] + [min(length, len(ids)) for programs in rows for ids in programs[:k]])
    tokens = torch.full((len(rows), k, length), pad_id, dtype=torch.long)
    valid = torch.zeros((len(rows), k, length), dtype=torch.bool)
    for b, programs in enumerate(rows):
        for j, ids in enumerate(programs[:k]):
            ids = ids[:length]
            tokens[b, j, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            valid[b, j, : len(ids)] = True
    return tokens, valid
