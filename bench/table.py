"""The benchmark's Markdown tables, made from its ``bench.json`` (never typed by hand)::

    python -m bench.table bench-results/bench.json                 # print
    python -m bench.table bench-results/bench.json --into docs/performance.md  # the bench block
    python -m bench.table bench-results/bench.json --short --into README.md   # targets only

The block in the target file sits between ``<!-- bench:begin ... -->`` and ``<!-- bench:end -->``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path

# (key in bench.json, what it is, target, whether higher is better)
TARGETS = (
    ("speedup_detect", "ipd detect speed-up over the reference-style pipeline (fp32)", 2.5, True),
    ("rtf_detect", "ipd detect real-time factor, 60-s video, fp32", 5.0, True),
    ("rtf_detect_bf16", "ipd detect real-time factor, 60-s video, bf16", 10.0, True),
    ("peak_rss_mb_detect_10min", "ipd detect peak memory, 10-min video, MB", 2048, False),
    ("extract_scaling_2_workers", "ipd extract throughput, 2 workers / 1 worker", 1.8, True),
    ("flow_mb_per_min", "stored flow per video-minute, MB", 15.0, False),
    ("flow_quant_err_px", "mean rounding error of the stored flow, px", 0.25, False),
)


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and abs(value) < 0.01 and value != 0:
        return f"{value:.1e}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def markdown(result: Mapping, short: bool = False) -> str:
    """The run's header line and targets table; unless ``short``, the side-by-side table and
    the details too."""
    cpu = result["cpu"]
    flags = ", ".join(cpu["flags"]) or "none read"
    lines = [
        f"Run of {result['date']} on **{cpu['cpu']}** ({cpu['cores']} cores; flags {flags}; "
        f"torch {cpu['torch']}, {cpu['threads']} threads; fp32 kernels {cpu['kernels_fp32']}, "
        f"bf16 {cpu['kernels_bf16'] or 'not native here'}). One run, one machine: timings vary "
        "with the processor and with other jobs on it.",
        "",
        "| target | this run | goal | met |",
        "| --- | --- | --- | --- |",
    ]
    amx = "amx_bf16" in cpu["flags"]
    for key, label, goal, higher in TARGETS:
        value = result.get(key)
        met = "-" if value is None else ("yes" if (value >= goal) == higher else "no")
        if key == "rtf_detect_bf16" and not amx:
            met = "n/a: the goal is for processors with AMX, this one has none"
        sign = ">=" if higher else "<="
        lines.append(f"| {label} | {_num(value, 3 if key.endswith('px') else 2)} | "
                     f"{sign} {_num(goal)} | {met} |")  # fmt: skip
    if short:
        return "\n".join(lines) + "\n"
    ref, ours, bf16 = result["reference"], result["detect"], result.get("detect_bf16") or {}
    long = result.get("ten_minutes") or {}
    lines += [
        "",
        "| 60-s 640 x 360 video, all three models and fusion | reference-style | ipd detect "
        "fp32 | ipd detect bf16 |",
        "| --- | --- | --- | --- |",
        f"| wall time, s (incl. start-up) | {_num(ref['wall_s'], 1)} | {_num(ours['wall_s'], 1)} "
        f"| {_num(bf16.get('wall_s'), 1)} |",
        f"| real-time factor | {_num(result['rtf_reference'])} | {_num(result['rtf_detect'])} | "
        f"{_num(result.get('rtf_detect_bf16'))} |",
        f"| peak memory, MB | {_num(ref['peak_rss_mb'], 0)} | {_num(ours['peak_rss_mb'], 0)} | "
        f"{_num(bf16.get('peak_rss_mb'), 0)} |",
        f"| largest output difference from the reference | - | {_num(result['max_abs_diff'])} | "
        f"{_num(result.get('max_abs_diff_bf16'))} |",
    ]
    if long:
        feats, full = long["reference_features"], long["detect"]
        lines.append(
            f"| 10-min video: peak memory, MB | {_num(feats['peak_rss_mb'], 0)} (decode + flow "
            f"stacks) | {_num(full['peak_rss_mb'], 0)} | - |"
        )
        lines.append(
            f"| 10-min video: wall time, s | {_num(feats['wall_s'], 1)} (decode + flow stacks "
            f"only) | {_num(full['wall_s'], 1)} | - |"
        )
    steps = ours["steps_s"]
    lines += ["", "ipd detect's steps on the 60-s video (fp32, seconds inside the process; the "
              f"rest of the wall time is start-up): {_steps(steps)}; {ours.get('cores_used', '?')} "
              f"cores busy on average (the reference: {ref.get('cores_used', '?')})."]  # fmt: skip
    peaks, nets = result["matmul_gflops"], result["networks"]
    lines += [
        "",
        "| network, batch of 8 frames of 256 x 144 | GFLOP per frame | fp32 GFLOP/s | bf16 "
        "GFLOP/s |",
        "| --- | --- | --- | --- |",
    ]
    for role in ("action", "object"):
        fp32, low = nets["fp32"][role], (nets.get("bf16") or {}).get(role, {})
        lines.append(f"| {role} | {fp32['gflop_per_frame']} | {_num(fp32['gflops'], 0)} | "
                     f"{_num(low.get('gflops'), 0)} |")  # fmt: skip
    lines.append(f"| matrix multiply 2048^2 (this machine's peak) | - | {_num(peaks['fp32'], 0)} "
                 f"| {_num(peaks.get('bf16'), 0)} |")  # fmt: skip
    ex = result["extract"]
    lines += [
        "",
        f"ipd extract (rgb, flow, audio) of four 45-s videos: {ex['seconds_1_worker']:.1f} s with "
        f"1 worker ({ex.get('cores_used_1_worker', '?')} cores busy), "
        f"{ex['seconds_2_workers']:.1f} s with 2 ({ex.get('cores_used_2_workers', '?')} cores "
        f"busy; {ex['scaling']}x). Stored flow: "
        f"{result['flow_mb_per_min']} MB per video-minute, mean rounding error "
        f"{result['flow_quant_err_px']:.4f} px.",
    ]
    training = result.get("training")
    if training:
        lines.append(
            f"Action-model training ({training['config']}): {training['ms_per_step']:.0f} ms per "
            f"step, {100 * training['data_share']:.0f} % of it waiting for data."
        )
    return "\n".join(lines) + "\n"


def _steps(steps: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())


def update_block(text: str, block: str, where: str, name: str = "bench") -> str:
    """``text`` with the part between ``<!-- NAME:begin ... -->`` and ``<!-- NAME:end -->``
    replaced by ``block``."""
    pattern = re.compile(rf"(<!-- {name}:begin[^>]*-->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where}: no '<!-- {name}:begin -->' ... '<!-- {name}:end -->' block")
    return pattern.sub(lambda m: m.group(1) + "\n" + block + "\n" + m.group(2), text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", type=Path, help="bench.json of a run")
    parser.add_argument("--into", type=Path, help="rewrite the bench block of this file")
    parser.add_argument("--short", action="store_true", help="the targets table only")
    args = parser.parse_args(argv)
    block = markdown(json.loads(args.result.read_text()), args.short)
    if args.into is None:
        print(block, end="")
        return 0
    args.into.write_text(update_block(args.into.read_text(), block, str(args.into)))
    print(f"wrote the bench block of {args.into}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
