#!/usr/bin/env python3
"""Summarises an ablation folder written by scripts/ablate.sh into results.md and results.json.

Per setting and metric: the mean and the sample standard deviation over seeds. Against the
baseline (the grid's first setting), on the seeds both finished:
  * paired t-test over seeds: d_s = metric(setting, seed s) - metric(baseline, seed s),
    t = mean(d) / (sd(d) / sqrt(n)), two-sided p from Student's t with n - 1 degrees of freedom;
  * paired bootstrap over queries (Recall@1 only): the (seed, query) pairs are resampled with
    replacement, B = 2000 times, the same resample for both settings; reported are the 95 %
    percentile interval of the difference and the two-sided bootstrap p
    (2 x the smaller share of resampled differences on either side of 0).
The t-test answers "does the setting change the expected Recall over training runs" (the seed
spread included); the bootstrap only "over test queries, for these trained models".
Also reported per setting: the concept-consistency term at the start and the end of training
(mean loss_cc over the first and the last 10 % of logged steps).

usage: ablate_summary.py OUT_DIR
"""
import json
import math
import os
import random
import sys


def betacf(a, b, x):
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def inc_beta(a, b, x):
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t, df):
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    if not math.isfinite(t):
        return 0.0
    return inc_beta(df / 2.0, 0.5, df / (df + t * t))


def mean_sd(xs):
    n = len(xs)
    if n == 0:
        return None, None
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1)) if n > 1 else float("nan")
    return m, sd


def load_json(path):
    with open(path) as f:
        return json.load(f)


def query_hits(run_dir, targets):
    """{query id: 1 if the top-1 prediction is the target else 0}, or None."""
    p = os.path.join(run_dir, "predictions.json")
    if not os.path.exists(p):
        return None
    preds = load_json(p)
    preds.pop("__ctcir__", None)  # provenance entry (docs/formats.md), not a query
    return {q: int(bool(v) and v[0] == targets.get(q)) for q, v in preds.items()}


def test_targets(seed_dir):
    out = {}
    p = os.path.join(seed_dir, "data", "test.jsonl")
    if not os.path.exists(p):
        return out
    with open(p) as f:
        for line in f:
            r = json.loads(line)
            out[str(r["id"])] = os.path.splitext(r["target"])[0]  # predictions name images without extension
    return out


