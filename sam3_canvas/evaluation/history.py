"""The last measurements of each model, kept for the app's Model menu.

``eval clicks``, ``eval coco`` and ``bench`` each add their summary here (one JSON file in the
user data folder, written atomically); the app reads it. Only the latest result of each kind
per model is kept, so the file stays small.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import platformdirs

from ..fsutil import atomic_write_text

KINDS = ("clicks", "coco", "bench")


def history_path() -> Path:
    override = os.environ.get("SAM3_CANVAS_DATA_DIR")  # tests and portable installs
    root = Path(override) if override else platformdirs.user_data_path("sam3-canvas",
                                                                       appauthor=False)
    return root / "measurements.json"


def load(path: Path | None = None) -> list[dict]:
    """Every kept measurement, newest first; an unreadable file reads as none."""
    path = path or history_path()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["measurements"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(entries, list):
        return []
    return sorted((e for e in entries if isinstance(e, dict)),
                  key=lambda e: str(e.get("when", "")), reverse=True)


def record(kind: str, model: str, summary: dict, data: str = "",
           path: Path | None = None) -> None:
    """Keep ``summary`` as the latest ``kind`` measurement of ``model`` (on ``data``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown measurement kind {kind!r}")
    path = path or history_path()
    kept = [e for e in load(path) if (e.get("kind"), e.get("model")) != (kind, model)]
    kept.insert(0, {"kind": kind, "model": model, "data": data,
                    "when": time.strftime("%Y-%m-%d %H:%M:%S"), "summary": summary})
    try:
        atomic_write_text(path, json.dumps({"measurements": kept}, indent=1))
    except OSError:
        pass  # a read-only data folder loses the history, never the command's result


def result_text(entry: dict) -> str:
    """The numbers of a measurement, short enough for a table cell."""
    summary = entry.get("summary", {})
    kind = entry.get("kind")
    if kind == "clicks":
        noc = summary.get("noc", {})
        miou = summary.get("miou") or []
        first = f", mIoU@1 {miou[0]:.3f}" if miou else ""
        return (f"NoC@85 {noc.get('85', float('nan')):.2f}, NoC@90 "
                f"{noc.get('90', float('nan')):.2f}{first} ({summary.get('objects', 0)} "
                "objects)")
    if kind == "coco":
        found = summary.get("segm") or summary.get("bbox") or {}
        return f"AP {found.get('ap')}, AP50 {found.get('ap50')}, AP75 {found.get('ap75')}"
    rows = summary.get("rows", [])
    parts = [f"{r.get('variant')}/{r.get('ran_on') or r.get('provider')} "
             f"{r.get('encode_ms', {}).get('median', 0):.0f} ms"
             + (f" (IoU {r['agreement_iou']:.3f})" if r.get("agreement_iou") is not None
                else "")
             for r in rows if not r.get("error")]
    return "encode " + "; ".join(parts) if parts else "no variant ran"


def describe(entry: dict) -> str:
    """One line: the model, its numbers, the data and when."""
    return (f"{entry.get('model', '?')}: {result_text(entry)} ({entry.get('data', '')}, "
            f"{entry.get('when', '')})")
