"""A batch job on Ray Data: reading and writing as tasks, the model in a pool of actors.

This is the only module that imports Ray (the ``cluster`` extra); the app and the
single-process commands never do. The per-image work is :mod:`.steps`, mapped:

    from_items(tasks) -> map_batches(read)   [tasks: read, decode, resize; the I/O]
                      -> map_batches(Worker) [actors: each opens the model once, then runs it]
                      -> map_batches(write)  [tasks: the annotation file, whole or not at all]

Ray Data streams the blocks, so the encoder does not wait on reading and a million images
never sit in memory. Ray restarts an actor that dies and runs its rows again (Ray Data's
actor defaults: ``max_restarts=-1``, ``max_task_retries=-1``); as files are written only by
the last step, a killed worker leaves no partial file, and a run started again skips what its
files say is done.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.errors import Sam3CanvasError
from . import steps
from .jobs import Job, ModelSpec
from .steps import Result, Task

log = logging.getLogger(__name__)

#: CPU slots the reading and writing tasks ask for: small, so that actors holding whole
#: cores still leave room for them (Ray schedules by these numbers, not by real load)
READ_CPUS, WRITE_CPUS = 0.25, 0.1
#: images per reading or writing task, and per call of a worker: Ray's cost per task (a few
#: ms, more on a busy machine) is paid once for these; a killed worker redoes at most a call
READ_BATCH, MODEL_BATCH = 16, 8
WRITERS = 2  # writing tasks at once


class ClusterError(Sam3CanvasError):
    """The job cannot be laid out on this cluster (one line for the user)."""


@dataclass(frozen=True)
class Cluster:
    """Where and how wide: ``address`` None starts Ray on this machine; ``ray://host:10001``
    or ``auto`` joins a running cluster."""

    address: str | None = None
    workers: int | None = None  # None: as many as the cluster's GPUs (or CPUs) allow
    gpus_per_worker: float | None = None  # None: 1 when the cluster has GPUs, else 0
    cpus_per_worker: float = 1.0
    num_cpus: int | None = None  # a local Ray's CPU count (None: all of this machine's)


_EMPTY = np.zeros((0, 0, 3), np.uint8)


def _pack(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _read_batch(batch: dict, job: Job, size: tuple[int, int], max_pixels: int | None) -> dict:
    """The pixels travel as a tensor column (Arrow, read without a copy by the worker), the
    rest pickled: pickling 3 MB per image twice was most of Ray's cost per image."""
    width, height = size
    prepared, pixels = [], np.zeros((len(batch["task"]), height, width, 3), np.uint8)
    for n, task in enumerate(batch["task"]):
        read = steps.read(pickle.loads(task), job, size, max_pixels)
        if read.image is not None:
            pixels[n] = read.image.model_rgb
            read.image = dataclasses.replace(read.image, model_rgb=_EMPTY)
        prepared.append(_pack(read))
    return {"prepared": prepared, "pixels": pixels}


def _write_batch(batch: dict) -> dict:
    return {"result": [_pack(steps.write(pickle.loads(result))) for result in batch["result"]]}


class Worker:
    """One actor: opens the model once, then runs it on each read image."""

    def __init__(self, model: ModelSpec, job: Job, batch: int = 1):
        self.job = job
        self.batch = batch  # images per run of the image encoder
        self.engine = model.open(job.model_kind)
        log.info("worker %d: %s on %s", os.getpid(), job.model_kind, self.engine.provider)
        # the tracker's encoder inputs are made on a thread while the model runs
        self._prepare = getattr(self.engine, "prepare", None)
        self._preparer = ThreadPoolExecutor(1, thread_name_prefix="sam3-prepare") \
            if self._prepare is not None else None

    def __call__(self, batch: dict) -> dict:
        reads = []
        for prepared, pixels in zip(batch["prepared"], batch["pixels"]):
            read = pickle.loads(prepared)
            if read.image is not None:
                read.image = dataclasses.replace(read.image, model_rgb=pixels)
            reads.append(read)
        if self._preparer is not None:  # the first run's images are needed at once
            self._preparer.submit(self._prepare_all, reads[self.batch:])
        return {"result": [_pack(result) for result in
                           steps.infer_many(self.engine, self.job, reads, self.batch)]}

    def _prepare_all(self, reads: list) -> None:
        """Each image's encoder input, in order: the encode of an image whose input is not
        ready yet makes it itself, so this only ever saves time."""
        prepare = self._prepare
        assert prepare is not None
        for read in reads:
            if read.image is not None and read.task.boxes and not read.status:
                try:
                    prepare(read.image)
                except (ValueError, MemoryError):  # the encode reports it, for its image
                    return


