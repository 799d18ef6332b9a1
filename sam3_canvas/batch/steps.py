"""The three steps every image of a batch job goes through: read, infer, write.

They are plain functions of plain values, so the single-process runner calls them in a loop
and the Ray runner maps them (reading and writing as tasks, inference in the actors that
hold the model): the same code, the same files. Any failure of one image becomes a result
with its reason; it never stops the job. The annotation file is the record of what is done:
reading finds an image already done and skips it, and the file is written whole or not at all,
after the model has run, so a killed worker leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..document.annotation import Document, DocumentError
from ..engine.errors import Sam3CanvasError
from ..engine.images import SizedImage, decode_image
from ..fsutil import describe_os_error
from .boxes import BoxPrompt
from .jobs import Job
from .storage import Folder

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class Task:
    """One image: where it is, where its annotation file goes, and its boxes (if any)."""

    source: Folder
    annotations: Folder
    name: str
    boxes: tuple[BoxPrompt, ...] = ()

    @property
    def where(self) -> str:
        return self.source.where(self.name)

    @property
    def annotation_name(self) -> str:
        return f"{self.name}.json"


@dataclass
class Prepared:
    """What reading gives the worker: the image at the model's size and the file already
    there, or why there is nothing to do."""

    task: Task
    image: SizedImage | None = None
    existing: str | None = None  # the annotation file's text, when there is one
    status: str = ""  # "" (to do), SKIPPED or FAILED
    error: str = ""
    read_ms: float = 0.0


@dataclass
class Result:
    task: Task
    status: str
    error: str = ""
    text: str | None = None  # the new annotation file (dropped once written)
    instances: int = 0
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    provider: str = ""
    worker: int = 0  # the process id that ran the model
    timings: dict[str, float] = field(default_factory=dict)


def read(task: Task, job: Job, size: tuple[int, int], max_pixels: int | None = None
         ) -> Prepared:
    """Find out whether the image is done; if not, read and resize it for the model."""
    start = time.perf_counter()
    try:
        existing = task.annotations.read_text(task.annotation_name)
        if existing is not None and job.done(_document(existing, task)):
            return Prepared(task, status=SKIPPED)
        data = task.source.read_bytes(task.name)
        loaded = decode_image(data, Path(task.name), max_pixels)
        image = loaded.sized(*size)
    except Sam3CanvasError as exc:
        return Prepared(task, status=FAILED, error=_located(task, str(exc)))
    except OSError as exc:
        return Prepared(task, status=FAILED,
                        error=f"{task.where}: cannot be read ({describe_os_error(exc)})")
    return Prepared(task, image, existing, read_ms=(time.perf_counter() - start) * 1000.0)


def infer_many(engine, job: Job, prepared: list[Prepared], batch: int = 1) -> list[Result]:
    """:func:`infer` over several read images, with up to ``batch`` of them per run of the
    image encoder where the job and the graphs allow it (the tracker's boxes; the text path's
    graphs take one image). If a shared run fails, each image is run alone, so a bad image
    fails alone."""
    encoded: dict[int, object] = {}
    ready = [p for p in prepared if not p.status and p.image is not None and p.task.boxes]
    if batch > 1 and len(ready) > 1 and job.model_kind == "tracker":
        try:
            images = engine.encode_many([p.image for p in ready], batch=batch)
            encoded = {id(p): e for p, e in zip(ready, images)}
        except Sam3CanvasError:
            encoded = {}
    return [infer(engine, job, p, encoded.get(id(p))) for p in prepared]


def infer(engine, job: Job, prepared: Prepared, encoded=None) -> Result:
    """Run the model on a read image (``encoded``: its embeddings, when already made) and
    make the new annotation file's text."""
    task = prepared.task
    if prepared.status:
        return Result(task, prepared.status, prepared.error)
    assert prepared.image is not None
    image = prepared.image
    start = time.perf_counter()
    try:
        doc = _document(prepared.existing, task) if prepared.existing is not None else \
            Document(task.name, image.width, image.height, image.key)
        count, notes = job.apply(engine, image, doc, task.boxes, encoded)
        text = doc.dumps()
    except Sam3CanvasError as exc:
        return Result(task, FAILED, _located(task, str(exc)))
    return Result(task, DONE, text=text, instances=count,
                  labels=sorted({i.label for i in doc.instances}), notes=notes,
                  provider=engine.provider, worker=os.getpid(),
                  timings={"read": prepared.read_ms,
                           "model": (time.perf_counter() - start) * 1000.0})


def write(result: Result) -> Result:
    """Save the annotation file (whole or not at all); the text is not kept."""
    if result.status != DONE or result.text is None:
        return result
    task = result.task
    try:
        task.annotations.write_text(task.annotation_name, result.text)
    except OSError as exc:
        return replace(result, status=FAILED, text=None,
                       error=f"could not save {task.annotations.where(task.annotation_name)}: "
                             f"{describe_os_error(exc)}")
    return replace(result, text=None)


def _located(task: Task, message: str) -> str:
    """``message`` beginning with where the image is, once (the readers name it by its name
    in the folder; a cluster's user needs the whole location)."""
    if message.startswith(task.where):
        return message
    prefix = f"{task.name}: "
    return f"{task.where}: {message[len(prefix):] if message.startswith(prefix) else message}"


def _document(text: str, task: Task) -> Document:
    where = task.annotations.where(task.annotation_name)
    try:
        return Document.from_json(json.loads(text), where)
    except (ValueError, KeyError, TypeError, DocumentError) as exc:
        raise DocumentError(f"{where} cannot be read ({exc}); it was left as it is: fix it "
                            "or move it away, then run again") from None
