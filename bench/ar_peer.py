"""An autoregressive peer: what the same compute buys with the ordinary approach.

    python bench/ar_peer.py train OUT [--steps 7000] [--batch-size 32] [--threads 1] [--data DIR] [--model SPEC]
    python bench/ar_peer.py eval OUT [--limit N] [--data DIR] [--model SPEC] [--output FILE]

A left-to-right transformer decoder on the same frozen MiniLM encoder (E_s by
cross-attention), as wide and as deep as the bundled model's networks
together (width 256, 4 heads, 4 + 2 = 6 blocks), with its code tokenizer and
per-language lengths, trained on the same three train splits with the same
batches, learning-rate schedule and number of steps (the same number of
training tokens). Candidates: the greedy decode and four samples
(temperature 0.8), ranked like cfgen's (valid first, then mean token
log-probability). Checkpoints go to OUT (outside the repository); `eval`
writes bench/results/ar_peer.json, which bench/quality.py prints beside
retrieval and cfgen. Not part of the installed tool.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn

from cfgen.model_files.bundle import load_bundle
from cfgen.training.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from cfgen.config import TrainConfig
from cfgen.training.corpus import BatchPlan, DataSources, build_examples, collate, encode_texts, gather_corpus
from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.evaluation.evaluate import evaluate
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import language_names
from cfgen.pipeline import shared_encoder
from cfgen.ranking import Candidate, rank
from cfgen.runtime import Distributed
from cfgen.training.train import learning_rate_factor, step_seed

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "codefusion"
LEGACY_BATCH_SIZE = 32  # checkpoints written before the batch size was recorded all used 32


class ARPeer(nn.Module):
    def __init__(self, vocab_size: int, width: int = 256, heads: int = 4, layers: int = 6, encoder_dim: int = 384,
                 max_length: int = 128):
        super().__init__()
        self.width = width
        self.embedding = nn.Embedding(vocab_size, width)  # tied with the output head, as in nanoGPT
        self.positions = nn.Embedding(max_length, width)
        for table in (self.embedding, self.positions):
            nn.init.normal_(table.weight, std=0.02)
        self.condition = nn.Sequential(nn.LayerNorm(encoder_dim), nn.Linear(encoder_dim, width))
        block = nn.TransformerDecoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.decoder = nn.TransformerDecoder(block, layers, norm=nn.LayerNorm(width))

    def forward(self, tokens: torch.Tensor, encoded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T) tokens, E_s (B, S, D) and its mask -> (B, T, V) logits of each next token."""
        length = tokens.shape[1]
        h = self.embedding(tokens) + self.positions(torch.arange(length))
        causal = nn.Transformer.generate_square_subsequent_mask(length)
        h = self.decoder(h, self.condition(encoded), tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=~mask)
        return h @ self.embedding.weight.T  # (B, T, V), tied head


def tokenizer_and_lengths(model: str | None):
    """The code tokenizer and per-language lengths of the model the peer is compared with (default: bundled)."""
    bundle = load_bundle(resolve_model_directory(model) if model else default_model_directory())
    return bundle.tokenizer, bundle.network.config.sample_lengths


def prepare(tokenizer, lengths, data: Path):
    corpus = gather_corpus("finetune", DataSources(data_dir=data))
    examples, texts, _, _ = build_examples(corpus.pairs, tokenizer, max(lengths.values()), lengths)
    return examples, encode_texts(texts, Distributed(), "cpu")


def train(out: Path, steps: int, batch_size: int, data: Path, model_spec: str | None) -> None:
    tokenizer, lengths = tokenizer_and_lengths(model_spec)
    examples, encodings = prepare(tokenizer, lengths, data)
    config = TrainConfig(steps=steps, batch_size=batch_size, learning_rate=1e-3, warmup_steps=150)
    torch.manual_seed(0)
    model = ARPeer(tokenizer.vocab_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    start, out = 0, Path(out)
    if list_checkpoints(out):  # resume: cfgen's own checkpoint format (safetensors + JSON)
        model_state, optimizer_state, info = load_checkpoint(list_checkpoints(out)[-1])
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        start = info["step"]
    plan = BatchPlan([e.lang for e in examples], batch_size, seed=0)
    started, tokens_seen = time.perf_counter(), 0
    for step in range(start, steps):
        generator = torch.Generator().manual_seed(step_seed(0, step, 0))
        batch = [examples[i] for i in plan.batch(step)]
        tokens, encoded, mask, _, _ = collate(batch, encodings, tokenizer.pad_id, lengths[batch[0].lang], generator)
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * learning_rate_factor(step, config)
        logits = model(tokens[:, :-1], encoded, mask)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten(), ignore_index=tokenizer.pad_id)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        tokens_seen += sum(len(e.tokens) for e in batch)
        if (step + 1) % 250 == 0 or step + 1 == steps:
            save_checkpoint(out, step + 1, model.state_dict(), optimizer.state_dict(), {"batch_size": batch_size})
            rate = tokens_seen / (time.perf_counter() - started)
            print(f"step {step + 1}/{steps} loss {loss.item():.3f} {rate:,.0f} tok/s", flush=True)


