"""``sbert train``: fine-tune with one of the siamese objectives from the command line.

Kept outside ``sbert_plugins.training`` so building the CLI parser does not import torch.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from .options import add_data_dir, add_encode_options


def register(sub: Any) -> None:
    p = sub.add_parser("train", help="fine-tune with the paper's objectives (cosine / softmax / triplet / mnrl)")
    p.add_argument("--train", required=True, help="STS set name (stsb-train) or a .tsv (score|label, s1, s2)")
    p.add_argument("--loss", default="cosine", choices=["cosine", "softmax", "triplet", "mnrl"])
    p.add_argument("--eval", default="stsb-dev", help="STS set for model selection ('' to skip)")
    p.add_argument("--output", required=True, help="folder for the best checkpoint (sentence-transformers format)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=float, default=0.1, help="warm-up fraction of the steps")
    p.add_argument("--head-lr", type=float, default=None, help="lr of the loss's own head (softmax classifier)")
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument(
        "--autocast",
        default="auto",
        choices=["auto", "none", "bfloat16", "float16"],
        help="mixed precision; auto = the 16-bit dtype --dtype auto chose (none where it chose float32)",
    )
    p.add_argument("--bf16", dest="autocast", action="store_const", const="bfloat16", help="= --autocast bfloat16")
    p.add_argument("--max-steps", type=int, default=None)
    add_data_dir(p)
    # fit() trains float32 master weights (an explicit 16-bit --dtype is refused); --batch-size is the training batch
    add_encode_options(p, batch_size=16)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from .._base.eval_data import STS_FILES, load_sts
    from ..training import TrainConfig, fit, make_loss, nli_examples, sts_evaluator, sts_examples
    from .options import make_encoder

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        head_lr=args.head_lr,
        warmup_ratio=args.warmup,
        gradient_accumulation=args.grad_accum,
        autocast=args.autocast,
        eval_every=args.eval_every,
        max_steps=args.max_steps,
    )
    encoder = make_encoder(args)  # --dtype is passed on so fit() refuses explicit 16-bit weights with its message
    examples = nli_examples(args.train) if args.loss == "softmax" else sts_examples(args.train, data_dir=args.data_dir)
    if args.loss in ("triplet", "mnrl") and args.train in STS_FILES:
        # STS pairs as (anchor, positive) for in-batch negatives: keep only the very similar ones
        examples = [e for e in examples if e.label >= 0.8]
    evaluator = sts_evaluator(*load_sts(args.eval, args.data_dir)) if args.eval else None
    result = fit(encoder, examples, make_loss(args.loss, encoder), config, evaluator=evaluator, output_path=args.output)
    print(
        f"{result.steps} steps; first loss {result.losses[0]:.4f}, last {result.losses[-1]:.4f}; "
        f"dev scores {result.evaluations}; best {result.best_score} saved to {result.best_path}"
    )
    return 0