def start(cluster: Cluster) -> None:
    import ray
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the command reports progress
    if ray.is_initialized():
        return
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False,
                    "configure_logging": False}
    if cluster.address is None and cluster.num_cpus is not None:
        kwargs["num_cpus"] = cluster.num_cpus
    ray.init(address=cluster.address, **kwargs)


@dataclass(frozen=True)
class Layout:
    """How a job sits on the cluster."""

    workers: int
    gpus_per_worker: float
    cpus_per_worker: float
    readers: int  # reading tasks at once
    provider: str


def sizing(cluster: Cluster, provider: str) -> Layout:
    """Workers, readers and the provider from what the cluster has. Ray schedules by the CPUs
    each task asks for: workers that take every CPU would leave the reading and writing tasks
    waiting until the end (no progress, then everything at once), so that is refused."""
    import ray
    resources = ray.cluster_resources()
    gpus, cpus = float(resources.get("GPU", 0)), float(resources.get("CPU", 1))
    per_gpu = cluster.gpus_per_worker if cluster.gpus_per_worker is not None else \
        (1.0 if gpus > 0 else 0.0)
    if per_gpu > gpus:  # the actors would wait for GPUs forever
        raise ClusterError(f"--gpus-per-worker {per_gpu:g}, but the Ray cluster has "
                           f"{gpus:g} GPU(s)" + ("" if gpus else ": leave it out to run on CPUs"))
    if per_gpu > 0 and provider == "cpu":
        provider = "cuda"  # GPU actors run the CUDA provider (falls back, with a message)
    per_cpu = cluster.cpus_per_worker
    writing = WRITERS * WRITE_CPUS
    if cluster.workers:
        workers = cluster.workers
    elif per_gpu > 0:
        workers = max(1, int(gpus // per_gpu))
    else:  # leave room for a reader and the writers
        workers = max(1, int((cpus - READ_CPUS - writing) // per_cpu))
    free = cpus - workers * per_cpu - writing
    readers = int(min(workers + 1, free // READ_CPUS + 1e-9))
    if readers < 1:
        raise ClusterError(f"{workers} worker(s) of {per_cpu:g} CPU leave no CPU for reading "
                           f"images on a cluster of {cpus:g} CPUs: fewer --workers or a "
                           f"smaller --cpus-per-worker (reading takes {READ_CPUS:g} CPU, "
                           f"writing {writing:g})")
    return Layout(workers, per_gpu, per_cpu, readers, provider)


def run_on_ray(model: ModelSpec, job: Job, tasks: list[Task], size: tuple[int, int],
               on_result: Callable[[Result], None], cluster: Cluster,
               max_pixels: int | None = None, encoder_batch: int = 1) -> dict:
    """Run the job over ``tasks``; ``on_result`` sees every image's result as it comes;
    each worker encodes up to ``encoder_batch`` images per run.
    Returns how it ran (workers, provider), for the summary."""
    import ray
    import ray.data

    start(cluster)
    layout = sizing(cluster, model.provider)
    threads = model.threads or (max(1, int(layout.cpus_per_worker))
                                if layout.gpus_per_worker == 0 else None)
    model = ModelSpec(**{**model.__dict__, "provider": layout.provider, "threads": threads})
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the command shows its own
    context.print_on_execution_start = False
    if not tasks:
        return {"workers": 0, "provider": layout.provider}
    items = [{"task": _pack(task)} for task in tasks]
    blocks = -(-len(items) // READ_BATCH)
    data: Any = ray.data.from_items(items, override_num_blocks=blocks)
    # up to one reader more than workers: enough to keep them fed, and few processes on a
    # small machine (each is a Python that imports the engine)
    data = data.map_batches(_read_batch, batch_size=READ_BATCH, batch_format="numpy",
                            fn_kwargs={"job": job, "size": size, "max_pixels": max_pixels},
                            num_cpus=READ_CPUS,
                            compute=ray.data.TaskPoolStrategy(size=layout.readers))
    data = data.map_batches(Worker, batch_size=max(MODEL_BATCH, encoder_batch),
                            batch_format="numpy",
                            fn_constructor_kwargs={"model": model, "job": job,
                                                   "batch": encoder_batch},
                            compute=ray.data.ActorPoolStrategy(size=layout.workers),
                            num_cpus=layout.cpus_per_worker,
                            num_gpus=layout.gpus_per_worker or None)
    data = data.map_batches(_write_batch, batch_size=READ_BATCH, batch_format="numpy",
                            num_cpus=WRITE_CPUS, compute=ray.data.TaskPoolStrategy(size=WRITERS))
    for row in data.iter_rows():
        on_result(pickle.loads(row["result"]))
    return {"workers": layout.workers, "provider": layout.provider}
