"""``fit``: train a SentenceEncoder with one of the siamese objectives."""
from __future__ import annotations

import contextlib
import logging
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .._errors import ConfigError
from ._data import InputExample, columns

log = logging.getLogger("sbert_plugins.training")
Evaluator = Callable[[object], float]


@dataclass
class TrainResult:
    steps: int
    losses: List[float] = field(default_factory=list)  # one per optimizer step
    evaluations: List[Tuple[int, float]] = field(default_factory=list)  # (step, score)
    best_score: Optional[float] = None
    best_path: Optional[str] = None


def sts_evaluator(s1: Sequence[str], s2: Sequence[str], gold: Sequence[float]) -> Evaluator:
    """Spearman x 100 on held-out pairs (the paper's STSb-dev model selection)."""
    from .._evaluation import evaluate_pairs

    return lambda encoder: evaluate_pairs(encoder, s1, s2, gold, "dev").spearman


def _optimizer(encoder: nn.Module, loss: nn.Module, lr: float, weight_decay: float,
               head_lr: Optional[float]) -> torch.optim.Optimizer:
    """AdamW; no decay on biases/norms; the loss's own head (e.g. the softmax classifier) may get its own lr."""
    groups = []
    for module, module_lr in ((encoder, lr), (loss, head_lr or lr)):
        decay, no_decay = [], []
        for name, param in module.named_parameters():
            if param.requires_grad:
                (no_decay if "bias" in name or "LayerNorm" in name or "norm" in name else decay).append(param)
        groups += [{"params": decay, "weight_decay": weight_decay, "lr": module_lr},
                   {"params": no_decay, "weight_decay": 0.0, "lr": module_lr}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr)


def _schedule(optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:  # linear warm-up, then linear decay to 0
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _autocast(encoder, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    if encoder.device.type == "cpu":
        from .._cpu import prepare_bf16_cpu

        prepare_bf16_cpu()
    return torch.autocast(encoder.device.type, dtype=torch.bfloat16)


def _check(examples: Sequence[InputExample], epochs: int, batch_size: int, accumulation: int) -> None:
    if not examples:
        raise ConfigError("no training examples")
    if epochs < 1 or batch_size < 1 or accumulation < 1:
        raise ConfigError(f"epochs={epochs}, batch_size={batch_size}, gradient_accumulation={accumulation} "
                          "must all be >= 1")


def fit(encoder, examples: Sequence[InputExample], loss: nn.Module, *, epochs: int = 1, batch_size: int = 16,
        lr: float = 2e-5, warmup_ratio: float = 0.1, weight_decay: float = 0.01, gradient_accumulation: int = 1,
        max_grad_norm: float = 1.0, bf16: bool = False, evaluator: Optional[Evaluator] = None,
        eval_every: int = 0, output_path: Union[str, Path, None] = None, seed: int = 0,
        max_steps: Optional[int] = None, head_lr: Optional[float] = None) -> TrainResult:
    """Train ``encoder`` in place; with an evaluator, the best checkpoint is saved to ``output_path``.

    Batches are shuffled each epoch; ``gradient_accumulation`` batches make one
    optimizer step; ``bf16`` runs forward/backward under bfloat16 autocast.
    ``head_lr`` is the learning rate of the loss's own parameters (SoftmaxLoss's
    randomly initialised classifier); by default the same as ``lr``.
    """
    _check(examples, epochs, batch_size, gradient_accumulation)
    if getattr(encoder, "dtype_name", "float32") not in ("float32", "fp32"):
        raise ConfigError(f"train float32 weights (got dtype={encoder.dtype_name!r}); use bf16=True for "
                          "mixed precision instead")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    loss.to(encoder.device)
    per_epoch = math.ceil(len(examples) / batch_size / gradient_accumulation)
    total = min(per_epoch * epochs, max_steps or per_epoch * epochs)
    optimizer = _optimizer(encoder, loss, lr, weight_decay, head_lr)
    scheduler = _schedule(optimizer, int(warmup_ratio * total), total)
    result = TrainResult(steps=0)
    encoder.mark_modified()
    encoder.train()
    try:
        for _ in range(epochs):
            order = list(examples)
            rng.shuffle(order)
            _run_epoch(encoder, loss, order, optimizer, scheduler, result, batch_size, gradient_accumulation,
                       max_grad_norm, bf16, evaluator, eval_every, output_path, total)
            if result.steps >= total:
                break
        if evaluator:
            _evaluate(encoder, evaluator, result, output_path)
        elif output_path is not None:
            encoder.save(output_path)
            result.best_path = str(output_path)
    finally:
        encoder.eval()
    return result


def _run_epoch(encoder, loss, order, optimizer, scheduler, result: TrainResult, batch_size: int,
               accumulation: int, max_grad_norm: float, bf16: bool, evaluator, eval_every: int,
               output_path, total: int) -> None:
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for start in range(0, len(order), batch_size * accumulation):
        window = order[start:start + batch_size * accumulation]
        result.losses.append(_step(encoder, loss, window, batch_size, bf16))
        nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        result.steps += 1
        if evaluator and eval_every and result.steps % eval_every == 0:
            _evaluate(encoder, evaluator, result, output_path)
        if result.steps >= total:
            return


def _step(encoder, loss: nn.Module, window: Sequence[InputExample], batch_size: int, bf16: bool) -> float:
    total = 0.0
    parts = [window[i:i + batch_size] for i in range(0, len(window), batch_size)]
    for part in parts:
        features = [encoder.transformer.tokenize(texts, encoder.device) for texts in columns(part)]
        labels = torch.tensor([e.label for e in part], device=encoder.device)
        with _autocast(encoder, bf16):
            value = loss(encoder, features, labels) / len(parts)
        value.backward()
        total += float(value.detach())
    return total


def _evaluate(encoder, evaluator: Evaluator, result: TrainResult, output_path) -> None:
    encoder.eval()
    with torch.no_grad():
        score = float(evaluator(encoder))
    encoder.train()
    result.evaluations.append((result.steps, score))
    log.info("step %d: dev score %.2f", result.steps, score)
    if result.best_score is None or score > result.best_score:
        result.best_score = score
        if output_path is not None:
            encoder.save(output_path)
            result.best_path = str(output_path)
