"""bf16 against fp32 on the demo's metrics: the same checkpoints of every seed of an ``ipd study``
folder evaluated twice, ``--precision 32`` and ``--precision bf16`` (``ipd evaluate``'s code).

For each seed: the sound, object and SOT0503 action checkpoints on the test split of the study's
world (temporal AUC and spatial px of SOT0503 and SOT0503xOxS) and the object hit rate. Writes
``OUT/precision.json`` and prints a table of the paired differences (bf16 - fp32) over seeds::

    python -m bench.precision_effect study --out bench-results/precision
    python -m bench.precision_effect --table bench-results/precision/precision.json \
        --into docs/performance.md        # rewrite the precision block from a run

Needs a processor (or GPU) with native bf16 (``ipd.precision``).
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from ipd.precision import check_precision, kernel_path
from ipd.staging.evaluate import Models, evaluate_split

ROWS = ("SOT0503", "SOT0503xOxS")
METRICS = ("temporal_auc", "spatial_px")


def evaluate_seed(study: Path, seed_dir: Path, out: Path, precision: str) -> dict:
    """The ``ROWS`` metrics and hit rate of one seed's checkpoints at ``precision``."""
    runs = seed_dir / "runs"
    models = Models(
        sound=runs / "sound" / "checkpoints" / "best.ckpt",
        object=runs / "object" / "checkpoints" / "best.ckpt",
    )
    models.add_action(runs / "action_SOT0503" / "checkpoints" / "best.ckpt")
    folder = out / seed_dir.name / precision
    evaluate_split(
        models, study / "world" / "data", folder, cache=study / "world" / "cache",
        split="test", progress=False, precision=precision,
    )  # fmt: skip
    metrics = json.loads((folder / "metrics.json").read_text())
    result = {row: {m: metrics[row][m] for m in METRICS} for row in ROWS}
    hit = folder / "hit_rate.json"
    result["hit_rate"] = json.loads(hit.read_text())["mean"] if hit.is_file() else None
    return result


def paired(results: dict[str, dict], row: str, metric: str) -> tuple[float, float, float]:
    """Mean fp32 value, mean and standard deviation over seeds of bf16 - fp32."""
    fp32 = np.array([r["32"][row][metric] for r in results.values()])
    bf16 = np.array([r["bf16"][row][metric] for r in results.values()])
    diff = bf16 - fp32
    return float(fp32.mean()), float(diff.mean()), float(diff.std(ddof=1) if len(diff) > 1 else 0)


def table(results: dict[str, dict], cpu: str, date: str) -> str:
    lines = [
        f"bf16 vs fp32, the same checkpoints, {len(results)} seeds (run of {date} on {cpu}):",
        "",
        "| row | metric | fp32 mean | bf16 - fp32, mean | sd over seeds | largest |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in ROWS:
        for metric in METRICS:
            base, mean, sd = paired(results, row, metric)
            largest = max(abs(r["bf16"][row][metric] - r["32"][row][metric])
                          for r in results.values())  # fmt: skip
            lines.append(f"| {row} | {metric} | {base:.4f} | {mean:+.5f} | {sd:.5f} | "
                         f"{largest:.5f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_table(result: Path, into: Path | None) -> int:
    """Print the table of a ``precision.json``, or put it in ``into``'s precision block."""
    doc = json.loads(result.read_text())
    block = table(doc["seeds"], doc["machine"]["cpu"], doc["date"])
    if into is None:
        print(block, end="")
        return 0
    from bench.table import update_block

    into.write_text(update_block(into.read_text(), block, str(into), name="precision"))
    print(f"wrote the precision block of {into}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path, nargs="?", help="an `ipd study` folder")
    parser.add_argument("--out", type=Path, default=Path("bench-results/precision"))
    parser.add_argument("--table", type=Path, help="only write the table of this precision.json")
    parser.add_argument("--into", type=Path, help="with --table: rewrite this file's block")
    args = parser.parse_args(argv)
    if args.table is not None:
        return write_table(args.table, args.into)
    if args.study is None:
        parser.error("give an `ipd study` folder, or --table precision.json")
    check_precision("bf16")
    from ipd.machine import machine_info

    results = {}
    for seed_dir in sorted(args.study.glob("seed_*")):
        if not (seed_dir / "complete.json").is_file():
            continue
        print(f"{seed_dir.name} ...", flush=True)
        results[seed_dir.name] = {
            p: evaluate_seed(args.study, seed_dir, args.out, p) for p in ("32", "bf16")
        }
    info = {**machine_info(), "kernels_bf16": kernel_path("bf16")}
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "precision.json"
    doc = {"date": date, "study": str(args.study), "machine": info, "seeds": results}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(results, info["cpu"], date), end="")
    print(f"precision effect over {len(results)} seeds: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
