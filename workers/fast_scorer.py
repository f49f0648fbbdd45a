"""Opt-in fast scoring (``BARAZA_MODEL_FAST=1``): same model, cheaper arithmetic, less exact.

Two engines, both replacing only the forward pass of :class:`DetoxifyScorer` (tokenising,
truncation, length-sorted batching and per-text isolation stay the same):

- ``bf16``: ``torch.autocast`` in bfloat16. Chosen on CUDA and on CPUs with native bf16
  (AVX512-BF16 / AMX); elsewhere bf16 is emulated and far slower than fp32.
- ``onnx-int8``: the model exported to ONNX, its graph fused by ONNX Runtime's transformer
  optimizer (attention, embeddings + LayerNorm, bias + GELU, skip + LayerNorm), and its
  weights quantised to int8 (dynamic quantisation). Chosen on other CPUs. On trained weights
  int8 can move scores by tenths; see docs/scoring.md for what was measured.

``onnx-fp32`` (export and fusions, no quantisation) stays within 1e-4 of torch;
``torch-int8`` (``torch.ao.quantization.quantize_dynamic`` of the linear layers, deprecated by
torch in favour of torchao) is there for comparison. Export and quantisation happen at load
time, in a temporary directory.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.detoxify_scorer import Engine, LoadedModel

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

FAST_MODES = ("auto", "bf16", "onnx-int8", "onnx-fp32", "torch-int8")


def choose_mode(device: str) -> str:
    """``bf16`` where the hardware has it (CUDA, AVX512-BF16/AMX CPUs), else ``onnx-int8``."""
    if device.startswith("cuda") or cpu_has_native_bf16():
        return "bf16"
    return "onnx-int8"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (otherwise torch emulates it, slowly)."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, check, lambda: False)()) for check in checks)


def fast_engine(loaded: LoadedModel, device: str, mode: str = "auto") -> tuple[Engine, str]:
    """Build the fast forward pass; returns it with the mode actually used."""
    if mode not in FAST_MODES:
        raise ValueError(f"fast mode must be one of {', '.join(FAST_MODES)}, not {mode!r}")
    chosen = choose_mode(device) if mode == "auto" else mode
    if chosen == "bf16":
        return bf16_engine(loaded.model, device), chosen
    if chosen == "torch-int8":
        return torch_int8_engine(loaded.model), chosen
    if not device.startswith("cpu"):
        raise ValueError(f"{chosen} runs on ONNX Runtime's CPU provider, not on {device}")
    return onnx_engine(loaded, quantize=chosen == "onnx-int8"), chosen


def bf16_engine(model: Any, device: str) -> Engine:
    """The torch forward pass under bfloat16 autocast."""
    import torch

    model.eval()
    device_type = "cuda" if device.startswith("cuda") else "cpu"

    def run(batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        inputs = {key: value.to(device) for key, value in batch.items()}
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16):
            logits: torch.Tensor = model(**inputs)[0]
        return logits.float().cpu()

    return run


def torch_int8_engine(model: Any) -> Engine:
    """Linear layers quantised to int8 (dynamic), on a copy: the fp32 model is left as it was."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    from workers.detoxify_scorer import torch_engine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation notice for torch.ao.quantization
        quantized = quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False
        )
    return torch_engine(quantized, "cpu")


def onnx_engine(loaded: LoadedModel, *, quantize: bool) -> Engine:
    """Export the model to ONNX (optionally int8-quantised) and run it with ONNX Runtime."""
    import onnxruntime
    import torch

    names = [n for n in loaded.tokenizer.model_input_names if n != "position_ids"]
    with tempfile.TemporaryDirectory(prefix="baraza-onnx-") as tmp:
        path = fuse(export_onnx(loaded.model, names, Path(tmp) / "model.onnx"), loaded.model)
        if quantize:
            path = quantize_int8(path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def run(batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        feeds = {name: batch[name].numpy() for name in names}
        (logits,) = session.run(["logits"], feeds)
        return torch.from_numpy(logits)

    return run


def export_onnx(model: Any, names: list[str], path: Path) -> Path:
    """Trace ``model`` (inputs ``names``, dynamic batch and length) to an ONNX file."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.model(**dict(zip(names, tensors, strict=True)))[0]
            return out

    dummy = _dummy_inputs(names)
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["logits"] = {0: "batch"}
    # The exporter restores the wrapper's training flag afterwards, recursively: a wrapper
    # left in training mode would switch the shared model's dropout on for every later call.
    wrapper = Logits().eval()
    with (
        warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad(),
        _eager_attention(model),
    ):
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow
        torch.onnx.export(
            wrapper, dummy, str(path), input_names=names, output_names=["logits"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )
    return path


@contextlib.contextmanager
def _eager_attention(model: Any) -> Iterator[None]:
    """Trace the eager attention (ONNX Runtime fuses its pattern, not SDPA's), then restore."""
    previous = getattr(model.config, "_attn_implementation", None)
    switch = getattr(model, "set_attn_implementation", None)
    if switch is None or previous in (None, "eager"):
        yield
        return
    switch("eager")
    try:
        yield
    finally:
        switch(previous)


def fuse(path: Path, model: Any) -> Path:
    """ONNX Runtime's transformer fusions; the unfused graph if they do not apply."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = model.config
    target = path.with_name("model-fused.onnx")
    try:
        fused = optimize_model(
            str(path), model_type="bert", num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size), opt_level=0,
        )
        fused.save_model_to_file(str(target))
    except Exception as exc:  # noqa: BLE001 - an unfused graph is still correct
        log.warning("ONNX Runtime fusions failed (%s); using the unfused graph", exc)
        return path
    log.info("ONNX Runtime fusions: %s", fused.get_fused_operator_statistics())
    return target


def _dummy_inputs(names: list[str]) -> tuple[torch.Tensor, ...]:
    """Two rows, the second padded, so the traced graph keeps the attention-mask path."""
    import torch

    values = {
        "input_ids": torch.tensor([[2, 7, 8, 9, 10, 3], [2, 7, 8, 3, 0, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]),
        "token_type_ids": torch.zeros(2, 6, dtype=torch.long),
    }
    return tuple(values[name] for name in names)


def quantize_int8(path: Path) -> Path:
    """Dynamic int8 quantisation of the weights (activations quantised per batch at run time)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = path.with_name("model-int8.onnx")
    quantize_dynamic(
        str(path), str(target), weight_type=QuantType.QInt8,
        # Fused operators (com.microsoft domain) defeat shape inference; their outputs are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return target
