"""The model card (README.md) of a model directory: what the model is, what it was made from, whose data."""

from __future__ import annotations

TLDR_CREDIT = ("tldr-pages (https://github.com/tldr-pages/tldr), by the tldr-pages contributors, CC BY 4.0, changed: "
               "descriptions without their mnemonic brackets, options in their long form, placeholders as value slots")


def model_card(network, index=None) -> str:
    """The card of `network`, and of `index` (its retrieval index) where there is one."""
    config = network.config
    pages = len(index.pages) if index is not None else 0
    credit = (
        f"\n\nThe retrieval index also holds {pages:,} Bash example{'s' if pages != 1 else ''} from {TLDR_CREDIT}."
        if pages
        else ""
    )
    return f"""---
library_name: cfgen
license: mit
tags:
- code-generation
- diffusion
---

# cfgen model

A CodeFusion-style diffusion model (Singh et al., EMNLP 2023) for
[cfgen](https://pypi.org/project/cfgen-diffusion/): a plain-English request to
Bash, Python or Excel conditional-formatting rules. {network.parameter_count() / 1e6:.1f}M parameters
(denoiser {config.denoiser_layers}x{config.width}, decoder {config.decoder_layers}x{config.width},
{config.latent_dim}-dim latent, vocabulary {config.vocab_size}); the NL encoder is
all-MiniLM-L6-v2, loaded separately. `retrieval/` holds the training utterances'
sentence vectors, the values they name and their programs, which
retrieve-and-edit generation starts from (with the request's values put in),
and, where present, `head.safetensors`: a retrieval head trained to bring
together requests for the same kind of program. Trained on the CodeFusion
benchmarks' train splits (microsoft/prose-benchmarks; NL2Bash MIT, CoNaLa CC BY-SA 4.0).
`checksums.json`: SHA-256 of every file.{credit}
"""
