"""``fit``: train a SentenceEncoder with one of the siamese objectives."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._base.errors import ConfigError
from .._encoding.encoder import SentenceEncoder
from .._features.evaluation import evaluate_pairs
from ._examples import InputExample, columns

log = logging.getLogger("sbert_plugins.training")
Evaluator = Callable[[SentenceEncoder], float]
AUTOCAST = {"auto": None, "none": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`fit` (the paper's: batch 16, lr 2e-5, 10 % linear warm-up).

    ``autocast`` runs forward/backward in ``"bfloat16"`` (CPU or CUDA) or ``"float16"``
    (CUDA, with a gradient scaler); the weights stay float32. ``"auto"`` (the default) follows the
    encoder: one loaded with ``dtype="auto"`` that chose a 16-bit precision (bf16 on a CPU with AMX,
    fp16 on CUDA) trains float32 master weights under that autocast; a float32 encoder trains in
    float32 (``"none"``). ``head_lr`` is the learning
    rate of the loss's own parameters (SoftmaxLoss's classifier); by default ``lr``.
    ``eval_every`` evaluates every N optimizer steps (and always at the end).
    """

    epochs: int = 1
    batch_size: int = 16
    lr: float = 2e-5
    head_lr: float | None = None
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    gradient_accumulation: int = 1
    max_grad_norm: float = 1.0
    autocast: str = "auto"
    eval_every: int = 0
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        counts = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "gradient_accumulation": self.gradient_accumulation,
        }
        bad = {k: v for k, v in counts.items() if not isinstance(v, int) or v < 1}
        if bad:
            raise ConfigError(f"{bad} must all be ints >= 1")
        if self.autocast not in AUTOCAST:
            raise ConfigError(f"autocast={self.autocast!r}; choose one of {sorted(AUTOCAST)}")
        if not 0 <= self.warmup_ratio <= 1 or self.lr <= 0 or (self.head_lr is not None and self.head_lr <= 0):
            raise ConfigError(f"lr={self.lr}, head_lr={self.head_lr} must be > 0 and warmup_ratio in [0, 1]")


@dataclass
class TrainResult:
    steps: int
    losses: list[float] = field(default_factory=list)  # one per optimizer step
    evaluations: list[tuple[int, float]] = field(default_factory=list)  # (step, score)
    best_score: float | None = None
    best_path: str | None = None


def sts_evaluator(s1: Sequence[str], s2: Sequence[str], gold: Sequence[float] | np.ndarray) -> Evaluator:
    """Spearman x 100 on held-out pairs (the paper's STSb-dev model selection)."""
    return lambda encoder: evaluate_pairs(encoder, s1, s2, gold, "dev").spearman


@dataclass
class _Run:
    """Everything one training run carries from step to step."""

    encoder: SentenceEncoder
    loss: nn.Module
    config: TrainConfig
    evaluator: Evaluator | None
    output_path: str | os.PathLike[str] | None
    total: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    autocast: torch.dtype | None = None
    scaler: Any = None
    result: TrainResult = field(default_factory=lambda: TrainResult(steps=0))


