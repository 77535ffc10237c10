#!/usr/bin/env python3
"""Draws the r2s sysid report's plots and index.html from fit.json and predictions.csv in REPORT_DIR.

Run by `r2s sysid --report DIR` (sysid/report.cc) with a Python that has matplotlib (Debian: python3-matplotlib).
Plots: measured vs predicted held-out signals per channel (and the baseline model's, when the fit has one),
histograms of the held-out residuals, and every estimate with its +-2 std error bar drawn within its bounds.
"""
import csv
import html
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display on batch nodes
import matplotlib.pyplot as plt  # noqa: E402

MAX_EPISODES_PLOTTED = 3  # a cube-toss fit has a hundred episodes; the time plots show the first few


def read_predictions(path):
    """{problem: {channel: {episode: [(t, measured, predicted, baseline)]}}} and each channel's unit."""
    series, units = {}, {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        channels = []  # (column index, channel, kind)
        for i, name in enumerate(header[3:], start=3):
            unit = ""
            if name.endswith("]") and " [" in name:
                name, unit = name[:-1].rsplit(" [", 1)
            channel, kind = name.rsplit(" ", 1)
            units[channel] = unit
            channels.append((i, channel, kind))
        for row in reader:
            problem, episode, t = row[0], int(row[1]), float(row[2])
            values = {}
            for i, channel, kind in channels:
                if row[i] != "":
                    values.setdefault(channel, {})[kind] = float(row[i])
            for channel, v in values.items():
                if "measured" not in v:
                    continue
                series.setdefault(problem, {}).setdefault(channel, {}).setdefault(episode, []).append(
                    (t, v["measured"], v.get("predicted", math.nan), v.get("baseline", math.nan)))
    return series, units


def slug(text):
    return "".join(c if c.isalnum() else "_" for c in text)


def plot_signals(problem, channels, units, out_dir):
    names = sorted(channels)
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 1.9 * len(names) + 0.6), squeeze=False, sharex=False)
    for ax, channel in zip(axes[:, 0], names):
        episodes = sorted(channels[channel])[:MAX_EPISODES_PLOTTED]
        for k, episode in enumerate(episodes):
            rows = channels[channel][episode]
            t = [r[0] for r in rows]
            label = (lambda s: s) if k == 0 else (lambda s: None)
            ax.plot(t, [r[1] for r in rows], color="black", lw=1.0, label=label("measured"))
            ax.plot(t, [r[2] for r in rows], color="tab:blue", lw=1.0, label=label("predicted (fit)"))
            if any(not math.isnan(r[3]) for r in rows):
                ax.plot(t, [r[3] for r in rows], color="tab:orange", lw=0.8, ls="--", label=label("baseline"))
        unit = units.get(channel, "")
        ax.set_ylabel(f"{channel}\n[{unit}]" if unit else channel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time from episode start [s] (held-out samples)")
    fig.suptitle(f"{problem}: held-out measured vs predicted", fontsize=10)
    fig.tight_layout()
    name = f"{slug(problem)}_signals.png"
    fig.savefig(os.path.join(out_dir, name), dpi=90)
    plt.close(fig)
    return name


def plot_residuals(problem, channels, units, out_dir):
    names = sorted(channels)
    cols = min(4, len(names))
    rows_n = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.4 * rows_n), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax, channel in zip(axes.flat, names):
        residuals = [r[1] - r[2] for rows in channels[channel].values() for r in rows if not math.isnan(r[2])]
        ax.hist(residuals, bins=60, color="tab:blue", alpha=0.8)
        unit = units.get(channel, "")
        ax.set_title(channel, fontsize=8)
        ax.set_xlabel(f"measured - predicted [{unit}]" if unit else "measured - predicted", fontsize=7)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{problem}: held-out residuals", fontsize=10)
    fig.tight_layout()
    name = f"{slug(problem)}_residuals.png"
    fig.savefig(os.path.join(out_dir, name), dpi=90)
    plt.close(fig)
    return name


