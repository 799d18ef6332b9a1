"""Progress while a batch job runs (images/s, done/total, ETA) and its summary at the end."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from .steps import DONE, FAILED, SKIPPED, Result


@dataclass
class Report:
    total: int
    counts: Counter = field(default_factory=Counter)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (image, reason)
    notes: list[str] = field(default_factory=list)
    instances: int = 0
    labels: set[str] = field(default_factory=set)
    providers: Counter = field(default_factory=Counter)
    workers: Counter = field(default_factory=Counter)  # images run by each worker process
    model_ms: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    show: bool = True
    _bar: object = None

    def __post_init__(self):
        if self.show:
            from tqdm import tqdm
            self._bar = tqdm(total=self.total, unit="image", file=sys.stderr, disable=None,
                             smoothing=0.1)

    def fail(self, what: str, why: str) -> None:
        """An item of the job that failed before it became a task (a bad path)."""
        self.counts[FAILED] += 1
        self.failed.append((what, why))
        print(f"sam3-canvas: error: {why}", file=sys.stderr)
        if self._bar is not None:
            self._bar.update(1)  # type: ignore[attr-defined]

    def add(self, result: Result) -> None:
        if result.status == FAILED:
            self.fail(result.task.where, result.error)
        else:
            self.counts[result.status] += 1
        if result.status == DONE:
            self.instances += result.instances
            self.labels.update(result.labels)
            self.providers[result.provider] += 1
            self.workers[result.worker] += 1
            self.model_ms.append(result.timings.get("model", 0.0))
            for note in result.notes:
                if note not in self.notes:
                    self.notes.append(note)
                    print(f"sam3-canvas: warning: {note}", file=sys.stderr)
        if self._bar is not None:
            if result.status != FAILED:
                self._bar.update(1)  # type: ignore[attr-defined]
            self._bar.set_postfix(done=self.counts[DONE], skipped=self.counts[SKIPPED],  # type: ignore[attr-defined]
                                  failed=self.counts[FAILED], refresh=False)

    def close(self) -> None:
        self.finished = time.perf_counter()
        if self._bar is not None:
            self._bar.close()  # type: ignore[attr-defined]

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def images_per_second(self) -> float:
        """Images the model ran on per second of the whole run (skipped ones not counted)."""
        return self.counts[DONE] / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        done, skipped, failed = (self.counts[k] for k in (DONE, SKIPPED, FAILED))
        lines = [f"{self.instances} instances in {done} images ({skipped} already done, "
                 f"{failed} failed) in {self.seconds:.1f} s: "
                 f"{self.images_per_second:.2f} images/s"]
        if self.model_ms:
            mean = sum(self.model_ms) / len(self.model_ms)
            where = ", ".join(f"{p} ({n})" for p, n in self.providers.most_common())
            lines.append(f"  model time {mean:.0f} ms per image on {where}; "
                         f"{len(self.workers)} worker process(es)")
        return "\n".join(lines)

    def failures(self) -> str:
        if not self.failed:
            return ""
        lines = [f"sam3-canvas: {len(self.failed)} of {self.total} failed:"]
        lines += [f"  {why}" if why.startswith(what) else f"  {what}: {why}"
                  for what, why in self.failed]  # most reasons name the image already
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"total": self.total, "done": self.counts[DONE],
                "skipped": self.counts[SKIPPED], "failed": [
                    {"image": what, "error": why} for what, why in self.failed],
                "instances": self.instances, "seconds": round(self.seconds, 3),
                "images_per_second": round(self.images_per_second, 3),
                "providers": dict(self.providers), "workers": len(self.workers)}
