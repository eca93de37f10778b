"""The ONNX baselines of benchmarks/encode.py: one ONNX graph of the model (transformer, mean pooling and
normalisation, exported by torch.onnx from transformers' own modeling code), run by ONNX Runtime (float32,
and dynamic int8 as fastembed ships it) and by OpenVINO (float32 and bf16 inference precision).

Each runtime is fed the way sentence-transformers feeds its model: texts sorted by length, batches padded
to their longest text, truncated at the model's max_seq_length. Needs the `bench` extra
(onnx, onnxscript, onnxruntime, openvino).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def export(model_name: str, path: str) -> str:
    """The ONNX graph of ``model_name`` at ``path`` (exported once; kept across runs)."""
    if os.path.exists(path):
        return path
    import torch
    from transformers import AutoModel

    from sbert_plugins import resolve_model

    bert = AutoModel.from_pretrained(str(resolve_model(model_name))).eval()

    class Embed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            types = torch.zeros_like(input_ids)
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types)
            weights = attention_mask.unsqueeze(-1).to(tokens.last_hidden_state.dtype)
            pooled = (tokens.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    ids = torch.tensor([[101, 1037, 2158, 2003, 2652, 1037, 2858, 1012, 102], [101, 7632, 102, 0, 0, 0, 0, 0, 0]])
    mask = (ids != 0).long()  # a padded row, so no "no padding" shortcut is traced into the graph
    torch.onnx.export(
        Embed(),
        (ids, mask),
        path,
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_vector"],  # not "embedding": a node inside the graph has that name
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
        dynamo=False,
        opset_version=17,
    )
    return path


def session(runtime: str, path: str, threads: int) -> Any:
    """``run(input_ids, attention_mask) -> vectors`` for one runtime."""
    if runtime.startswith("ort"):
        import onnxruntime as ort

        if runtime == "ort-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = path.replace(".onnx", "-int8.onnx")
            quantize_dynamic(path, quantized, weight_type=QuantType.QInt8)
            path = quantized
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        graph = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return lambda ids, mask: graph.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    import openvino as ov

    precision = "bf16" if runtime == "ov-bf16" else "f32"
    config = {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()
    output = compiled.output(0)
    return lambda ids, mask: request.infer({"input_ids": ids, "attention_mask": mask})[output].copy()


class OnnxEncoder:
    """``encode(texts, batch_size)`` over a runtime, with sentence-transformers' batching."""

    def __init__(self, model_name: str, runtime: str, path: str, threads: int) -> None:
        from sbert_plugins import SentenceEncoder

        reference = SentenceEncoder(model_name, device="cpu", dtype="float32")
        self.tokenizer, self.max_length = reference.tokenizer, reference.max_seq_length
        self.run = session(runtime, path, threads)

    def encode(self, texts, batch_size: int | None = None, **_: Any) -> np.ndarray:
        batch_size = batch_size or 64
        order = np.argsort([-len(t) for t in texts], kind="stable")
        rows = []
        for start in range(0, len(texts), batch_size):
            chosen = [texts[i] for i in order[start : start + batch_size]]
            tokens = self.tokenizer(
                chosen, padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
            )
            rows.append(self.run(tokens["input_ids"].astype(np.int64), tokens["attention_mask"].astype(np.int64)))
        out = np.concatenate(rows) if rows else np.empty((0, 0), dtype=np.float32)
        result = np.empty_like(out)
        result[order] = out
        return result