def plot_parameters(result, out_dir):
    """Each estimate +-2 std, as a fraction of its bounds; unidentified parameters grey, spanning their prior."""
    params = [p for p in result["parameters"]
              if p["lower"] is not None and p["upper"] is not None and p["estimate"] is not None
              and p["upper"] > p["lower"]]
    if not params:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.22 * len(params) + 1.2))
    for i, p in enumerate(params):
        lo, hi = p["lower"], p["upper"]
        x = (p["estimate"] - lo) / (hi - lo)
        std = p["std"] if p["std"] is not None else (hi - lo) / math.sqrt(12)
        err = 2 * std / (hi - lo)
        color = "tab:blue" if p["identified"] else "tab:gray"
        ax.errorbar([x], [i], xerr=[[min(err, x)], [min(err, 1 - x)]], fmt="o", ms=3, color=color, capsize=2)
        if p["nominal"] is not None:
            ax.plot([(p["nominal"] - lo) / (hi - lo)], [i], marker="|", color="tab:red", ms=8)
    ax.set_yticks(range(len(params)))
    ax.set_yticklabels([p["name"] for p in params], fontsize=6)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("position within [lower, upper]; blue: identified (+-2 std), grey: not identified, red: nominal",
                  fontsize=7)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    name = f"{slug(result['problem'])}_parameters.png"
    fig.savefig(os.path.join(out_dir, name), dpi=90)
    plt.close(fig)
    return name


def fmt(x, digits=4):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return f"{x:.{digits}g}"
    return html.escape(str(x))


def table(headers, rows):
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def main(report_dir):
    with open(os.path.join(report_dir, "fit.json")) as f:
        fit = json.load(f)
    series, units = read_predictions(os.path.join(report_dir, "predictions.csv"))
    parts = [f"<h1>System identification: {html.escape(fit['scene'])}</h1>",
             f"<p>Dataset {html.escape(fit['dataset'])} ({fit['episodes']} episodes); wall time {fit['wall_s']:.1f} s. "
             "Held-out samples are the last part of each episode, not used in the fit. "
             "Machine-readable: <a href='fit.json'>fit.json</a>, <a href='predictions.csv'>predictions.csv</a>.</p>"]
    for skipped in fit["skipped"]:
        parts.append(f"<p class='skip'>Not run: {html.escape(skipped['problem'])}: {html.escape(skipped['why'])}</p>")
    for result in fit["results"]:
        problem = result["problem"]
        parts.append(f"<h2>{html.escape(problem)}</h2>")
        parts.append(f"<p>Ceres: {html.escape(result['termination'])} ({result['iterations']} iterations, "
                     f"converged: {fmt(result['converged'])}); rank {result['rank']}, condition number "
                     f"{fmt(result['condition_number'])}; {result['train_samples']} fitting and "
                     f"{result['held_out_samples']} held-out samples; {result['wall_s']:.1f} s.</p>")
        if result.get("starts"):
            spreads = ", ".join(f"{html.escape(s['block'])} {fmt(s['relative_spread'])}"
                                for s in result.get("start_costs", []))
            parts.append(f"<p>{result['starts']} starts per joint; spread of their final costs "
                         f"((highest - lowest) / lowest): {spreads}. "
                         f"{result.get('passes', 0)} joint-by-joint passes, "
                         f"{'settled' if result.get('passes_converged', True) else 'not settled'}.</p>")
        if result["warnings"]:
            parts.append("<ul class='warn'>" + "".join(f"<li>{html.escape(w)}</li>" for w in result["warnings"])
                         + "</ul>")
        train = {c["channel"]: c for c in result["train"]}
        parts.append(table(
            ["channel", "unit", "held-out RMS", "held-out R²", "baseline RMS", "fitting RMS", "samples"],
            [[html.escape(c["channel"]), html.escape(c["unit"]), fmt(c["rms"]), fmt(c["r2"]), fmt(c["baseline_rms"]),
              fmt(train.get(c["channel"], {}).get("rms")), c["samples"]] for c in result["held_out"]]))
        parts.append(table(
            ["parameter", "unit", "estimate", "std", "nominal", "lower", "upper", "identified", "note"],
            [[html.escape(p["name"]) + ("" if p["overlays_scene"] else " <small>(report only)</small>"),
              html.escape(p["unit"]), fmt(p["estimate"]), fmt(p["std"]), fmt(p["nominal"]), fmt(p["lower"]),
              fmt(p["upper"]), fmt(p["identified"]), html.escape(p["why_not_identified"])]
             for p in result["parameters"]]))
        images = []
        if problem in series:
            images.append(plot_signals(problem, series[problem], units, report_dir))
            images.append(plot_residuals(problem, series[problem], units, report_dir))
        images.append(plot_parameters(result, report_dir))
        parts.extend(f"<p><img src='{name}' alt='{name}'></p>" for name in images if name)
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto} table{border-collapse:collapse;"
             "font-size:12px;margin:8px 0} td,th{border:1px solid #ccc;padding:2px 6px} img{max-width:100%} "
             ".warn{color:#a60} .skip{color:#666}")
    with open(os.path.join(report_dir, "index.html"), "w") as f:
        f.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>r2s sysid report</title>"
                f"<style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plot_report.py REPORT_DIR")
    main(sys.argv[1])
