"""SAM3's CLIP tokenizer, built with the `tokenizers` library (no hand-written BPE).

The vocabulary is CLIP's ``bpe_simple_vocab_16e6.txt.gz`` (shipped in resources/tokenizer with
its MIT licence) or a pack's own ``clip_tokenizer.json`` (the INT8 browser pack's layout:
``encoder``, ``merges``). The pipeline is the one of CLIP's fast tokenizer: NFC, runs of
whitespace to one space, lower case, CLIP's split pattern, byte-level mapping, BPE with the
``</w>`` end-of-word marker. Before it, HTML entities are unescaped twice as upstream SAM3
does (upstream also runs ``ftfy``, which only matters for broken Unicode; not applied here).

Framing for layout A: ``[SOT] + ids + [EOT]`` right-padded with 0 to 32 (the graph derives the
padding mask from ``tokens != 0``). A prompt longer than 30 tokens is cut to 32 with EOT last,
as upstream does, and the result says so.
"""

from __future__ import annotations

import gzip
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import Sam3CanvasError

SOT, EOT = 49406, 49407
CONTEXT = 32
SPLIT_PATTERN = (r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""")


class TokenizerError(Sam3CanvasError):
    """The tokenizer's vocabulary is missing or malformed, or a prompt is unusable."""


@dataclass(frozen=True)
class Tokens:
    ids: np.ndarray  # (1, 32) int64
    truncated: bool
    count: int  # tokens of the prompt itself (without SOT/EOT), before truncation


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's (GPT-2's) reversible byte -> printable character table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


class ClipTokenizer:
    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

        if vocab.get("<|startoftext|>", SOT) != SOT or vocab.get("<|endoftext|>", EOT) != EOT:
            raise TokenizerError("the vocabulary's start/end tokens are not 49406/49407")
        model = models.BPE(vocab=vocab, merges=merges, end_of_word_suffix="</w>",
                           continuing_subword_prefix="", fuse_unk=False)
        tokenizer = Tokenizer(model)
        tokenizer.normalizer = normalizers.Sequence([
            normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        self._tokenizer = tokenizer

    @classmethod
    def from_bpe_file(cls, path: str | Path | None = None) -> ClipTokenizer:
        from ..resources import resource_path
        path = Path(path) if path else \
            resource_path("resources/tokenizer/bpe_simple_vocab_16e6.txt.gz")
        try:
            lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise TokenizerError(f"{path}: the CLIP vocabulary cannot be read ({exc})") from None
        split = [line.split() for line in lines[1:49152 - 256 - 2 + 1]]
        if len(split) != 48894 or any(len(p) != 2 for p in split):
            raise TokenizerError(f"{path}: not CLIP's BPE vocabulary ({len(split)} merges)")
        pairs = [(p[0], p[1]) for p in split]
        byte_chars = list(_bytes_to_unicode().values())
        words = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(p) for p in pairs] + \
            ["<|startoftext|>", "<|endoftext|>"]
        return cls({w: i for i, w in enumerate(words)}, pairs)

    @classmethod
    def from_pack_json(cls, path: str | Path) -> ClipTokenizer:
        """A pack's ``clip_tokenizer.json``: ``{"encoder": {...}, "merges": [...]}``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            vocab = {str(k): int(v) for k, v in data["encoder"].items()}
            merges = [tuple(m.split() if isinstance(m, str) else m) for m in data["merges"]]
        except FileNotFoundError:
            raise TokenizerError(f"{path}: the pack's tokenizer file is missing") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TokenizerError(f"{path}: malformed tokenizer file ({exc})") from None
        if len(vocab) < 1000 or any(len(m) != 2 for m in merges):
            raise TokenizerError(f"{path}: malformed tokenizer file (vocabulary of "
                                 f"{len(vocab)} entries)")
        vocab.setdefault("<|startoftext|>", SOT)
        vocab.setdefault("<|endoftext|>", EOT)
        return cls(vocab, [tuple(m) for m in merges])

    def encode_ids(self, text: str) -> list[int]:
        cleaned = html.unescape(html.unescape(text)).strip()
        return self._tokenizer.encode(cleaned, add_special_tokens=False).ids

    def __call__(self, text: str, context: int = CONTEXT, pad: int = 0) -> Tokens:
        """Tokens for layout A: ``[SOT] ids [EOT]`` padded with ``pad`` to ``context``."""
        if not text or not text.strip():
            raise TokenizerError("the prompt is empty")
        ids = self.encode_ids(text)
        if not ids:
            raise TokenizerError(f"the prompt {text!r} has no word in it")
        framed = [SOT] + ids + [EOT]
        truncated = len(framed) > context
        if truncated:
            framed = framed[:context]
            framed[-1] = EOT
        out = np.full((1, context), pad, dtype=np.int64)
        out[0, :len(framed)] = framed
        return Tokens(out, truncated, len(ids))


_default: ClipTokenizer | None = None


def default_tokenizer() -> ClipTokenizer:
    """The shipped CLIP vocabulary, built once per process (about a second)."""
    global _default
    if _default is None:
        _default = ClipTokenizer.from_bpe_file()
    return _default
