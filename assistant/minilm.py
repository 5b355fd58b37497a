"""A question's embedding without torch: a BERT sentence encoder's forward pass in numpy.

Why: ``assistant ask`` embeds one short question. Through sentence-transformers that means
importing torch and transformers first, ~8-10 s of a cold start on 2 cores, for a forward pass
that takes milliseconds. This reads the same safetensors weights and ``tokenizer.json`` (the
``tokenizers`` and ``safetensors`` packages import in a fraction of a second) and computes the
same vector: the fast tokenizer's ids, BERT's layers, mean pooling, unit length; it agrees with
sentence-transformers to ~1e-6 (tests/test_backends.py). Ingest keeps sentence-transformers, whose
batched passes are the faster way to embed thousands of chunks.

Only the layout sentence-transformers writes for a BERT model with mean pooling (all-MiniLM-L6-v2's)
is read; ``load`` returns ``None`` for anything else and the caller uses sentence-transformers.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

_SQRT1_2 = 1 / math.sqrt(2)


def load(model_dir: Path) -> BertEncoder | None:
    """The encoder for the sentence-transformers folder ``model_dir``, or ``None`` when its
    layout is not the one this module computes (a missing file, another architecture or pooling)."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
        config = json.loads((model_dir / "config.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        weights_file, tokenizer_file = model_dir / "model.safetensors", model_dir / "tokenizer.json"
        if not (weights_file.is_file() and tokenizer_file.is_file()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                 "pooling_mode_mean_sqrt_len_tokens"))
    if (modules != ["Transformer", "Pooling", "Normalize"] or config.get("model_type") != "bert"
            or config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute"
            or not mean_only):
        return None
    return BertEncoder(weights_file, tokenizer_file, config, int(st_config.get("max_seq_length", 512)))


class BertEncoder:
    """Unit-length mean-pooled BERT embeddings of single texts."""

    def __init__(self, weights_file: Path, tokenizer_file: Path, config: dict[str, Any], max_length: int) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.threads = _single_thread()
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=min(max_length, config["max_position_embeddings"]))
        w = load_file(str(weights_file))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.word, self.position = w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))

    def _layer_norm(self, x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * norm[0] + norm[1]

    def encode(self, text: str) -> np.ndarray:
        with self.threads():
            return self._encode(text)

    def _encode(self, text: str) -> np.ndarray:
        ids = np.array(self.tokenizer.encode(text).ids)
        n, dim = len(ids), self.word.shape[1]
        head = dim // self.heads
        x = self._layer_norm(self.word[ids] + self.position[:n] + self.token_type, self.norm)
        for qkv_w, qkv_b, out_w, out_b, norm1, up_w, up_b, down_w, down_b, norm2 in self.layers:
            q, k, v = np.split(x @ qkv_w + qkv_b, 3, axis=-1)
            q, k, v = (t.reshape(n, self.heads, head).transpose(1, 0, 2) for t in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ v
            x = self._layer_norm(attended.transpose(1, 0, 2).reshape(n, dim) @ out_w + out_b + x, norm1)
            h = x @ up_w + up_b
            h = 0.5 * h * (1.0 + _erf(h * _SQRT1_2))  # exact GELU, as BERT's "gelu"
            x = self._layer_norm(h @ down_w + down_b + x, norm2)
        pooled = x.mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


def _single_thread() -> Any:
    """A context that runs numpy's BLAS on one thread: these matrices are tiny, and a second
    thread only waits for a core that another process holds (``threadpoolctl``, installed with
    sentence-transformers; without it BLAS keeps its own setting)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (Abramowitz & Stegun 7.1.26 is 1.5e-7; numpy has no erf and scipy costs an import)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))
