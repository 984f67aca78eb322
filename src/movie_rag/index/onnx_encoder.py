"""The sentence-transformers MiniLM run through onnxruntime: the query path without torch.

:func:`export_onnx` turns the packaged weights into one ONNX file (torch's exporter, once, at
build time); :class:`OnnxSentenceEncoder` then runs it with onnxruntime and the model's own
fast tokenizer (``tokenizer.json``), doing what the sentence-transformers pipeline of
all-MiniLM-L6-v2 does after the transformer: mean pooling over the attention mask and L2
normalisation. Importing this module and encoding import neither torch nor
sentence-transformers; a test holds the vectors within cosine 0.999 of the torch model's.

The export is cached under a directory (``<workdir>/index/encoder`` for a build, which a
published model carries along), keyed by the weights file's size and modification time, so
a changed model is exported again and an unchanged one never is. A copy also goes to a
per-user cache (``MOVIE_RAG_ONNX_CACHE``, default ``~/.cache/movie_rag/onnx``), from which
a new workdir takes it (a hard link where possible) instead of exporting again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movie_rag.errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "OnnxSentenceEncoder",
    "ensure_int8_export",
    "ensure_onnx_export",
    "export_onnx",
    "int8_file",
    "onnx_cache_file",
    "onnx_runtime_available",
    "shared_onnx_cache",
]

logger = logging.getLogger("movie_rag")

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Bump when the exported graph changes (inputs, outputs, opset), so old caches are redone.
_EXPORT_VERSION = 1


def onnx_runtime_available() -> bool:
    """Whether onnxruntime can be imported (the ``local`` extra installs it)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _weights(model_path: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (model_path / name).is_file():
            return model_path / name
    raise ConfigurationError(
        f"{model_path} has no transformer weights ({' or '.join(_WEIGHT_FILES)}); pass "
        "model_path pointing at a sentence-transformers model directory"
    )


def onnx_cache_file(model_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> Path:
    """Where the ONNX export of ``model_path`` lives (or would live) under ``cache_dir``.

    The name is keyed by the model directory, its weights file's size and modification
    time, and the export version: cheap to compute at every start, and different whenever
    the weights change.
    """
    path = Path(model_path).resolve()
    weights = _weights(path)
    stat = weights.stat()
    key = f"{path}|{weights.name}|{stat.st_size}|{stat.st_mtime_ns}|{_EXPORT_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{path.name}-{digest}.onnx"


def shared_onnx_cache() -> Path:
    """The per-user export cache: ``MOVIE_RAG_ONNX_CACHE`` or ``~/.cache/movie_rag/onnx``."""
    configured = os.environ.get("MOVIE_RAG_ONNX_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "movie_rag" / "onnx"


def ensure_onnx_export(
    model_path: str | os.PathLike[str], onnx_dir: str | os.PathLike[str]
) -> Path:
    """The ONNX export of ``model_path`` in ``onnx_dir``, exporting it only if needed.

    Found there, linked from the per-user cache, or exported now (and copied to that cache
    for the next workdir).

    Returns:
        The ONNX file.
    """
    target = onnx_cache_file(model_path, onnx_dir)
    if target.is_file():
        return target
    shared = onnx_cache_file(model_path, shared_onnx_cache())
    if shared.is_file() and shared != target:
        _place(shared, target)
        return target
    export_onnx(model_path, target)
    if shared != target:
        try:
            _place(target, shared)
        except OSError as exc:  # a read-only home: the workdir copy is enough
            logger.debug("could not keep the ONNX export in %s: %s", shared.parent, exc)
    return target


def int8_file(onnx_file: str | os.PathLike[str]) -> Path:
    """Where the int8 quantisation of an fp32 export lives: beside it, ``<stem>-int8.onnx``."""
    path = Path(onnx_file)
    return path.with_name(f"{path.stem}-int8.onnx")


def ensure_int8_export(onnx_file: str | os.PathLike[str]) -> Path:
    """The dynamically int8-quantised copy of an fp32 export, quantising it only if needed.

    ``onnxruntime.quantization.quantize_dynamic`` with int8 weights (activations quantised
    per batch at run time); about a quarter of the fp32 file's size. The copy is written
    beside ``onnx_file`` (atomically) and reused while the fp32 file is not newer.

    Args:
        onnx_file: An fp32 export (:func:`ensure_onnx_export`).

    Returns:
        The int8 ONNX file.

    Raises:
        ConfigurationError: onnxruntime's quantisation tools (and ``onnx``) are missing.
    """
    source = Path(onnx_file)
    target = int8_file(source)
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ConfigurationError(
            f"int8 quantisation needs onnxruntime's quantization tools and onnx ({exc})"
        ) from exc
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".onnx")
    os.close(handle)
    root = logging.getLogger()
    level = root.level
    try:
        # The quantiser advises pre-processing on the root logger; the export needs none.
        root.setLevel(logging.ERROR)
        quantize_dynamic(source, temp, weight_type=QuantType.QInt8)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    finally:
        root.setLevel(level)
    logger.info("quantised %s to int8 as %s", source.name, target.name)
    return target


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    try:
        try:
            os.link(source, temp)
        except OSError:
            shutil.copyfile(source, temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _max_tokens(model_path: Path) -> int:
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


def _pooling_mode(model_path: Path) -> str:
    try:
        config = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    return "mean"


def export_onnx(model_path: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Export the transformer of a sentence-transformers model to one ONNX file.

    Needs torch and transformers (the ``local`` extra) and onnxscript (torch's exporter);
    runs offline. The file is written under a temporary name and renamed into place, so a
    concurrent reader sees either no file or the whole one.

    Args:
        model_path: A sentence-transformers model directory (``config.json``, weights).
        target: The ONNX file to write.

    Returns:
        ``target``.

    Raises:
        ConfigurationError: torch, transformers or onnxscript is missing.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import onnxscript  # noqa: F401
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ConfigurationError(
            f"exporting the embedding model to ONNX needs torch, transformers and onnxscript "
            f'({exc.name} is missing); install the local extra (pip install "movie-rag[local]")'
        ) from exc

    source, target = Path(model_path), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(source)).eval()

    class _Transformer(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    batch = torch.export.Dim("batch")
    tokens = torch.export.Dim("tokens", max=max(_max_tokens(source), 8) * 2)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".onnx")
    os.close(handle)
    logger.info("exporting embedding model %s to ONNX (%s)", source, target)
    level = logging.getLogger("torch.onnx").level
    try:
        # The exporter reports its steps on stdout and warns about its own internals
        # (torchvision ops it skips, deprecated shape helpers): none of it is ours.
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                _Transformer(model),
                example,
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_shapes=tuple({0: batch, 1: tokens} for _ in _INPUTS),
                dynamo=True,
            )
            if program is None:  # pragma: no cover - dynamo=True always returns a program
                raise ConfigurationError("torch.onnx.export returned no ONNX program")
            program.save(temp, external_data=False)
        os.chmod(temp, 0o644)  # mkstemp makes it private; serving processes read it
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    finally:
        logging.getLogger("torch.onnx").setLevel(level)
    return target


class OnnxSentenceEncoder:
    """Unit sentence vectors from an ONNX transformer, its tokenizer and mean pooling.

    Args:
        model_path: The sentence-transformers model directory (tokenizer, pooling config).
        onnx_file: The export of its transformer (:func:`export_onnx`).
        threads: onnxruntime intra-op threads (default: onnxruntime's choice, all cores).

    Raises:
        ConfigurationError: onnxruntime is missing, or the model has no ``tokenizer.json``.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        onnx_file: str | os.PathLike[str],
        *,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ConfigurationError(
                "onnxruntime is not installed; install the local extra "
                '(pip install "movie-rag[local]") or use the torch backend'
            ) from exc
        from tokenizers import Tokenizer

        self.model_path = Path(model_path)
        self.onnx_file = Path(onnx_file)
        tokenizer_file = self.model_path / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ConfigurationError(
                f"{tokenizer_file} is missing: the ONNX backend needs the model's fast "
                "tokenizer; use the torch backend for this model"
            )
        self.max_tokens = _max_tokens(self.model_path)
        self.pooling = _pooling_mode(self.model_path)
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads is not None:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(self.onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._wanted = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` into a ``(len(texts), dimension)`` float32 array of unit vectors.

        Texts are encoded in batches of similar length (sorted by token count, results put
        back in input order), so padding stays short.
        """
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for i, row in enumerate(rows):
                encoding = encodings[row]
                n = len(encoding.ids)
                ids[i, :n] = encoding.ids
                mask[i, :n] = encoding.attention_mask
                types[i, :n] = encoding.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            # InferenceSession.run is thread-safe: serving threads share one session.
            inputs = {k: v for k, v in feeds.items() if k in self._wanted}
            hidden = self._session.run(None, inputs)[0]
            out[rows] = _pool(hidden, mask, self.pooling)
        return out


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    import numpy as np

    if mode == "cls":
        pooled = hidden[:, 0, :]
    else:
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)
