"""End-to-end benchmark: the Isle of Wight demo (`placeplan run`), cold and warm cache.

Each run is a fresh interpreter (imports included), as a user experiences `make demo`; cold runs
use an empty cache folder, warm runs reuse the one the cold run filled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "data" / "sample" / "isle-of-wight" / "plan.toml"

_STAGE_SCRIPT = """
import json, sys
import placeplan
from placeplan.config import load_plan
from placeplan.pipeline import run_and_publish
placeplan.settings.progress = False
plan = load_plan(sys.argv[1])
meta = plan.plan.model_copy(update={"output_dir": __import__("pathlib").Path(sys.argv[2])})
res, _ = run_and_publish(plan.model_copy(update={"plan": meta}))
print(json.dumps(res.timings_s))
"""


def _run(cache: Path, out: Path) -> tuple[float, dict[str, float]]:
    import json

    env = dict(os.environ, PLACEPLAN_CACHE_DIR=str(cache), PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _STAGE_SCRIPT, str(PLAN), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def pipeline(results: list[str], repeat: int = 3) -> None:
    """Append the demo timings (cold and warm, per stage) to ``results``."""
    rows = []
    stages: dict[str, list[float]] = {}
    for kind in ("cold", "warm"):
        walls = []
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache"
            if kind == "warm":
                _run(cache, Path(tmp) / "out")  # fill the cache
            for i in range(repeat):
                if kind == "cold":
                    cache = Path(tmp) / f"cache{i}"
                wall, timings = _run(cache, Path(tmp) / f"out{i}")
                walls.append(wall)
                for k, v in timings.items():
                    stages.setdefault(f"{kind}:{k}", []).append(v)
        walls.sort()
        rows.append((kind, walls[len(walls) // 2], walls[0], walls[-1]))
    results += [
        "## End to end: the Isle of Wight demo",
        "",
        "`placeplan run data/sample/isle-of-wight/plan.toml` in a fresh interpreter, "
        f"{repeat} runs "
        "each; cold = empty cache folder, warm = network and matrix from cache. Includes reading "
        "inputs, two scenarios, the budgeted site selection, the placement flows (3 paths × 3 "
        "seeds), the per-proposal assessment, the capital programme (`[optimise]`), the report "
        "and all outputs.",
        "",
        "| cache | median wall s | min | max |",
        "|---|---:|---:|---:|",
    ]
    results += [f"| {k} | {med:.2f} | {lo:.2f} | {hi:.2f} |" for k, med, lo, hi in rows]
    results += ["", "| stage | cold median s | warm median s |", "|---|---:|---:|"]
    names = [k.split(":", 1)[1] for k in stages if k.startswith("cold:")]
    for name in names:
        cold = sorted(stages[f"cold:{name}"])
        warm = sorted(stages.get(f"warm:{name}", [float("nan")]))
        results.append(f"| {name} | {cold[len(cold) // 2]:.2f} | {warm[len(warm) // 2]:.2f} |")
    results.append("")