def cc_curve(run_dir):
    """loss_cc: means over the first and last 10 % of the logged steps, and a curve of means
    over 10 windows of equal length."""
    p = os.path.join(run_dir, "train_metrics.jsonl")
    if not os.path.exists(p):
        return None
    cc = []
    with open(p) as f:
        for line in f:
            try:
                cc.append(float(json.loads(line)["loss_cc"]))
            except (ValueError, KeyError):
                pass
    if not cc:
        return None
    k = max(1, len(cc) // 10)
    windows = [cc[i * len(cc) // 10:(i + 1) * len(cc) // 10] for i in range(10)]
    return {"start": sum(cc[:k]) / k, "end": sum(cc[-k:]) / k, "steps": len(cc),
            "curve": [sum(w) / len(w) for w in windows if w]}


def fmt(x, nd=2):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    with open(os.path.join(out, "grid.txt")) as f:
        spec = f.read().strip()
    settings = [s.split(":", 1) for s in spec.split(";") if s]
    info = load_json(os.path.join(out, "ablate.json")) if os.path.exists(os.path.join(out, "ablate.json")) else {}
    base = settings[0][0]
    runs = {}  # name -> seed -> {"metrics", "hits", "cc"}
    targets = {}
    for name, _ in settings:
        d = os.path.join(out, "runs", name)
        runs[name] = {}
        if not os.path.isdir(d):
            continue
        for sd in sorted(os.listdir(d)):
            mpath = os.path.join(d, sd, "metrics.json")
            if not sd.startswith("seed-") or not os.path.exists(mpath):
                continue
            seed = sd[5:]
            if seed not in targets:
                targets[seed] = test_targets(os.path.join(out, "seed-" + seed))
            runs[name][seed] = {
                "metrics": load_json(mpath)["metrics"],
                "hits": query_hits(os.path.join(d, sd), targets[seed]),
                "cc": cc_curve(os.path.join(d, sd)),
            }
    metric_keys = []
    for name, _ in settings:
        for r in runs[name].values():
            for k in r["metrics"]:
                if k not in metric_keys:
                    metric_keys.append(k)
    rng = random.Random(12345)
    result = {"info": info, "baseline": base,
              "test": "paired t-test over seeds (two-sided); paired bootstrap over (seed, query) pairs for recall@1, B=2000",
              "settings": []}
    for name, keys in settings:
        seeds = sorted(runs[name], key=int)
        entry = {"name": name, "set": keys, "seeds": [int(s) for s in seeds], "metrics": {}, "vs_baseline": {}}
        for k in metric_keys:
            xs = [runs[name][s]["metrics"][k] for s in seeds if k in runs[name][s]["metrics"]]
            m, sd = mean_sd(xs)
            entry["metrics"][k] = {"mean": m, "sd": sd, "n": len(xs), "values": xs}
        # Recall@1 recomputed from the top-1 predictions (what the bootstrap resamples)
        entry["recall@1_from_predictions"] = [100.0 * sum(h.values()) / len(h) if h else None
                                              for h in (runs[name][s]["hits"] for s in seeds)]
        ccs = [runs[name][s]["cc"] for s in seeds if runs[name][s]["cc"]]
        if ccs:
            entry["loss_cc"] = {"start": mean_sd([c["start"] for c in ccs])[0],
                                "end": mean_sd([c["end"] for c in ccs])[0],
                                "steps": ccs[0]["steps"],
                                "curve": [mean_sd([c["curve"][i] for c in ccs if len(c["curve"]) > i])[0]
                                          for i in range(len(ccs[0]["curve"]))]}
        if name != base:
            common = [s for s in seeds if s in runs[base]]
            for k in metric_keys:
                ds = [runs[name][s]["metrics"][k] - runs[base][s]["metrics"][k] for s in common
                      if k in runs[name][s]["metrics"] and k in runs[base][s]["metrics"]]
                m, sd = mean_sd(ds)
                cmp = {"n": len(ds), "mean_diff": m, "sd_diff": sd}
                if len(ds) >= 2 and sd is not None and sd > 0:
                    t = m / (sd / math.sqrt(len(ds)))
                    cmp["t"] = t
                    cmp["p"] = t_two_sided_p(t, len(ds) - 1)
                elif len(ds) >= 2:
                    cmp["p"] = 1.0 if m == 0 else 0.0
                entry["vs_baseline"][k] = cmp
            pairs = []
            for s in common:
                a, b = runs[name][s]["hits"], runs[base][s]["hits"]
                if a and b:
                    pairs += [(a[q], b[q]) for q in a if q in b]
            if pairs:
                n = len(pairs)
                obs = 100.0 * sum(x - y for x, y in pairs) / n
                diffs = []
                for _ in range(2000):
                    tot = 0
                    for _ in range(n):
                        x, y = pairs[rng.randrange(n)]
                        tot += x - y
                    diffs.append(100.0 * tot / n)
                diffs.sort()
                lo, hi = diffs[int(0.025 * len(diffs))], diffs[int(0.975 * len(diffs)) - 1]
                below = sum(d <= 0 for d in diffs) / len(diffs)
                above = sum(d >= 0 for d in diffs) / len(diffs)
                entry["vs_baseline"]["bootstrap_recall@1"] = {
                    "pairs": n, "diff": obs, "ci95": [lo, hi], "p": min(1.0, 2 * min(below, above))}
        result["settings"].append(entry)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    show = [k for k in ("recall@1", "recall@5", "recall@10", "recall@50", "grounding/pointing", "grounding/mass")
            if k in metric_keys]
    lines = [f"# Ablation: {out}", "",
             f"Settings: {json.dumps(info)}", "",
             "Mean +- sample standard deviation over seeds (percent). Paired comparison with the baseline "
             f"(`{base}`): mean per-seed difference, paired t-test over seeds (two-sided p), and for "
             "Recall@1 a paired bootstrap over (seed, query) pairs (95 % interval, p). loss_cc: mean of "
             "the logged concept-consistency term over the first / last 10 % of steps.", "",
             "| setting | overrides | seeds | " + " | ".join(show) + " | loss_cc start -> end |",
             "|---|---|---|" + "---|" * len(show) + "---|"]
    for e in result["settings"]:
        cells = [f"{fmt(e['metrics'][k]['mean'])} +- {fmt(e['metrics'][k]['sd'])}" for k in show]
        cc = e.get("loss_cc")
        ccs = f"{fmt(cc['start'], 4)} -> {fmt(cc['end'], 4)}" if cc else "-"
        lines.append(f"| {e['name']} | {e['set'] or '(recipe)'} | {len(e['seeds'])} | " + " | ".join(cells) + f" | {ccs} |")
    lines += ["", "| setting vs baseline | " + " | ".join(f"d {k} (p)" for k in show) + " | bootstrap d R@1 [95 %] (p) |",
              "|---|" + "---|" * len(show) + "---|"]
    for e in result["settings"][1:]:
        v = e["vs_baseline"]
        cells = [f"{fmt(v[k]['mean_diff'])} ({fmt(v[k].get('p'), 3)})" if k in v else "-" for k in show]
        b = v.get("bootstrap_recall@1")
        bs = f"{fmt(b['diff'])} [{fmt(b['ci95'][0])}, {fmt(b['ci95'][1])}] ({fmt(b['p'], 3)})" if b else "-"
        lines.append(f"| {e['name']} (n={v.get('recall@1', {}).get('n', 0)}) | " + " | ".join(cells) + f" | {bs} |")
    types = ["object", "attribute+object", "relation", "background"]
    if any(f"grounding/{t}/pointing" in metric_keys for t in types):
        lines += ["", "Grounding per phrase type: pointing / mass (percent, mean +- sd over seeds); chance level "
                  "(the share of patches inside the named cells) in the last row.", "",
                  "| setting | " + " | ".join(types + ["all"]) + " |", "|---|" + "---|" * (len(types) + 1)]
        pre = [f"{t}/" for t in types] + [""]
        for e in result["settings"]:
            mt = e["metrics"]
            cells = []
            for p in pre:
                a, b = mt.get(f"grounding/{p}pointing"), mt.get(f"grounding/{p}mass")
                cells.append(f"{fmt(a['mean'])} +- {fmt(a['sd'])} / {fmt(b['mean'])} +- {fmt(b['sd'])}" if a and b and a["n"] else "-")
            lines.append(f"| {e['name']} | " + " | ".join(cells) + " |")
        chance = [result["settings"][0]["metrics"].get(f"grounding/chance/{p}pointing") for p in pre]
        lines.append("| chance | " + " | ".join(fmt(c["mean"]) if c and c["n"] else "-" for c in chance) + " |")
        iso = [k for k in ("grounding/cc/ctx_level", "grounding/cc/iso_level", "grounding/cc/abs",
                           "grounding/cc/abs_patches", "grounding/isolated/pointing") if k in metric_keys]
        if iso:
            lines += ["", "In-context and isolated maps of the scored phrases (`eval --grounding-isolated`): mean patch "
                      "value of a_ctx and a_iso, the CC term mean |a_ctx - a_iso| without and with per-map "
                      "normalisation, and the isolated map's pointing accuracy.", "",
                      "| setting | " + " | ".join(k.split("/", 1)[1] for k in iso) + " |", "|---|" + "---|" * len(iso)]
            for e in result["settings"]:
                mt = e["metrics"]
                lines.append(f"| {e['name']} | " + " | ".join(
                    f"{fmt(mt[k]['mean'], 4)} +- {fmt(mt[k]['sd'], 4)}" if k in mt and mt[k]["n"] else "-" for k in iso) + " |")
    curves = [e for e in result["settings"] if e.get("loss_cc") and e["loss_cc"]["curve"]]
    if curves:
        lines += ["", "loss_cc during training: mean over seeds of the mean over each tenth of the steps "
                  "(first column: steps 1 .. n/10).", "",
                  "| setting | " + " | ".join(f"{i}/10" for i in range(1, 11)) + " |", "|---|" + "---|" * 10]
        for e in curves:
            lines.append(f"| {e['name']} | " + " | ".join(fmt(x, 4) for x in e["loss_cc"]["curve"]) + " |")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
