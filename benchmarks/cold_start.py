"""Cold start: the wall time of one short command in a fresh process, as a user at a shell pays it.

Configurations, alternated round by round so drift hits all alike, each a fresh process:
* ``sbert encode "hello world"`` with the default ``--dtype auto`` (the CPU verdict cached, as after the
  first run on a machine) and again with the cache cleared first (the first run on a machine);
* the same with ``--dtype float32`` (no precision decision at all);
* sentence-transformers' minimal script (import, load the same folder, encode one text).

    python benchmarks/cold_start.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from sbert_plugins._base.cpu import cpu_model

ST_SCRIPT = (
    "from sentence_transformers import SentenceTransformer\n"
    "from sbert_plugins import resolve_model\n"
    "m = SentenceTransformer(str(resolve_model('all-MiniLM-L6-v2')), device='cpu')\n"
    "print(m.encode(['hello world']).shape)\n"
)


def _sbert(*extra: str) -> list[str]:
    return [sys.executable, "-m", "sbert_plugins", "encode", "hello world", *extra]


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="sbert-cold-start-")
    env = {**os.environ, "SBERT_PLUGINS_CACHE": cache}
    env.pop("SBERT_PLUGINS_CPU_DTYPE", None)
    verdict = os.path.join(cache, "cpu-precision.json")
    configs = {
        "sbert encode, --dtype auto, verdict cached": (_sbert(), None),
        "sbert encode, --dtype auto, first run on the machine": (_sbert(), verdict),
        "sbert encode, --dtype float32": (_sbert("--dtype", "float32"), None),
        "sentence-transformers minimal script": ([sys.executable, "-c", ST_SCRIPT], None),
    }
    subprocess.run(_sbert(), env=env, check=True, capture_output=True)  # warm the OS file cache and the verdict
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, (command, clear) in configs.items():
            if clear and os.path.exists(clear):
                os.remove(clear)
            times[name].append(_timed(command, env))
    chosen = (
        subprocess.run(
            [sys.executable, "-m", "sbert_plugins", "precision"], env=env, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    base = statistics.median(times["sbert encode, --dtype float32"])
    print(f"CPU: {cpu_model()}; {chosen}; median of {args.rounds} fresh processes each")
    print(f"{'configuration':<55}{'median s':>10}{'min s':>8}{'max s':>8}{'vs float32':>12}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<55}{median:>10.2f}{min(values):>8.2f}{max(values):>8.2f}{median / base:>11.2f}x")


if __name__ == "__main__":
    main()
