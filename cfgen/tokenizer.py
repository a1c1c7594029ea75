"""Code tokenizer: a byte-level BPE trained on the code corpora.

A sequence is `[<lang>] code-tokens [<end>] [<pad>]*`: the language tag comes
first (it conditions generation and is never noised), the end token marks
where the program stops. Byte-level BPE round-trips any text exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from cfgen.languages import language_names

if TYPE_CHECKING:
    import torch

PAD, END = "<pad>", "<end>"
_TAG = re.compile(r"<([a-z][a-z0-9_]*)>")
# Typed value placeholders (slots.abstract_values), one token each in a slots model's tokenizer, so that it
# writes a value's place in one step; they decode to themselves.
SLOT_TOKENS = ["{{path}}", "{{pattern}}", "{{number}}", "{{text}}"]


@dataclass
class Encoded:
    ids: list[int]
    truncated: bool


class CodeTokenizer:
    def __init__(self, backend) -> None:
        self.backend = backend  # a tokenizers.Tokenizer
        self.pad_id = self._id(PAD)
        self.end_id = self._id(END)
        # The languages this tokenizer was trained with a tag for: a language added to cfgen later is one the
        # model does not write (Pipeline refuses it), not a reason to refuse the model.
        self.tag_ids = {_TAG.fullmatch(token.content).group(1): token_id
                        for token_id, token in sorted(backend.get_added_tokens_decoder().items())
                        if token.special and token.content not in (PAD, END) and _TAG.fullmatch(token.content)}
        if not self.tag_ids:
            raise ValueError("tokenizer holds no language tag (<bash>, <python>, <cf>)")

    def _id(self, token: str) -> int:
        token_id = self.backend.token_to_id(token)
        if token_id is None:
            raise ValueError(f"tokenizer lacks the special token {token}")
        return token_id

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def encode(self, code: str, lang: str, max_length: int) -> Encoded:
        """Tag + tokens + end, cut to `max_length` (the end token is kept)."""
        body = self.backend.encode(code, add_special_tokens=False).ids
        room = max_length - 2
        return Encoded([self.tag_ids[lang], *body[:room], self.end_id], truncated=len(body) > room)

    def padded(self, codes: list[str], lang: str, length: int) -> torch.Tensor:
        """(len(codes), length) token ids: each code encoded (cut to `length`), then padding."""
        import torch

        rows = torch.full((len(codes), length), self.pad_id, dtype=torch.long)
        for row, code in enumerate(codes):
            ids = self.encode(code, lang, length).ids
            rows[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return rows

    def decode(self, ids: Iterable[int]) -> str:
        """Tokens up to the first end token, with tags and padding dropped."""
        kept = []
        special = {self.pad_id, *self.tag_ids.values()}
        for token_id in ids:
            if token_id == self.end_id:
                break
            if token_id not in special:
                kept.append(token_id)
        return self.backend.decode(kept, skip_special_tokens=False).strip()

    def save(self, path: Path) -> None:
        """Written under a temporary name, then renamed: a reader sees the old file or the new one."""
        import os

        path = Path(path)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.backend.save(str(temporary))
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> "CodeTokenizer":
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)))

    @classmethod
    def train(cls, texts: Iterator[str], vocab_size: int, slots: bool = False,
              whole_words: Iterable[str] = (), languages: Iterable[str] | None = None) -> "CodeTokenizer":
        """A BPE of `vocab_size` tokens over `texts`; with `slots`, SLOT_TOKENS are tokens of their own, and so is
        each of `whole_words` (a Bash template's tokens, each with the space before it: ` -type`), beyond
        `vocab_size`; text they do not cover still falls to the BPE, so any text round-trips. It holds a tag for
        each of `languages` (default: every language cfgen knows): the languages its model can write."""
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

        backend = Tokenizer(models.BPE())
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[PAD, END] + [f"<{lang}>" for lang in languages or language_names()]
            + (SLOT_TOKENS if slots else []),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        backend.train_from_iterator(texts, trainer=trainer)
        backend.add_tokens([AddedToken(word, normalized=False) for word in whole_words])
        return cls(backend)
