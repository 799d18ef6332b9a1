"""The mIoU-per-click curve and the bench chart: CSV always, PNG with matplotlib (the
``plots`` extra). matplotlib draws off-screen (Agg), never through Qt."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..fsutil import atomic_write, atomic_write_text


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def write_curve(out: Path, miou: list[float], miou_best: list[float], title: str
                ) -> list[Path]:
    """``miou_per_click.csv`` and, with matplotlib, ``miou_per_click.png``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = ["clicks,miou,miou_best_of_three"] + [
        f"{k},{a:.6f},{b:.6f}" for k, (a, b) in enumerate(zip(miou, miou_best), 1)]
    written = [atomic_write_text(out / "miou_per_click.csv", "\n".join(rows) + "\n")]
    plt = _pyplot()
    if plt is None:
        return written
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    clicks = range(1, len(miou) + 1)
    ax.plot(clicks, miou, marker="o", label="candidate ranked first (the app's pick)")
    ax.plot(clicks, miou_best, marker=".", linestyle="--", label="best of three vs truth")
    for level in (0.85, 0.90):
        ax.axhline(level, color="grey", linewidth=0.5)
    ax.set(xlabel="clicks", ylabel="mIoU", title=title, ylim=(0, 1.0))
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right")
    fig.tight_layout()
    written.append(atomic_write(out / "miou_per_click.png",
                                lambda fh: fig.savefig(fh, format="png")))
    plt.close(fig)
    return written


def write_bench_chart(out: Path, rows: list[dict]) -> list[Path]:
    """``bench.csv`` and, with matplotlib, ``bench.png`` (encode and decode medians)."""
    out.mkdir(parents=True, exist_ok=True)

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["variant", "provider", "ran_on", "load_ms", "encode_ms_median",
                     "decode_ms_median", "peak_mb", "agreement_iou", "error"])
    for r in rows:
        writer.writerow([r["variant"], r["provider"], r["ran_on"], r["load_ms"],
                         r["encode_ms"].get("median", ""), r["decode_ms"].get("median", ""),
                         r["peak_mb"], r["agreement_iou"], r["error"]])
    written = [atomic_write_text(out / "bench.csv", text.getvalue())]
    plt = _pyplot()
    ran = [r for r in rows if not r["error"]]
    if plt is None or not ran:
        return written
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(ran) + 1.5), dpi=100)
    names = [f"{r['variant']} / {r['ran_on']}" for r in ran]
    ax.barh(names, [r["encode_ms"]["median"] for r in ran], label="encode")
    ax.barh(names, [r["decode_ms"]["median"] for r in ran],
            left=[r["encode_ms"]["median"] for r in ran], label="decode")
    ax.set(xlabel="ms per image (median)", title="sam3-canvas bench")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    fig.tight_layout()
    written.append(atomic_write(out / "bench.png", lambda fh: fig.savefig(fh, format="png")))
    plt.close(fig)
    return written