def _optimizer(encoder: nn.Module, loss: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no decay on biases/norms; the loss's own head (e.g. the softmax classifier) may get its own lr."""
    if not any(p.requires_grad for m in (encoder, loss) for p in m.parameters()):
        raise ConfigError("nothing to train: every parameter of the encoder and the loss is frozen (requires_grad)")
    groups = []
    for module, module_lr in ((encoder, config.lr), (loss, config.head_lr or config.lr)):
        decay: list[nn.Parameter] = []
        no_decay: list[nn.Parameter] = []
        for name, param in module.named_parameters():
            if param.requires_grad:
                (no_decay if "bias" in name or "norm" in name.lower() else decay).append(param)
        groups += [
            {"params": decay, "weight_decay": config.weight_decay, "lr": module_lr},
            {"params": no_decay, "weight_decay": 0.0, "lr": module_lr},
        ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr)


def _schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:  # linear warm-up, then linear decay to 0
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _check(encoder: SentenceEncoder, examples: Sequence[InputExample], config: TrainConfig) -> None:
    if not examples:
        raise ConfigError("no training examples")
    if getattr(encoder, "shared", False):
        raise ConfigError(
            "this encoder comes from shared_encoder() and other hosts (spaCy components, estimators, stores) "
            "use it; training would silently change their vectors. Train a private copy: "
            "fit(encoder.copy(), ...) or SentenceEncoder(...)"
        )
    if encoder.dtype_name != "float32" and encoder.options.dtype != "auto":
        # an explicit 16-bit dtype is the user's choice of weights; "auto" is ours, and trains (see _precision)
        raise ConfigError(
            f"train float32 weights (got dtype={encoder.dtype_name!r}); load the encoder with dtype='float32' "
            "(or 'auto') and use TrainConfig(autocast='bfloat16') for mixed precision instead"
        )
    if _autocast_dtype(encoder, config) == torch.float16 and encoder.device.type != "cuda":
        raise ConfigError("autocast='float16' needs a CUDA device; use autocast='bfloat16' on CPU")


def _autocast_dtype(encoder: SentenceEncoder, config: TrainConfig) -> torch.dtype | None:
    """The autocast precision: the configured one, or with 'auto' the 16-bit dtype the encoder's auto chose."""
    if config.autocast != "auto":
        return AUTOCAST[config.autocast]
    return None if encoder.dtype_name == "float32" else getattr(torch, encoder.dtype_name)


def _start(encoder: SentenceEncoder, n: int, loss: nn.Module, config: TrainConfig, **rest: Any) -> _Run:
    per_epoch = math.ceil(n / config.batch_size / config.gradient_accumulation)
    total = min(per_epoch * config.epochs, config.max_steps or per_epoch * config.epochs)
    autocast = _autocast_dtype(encoder, config)
    encoder.set_dtype("float32")  # master weights: an auto encoder's 16-bit weights are cast up (a no-op else)
    optimizer = _optimizer(encoder, loss, config)
    scheduler = _schedule(optimizer, int(config.warmup_ratio * total), total)
    scaler = torch.amp.GradScaler("cuda") if autocast == torch.float16 else None
    return _Run(
        encoder,
        loss,
        config,
        total=total,
        optimizer=optimizer,
        scheduler=scheduler,
        **rest,
        autocast=autocast,
        scaler=scaler,
    )


def fit(
    encoder: SentenceEncoder,
    examples: Sequence[InputExample],
    loss: nn.Module,
    config: TrainConfig | None = None,
    *,
    evaluator: Evaluator | None = None,
    output_path: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """Train ``encoder`` in place; with an evaluator, the best checkpoint is saved to ``output_path``.

    Batches are shuffled each epoch; ``config.gradient_accumulation`` batches make one
    optimizer step. A shared encoder (from ``shared_encoder``) is refused: train ``encoder.copy()``.
    Training runs on float32 weights (checkpoints are float32); an encoder whose ``dtype="auto"``
    chose 16-bit weights gets them back, from the trained float32 ones, when ``fit`` returns.
    """
    config = config or TrainConfig()
    _check(encoder, examples, config)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    loss.to(encoder.device)
    inference_dtype = encoder.dtype_name
    try:
        run = _start(encoder, len(examples), loss, config, evaluator=evaluator, output_path=output_path)
    except BaseException:
        encoder.set_dtype(inference_dtype)  # nothing trained: the encoder is as it was
        raise
    encoder.mark_modified()
    encoder.train()
    try:
        for _ in range(config.epochs):
            order = list(examples)
            rng.shuffle(order)
            _run_epoch(run, order)
            if run.result.steps >= run.total:
                break
        _finish(run)
    finally:
        encoder.eval()
        encoder.set_dtype(inference_dtype)
    return run.result


def _finish(run: _Run) -> None:
    if run.evaluator:
        _evaluate(run)
    elif run.output_path is not None:
        run.encoder.save(run.output_path)
        run.result.best_path = str(run.output_path)


def _run_epoch(run: _Run, order: Sequence[InputExample]) -> None:
    window = run.config.batch_size * run.config.gradient_accumulation
    params = [p for g in run.optimizer.param_groups for p in g["params"]]
    for start in range(0, len(order), window):
        run.result.losses.append(_step(run, order[start : start + window]))
        if run.scaler is not None:
            run.scaler.unscale_(run.optimizer)
        nn.utils.clip_grad_norm_(params, run.config.max_grad_norm)
        if run.scaler is not None:
            run.scaler.step(run.optimizer)
            run.scaler.update()
        else:
            run.optimizer.step()
        run.scheduler.step()
        run.optimizer.zero_grad(set_to_none=True)
        run.result.steps += 1
        if run.evaluator and run.config.eval_every and run.result.steps % run.config.eval_every == 0:
            _evaluate(run)
        if run.result.steps >= run.total:
            return


def _autocast(run: _Run) -> contextlib.AbstractContextManager[Any]:
    if run.autocast is None:
        return contextlib.nullcontext()
    if run.encoder.device.type == "cpu":
        from .._base.cpu import prepare_bf16_cpu

        prepare_bf16_cpu()
    return torch.autocast(run.encoder.device.type, dtype=run.autocast)


def _step(run: _Run, window: Sequence[InputExample]) -> float:
    encoder, size = run.encoder, run.config.batch_size
    parts = [window[i : i + size] for i in range(0, len(window), size)]
    total = 0.0
    for part in parts:
        features = [encoder.transformer.tokenize(texts, encoder.device) for texts in columns(part)]
        labels = torch.tensor([e.label for e in part], device=encoder.device)
        with _autocast(run):
            value = run.loss(encoder, features, labels) / len(parts)
        (run.scaler.scale(value) if run.scaler is not None else value).backward()
        total += float(value.detach())
    return total


def _evaluate(run: _Run) -> None:
    run.encoder.eval()
    with torch.no_grad():
        score = float(run.evaluator(run.encoder)) if run.evaluator else float("nan")
    run.encoder.train()
    run.result.evaluations.append((run.result.steps, score))
    log.info("step %d: dev score %.2f", run.result.steps, score)
    if run.result.best_score is None or score > run.result.best_score:
        run.result.best_score = score
        if run.output_path is not None:
            run.encoder.save(run.output_path)
            run.result.best_path = str(run.output_path)