@torch.inference_mode()
def generate(model, tokenizer, encoder, queries, lang, length, n=5, temperature=0.8, seed=0):
    """Greedy plus n-1 sampled continuations per query, as ranked Candidates lists."""
    from cfgen.encoding.encodings import pad_states

    encoded, mask = pad_states(encoder.encode(queries))
    rows = []
    generator = torch.Generator().manual_seed(seed)
    for draw in range(n):
        tokens = torch.full((len(queries), 1), tokenizer.tag_ids[lang])
        log_prob, done = torch.zeros(len(queries)), torch.zeros(len(queries), dtype=torch.bool)
        counted = torch.zeros(len(queries))
        for _ in range(length - 1):
            logits = model(tokens, encoded, mask)[:, -1].float()
            probabilities = (logits / (temperature if draw else 1.0)).softmax(-1)
            chosen = probabilities.argmax(-1) if draw == 0 else torch.multinomial(probabilities, 1, generator=generator)[:, 0]
            step_log_prob = logits.log_softmax(-1).gather(1, chosen[:, None])[:, 0]
            log_prob += torch.where(done, 0.0, step_log_prob)
            counted += (~done).float()
            tokens = torch.cat([tokens, chosen[:, None]], dim=1)
            done |= chosen == tokenizer.end_id
            if done.all():
                break
        rows.append([Candidate(tokenizer.decode(t.tolist()), (lp / c).item()) for t, lp, c in zip(tokens, log_prob, counted)])
    return [[row[q] for row in rows] for q in range(len(queries))]


def evaluate_peer(out: Path, limit: int, data: Path, model_spec: str | None, output: Path) -> None:
    tokenizer, lengths = tokenizer_and_lengths(model_spec)
    model = ARPeer(tokenizer.vocab_size)
    model_state, _, info = load_checkpoint(list_checkpoints(out)[-1])
    model.load_state_dict(model_state)
    model.eval()
    encoder = shared_encoder("cpu")
    rows = []
    for lang in language_names():
        dev = load_benchmark(benchmark_path(data, lang), "dev", lang)
        dev = dev[:limit] if limit else dev

        def predict(queries, lang=lang):
            return [rank(c, lang) for c in generate(model, tokenizer, encoder, queries, lang, lengths[lang])]

        figures = evaluate(dev, lang, predict)["figures"]
        rows.append({"lang": lang, "system": "autoregressive peer", "strength": None, **figures})
        print(f"{lang:<8} top-1 {figures['top1']:.3f} top-3 {figures['top3']:.3f} top-5 {figures['top5']:.3f} "
              f"valid {figures['valid_top1']:.3f} chrF {figures['chrf']:.1f}", flush=True)
    output.write_text(json.dumps({"steps": info["step"], "batch_size": info.get("batch_size", LEGACY_BATCH_SIZE),
                                  "rows": rows}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("train", "eval"))
    parser.add_argument("out", type=Path, help="checkpoint folder (outside the repository)")
    parser.add_argument("--steps", type=int, default=7000, help="the bundled model's number of steps")
    parser.add_argument("--batch-size", type=int, default=32, help="the bundled model's batch size")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--limit", type=int, default=0, help="eval: first N dev items per language (0: all)")
    parser.add_argument("--data", type=Path, default=DATA, help="CodeFusion data folder")
    parser.add_argument("--model", default=None, help="the cfgen model whose tokenizer and lengths the peer uses")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "ar_peer.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.command == "train":
        train(args.out, args.steps, args.batch_size, args.data, args.model)
    else:
        evaluate_peer(args.out, args.limit, args.data, args.model, args.output)


if __name__ == "__main__":
    main()
