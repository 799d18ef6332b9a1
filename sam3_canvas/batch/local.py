"""A batch job in this process: the three steps over one engine, with the next images read
(decoded, resized, and made into the encoder's input where the engine can) on a thread while
the model runs on this one, ``batch`` images per run of the image encoder where the graphs
allow it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from . import steps
from .jobs import Job
from .steps import Prepared, Result, Task

#: images read ahead of the model: enough to hide reading, few enough to bound memory
READ_AHEAD = 2


def run_here(engine, job: Job, tasks: list[Task], on_result: Callable[[Result], None],
             max_pixels: int | None = None, read_ahead: int = READ_AHEAD,
             batch: int = 1) -> None:
    size = engine.input_size
    batch = max(1, batch)
    upcoming = iter(tasks)
    prepare = getattr(engine, "prepare", None)  # the tracker's; the text path has none

    def read(task: Task) -> Prepared:
        prepared = steps.read(task, job, size, max_pixels)
        if prepare is not None and prepared.image is not None and task.boxes:
            prepare(prepared.image)  # numpy lets the model's thread run meanwhile
        return prepared

    with ThreadPoolExecutor(1, thread_name_prefix="sam3-batch-read") as reader:
        pending: deque[Future[Prepared]] = deque()

        def read_next() -> None:
            task = next(upcoming, None)
            if task is not None:
                pending.append(reader.submit(read, task))

        for _ in range(max(1, read_ahead) + batch - 1):  # the next batch reads meanwhile
            read_next()
        while pending:
            group = [pending.popleft().result() for _ in range(min(batch, len(pending)))]
            for _ in group:
                read_next()
            for result in steps.infer_many(engine, job, group, batch):
                on_result(steps.write(result))
