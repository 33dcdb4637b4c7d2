#!/usr/bin/env python3
"""Plot a ctcir training log.

Usage: python3 scripts/plot_training.py RUN_DIR_OR_METRICS [--out FILE.png] [--smooth N] [--title T]

RUN_DIR_OR_METRICS is the --out folder of `ctcir train` (its metrics.jsonl is read) or a
metrics.jsonl itself: one JSON object per line with step, loss, loss_cont, loss_cc, lr and
grad_norm. The picture has two panels sharing the step axis:
  top:    loss and its contrastive part (left axis), the concept-consistency loss (right
          axis, unweighted, so its own scale); raw values faint, a moving average bold
  bottom: the learning rate (left axis) and the gradient norm before clipping (right axis)
Default output: training.png beside metrics.jsonl. Needs matplotlib (Debian:
python3-matplotlib). Lines that do not parse (a line being written) are skipped with a
warning; a step logged twice (a resumed run) keeps its last record.
"""
import argparse
import json
import math
import os
import sys

FIELDS = ("loss", "loss_cont", "loss_cc", "lr", "grad_norm")


def read_metrics(path):
    records, bad = {}, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
                step = int(r["step"])
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            records[step] = r
    if bad:
        print(f"plot_training: {path}: skipped {bad} line(s) that do not parse", file=sys.stderr)
    steps = sorted(records)
    series = {k: [float(records[s].get(k, math.nan)) for s in steps] for k in FIELDS}
    return steps, series


def moving_average(values, window):
    """Trailing mean over `window` finite values (NaN where none)."""
    out, acc, q = [], 0.0, []
    for v in values:
        if math.isfinite(v):
            q.append(v)
            acc += v
            if len(q) > window:
                acc -= q.pop(0)
        out.append(acc / len(q) if q else math.nan)
    return out


def main():
    ap = argparse.ArgumentParser(description="Plot loss (and its parts), lr and grad norm of a ctcir run.")
    ap.add_argument("run", help="ctcir train --out folder, or its metrics.jsonl")
    ap.add_argument("--out", help="output PNG (default: training.png beside metrics.jsonl)")
    ap.add_argument("--smooth", type=int, default=0, help="moving-average window in steps (default: steps/20, at least 1)")
    ap.add_argument("--title", help="figure title (default: the run's folder name)")
    a = ap.parse_args()

    path = os.path.join(a.run, "metrics.jsonl") if os.path.isdir(a.run) else a.run
    if not os.path.isfile(path):
        sys.exit(f"plot_training: {path}: no such file")
    steps, s = read_metrics(path)
    if not steps:
        sys.exit(f"plot_training: {path}: no records")
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(path)), "training.png")
    window = a.smooth if a.smooth > 0 else max(1, len(steps) // 20)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        sys.exit("plot_training: matplotlib is missing (Debian: apt-get install python3-matplotlib)")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=(3, 2))
    title = a.title or os.path.basename(os.path.dirname(os.path.abspath(path)))
    fig.suptitle(f"{title}  ({len(steps)} steps, last loss {s['loss'][-1]:.4g})")

    def curve(ax, key, color, label):
        if window > 1:
            ax.plot(steps, s[key], color=color, alpha=0.25, linewidth=0.8)
            ax.plot(steps, moving_average(s[key], window), color=color, linewidth=1.8, label=label)
        else:
            ax.plot(steps, s[key], color=color, linewidth=1.5, label=label)

    curve(top, "loss", "black", "loss")
    curve(top, "loss_cont", "tab:blue", "contrastive")
    top.set_ylabel("loss")
    top.grid(alpha=0.3)
    cc = top.twinx()
    curve(cc, "loss_cc", "tab:orange", "concept consistency (right)")
    cc.set_ylabel("concept-consistency loss", color="tab:orange")
    cc.tick_params(axis="y", colors="tab:orange")
    handles = top.get_legend_handles_labels()[0] + cc.get_legend_handles_labels()[0]
    top.legend(handles=handles, loc="upper right", framealpha=0.85,
               title=f"moving average over {window} steps" if window > 1 else None)

    bottom.plot(steps, s["lr"], color="tab:green", linewidth=1.5, label="learning rate")
    bottom.set_ylabel("learning rate", color="tab:green")
    bottom.tick_params(axis="y", colors="tab:green")
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    bottom.set_xlabel("step")
    bottom.grid(alpha=0.3)
    gn = bottom.twinx()
    gn.plot(steps, s["grad_norm"], color="tab:red", linewidth=0.8, alpha=0.7, label="grad norm (right)")
    gn.set_ylabel("gradient norm", color="tab:red")
    gn.tick_params(axis="y", which="both", colors="tab:red")
    if all(math.isfinite(v) and v > 0 for v in s["grad_norm"]):
        gn.set_yscale("log")
        gn.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        gn.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        gn.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    bottom.legend(handles=bottom.get_legend_handles_labels()[0] + gn.get_legend_handles_labels()[0],
                  loc="upper right", framealpha=0.85)

    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
