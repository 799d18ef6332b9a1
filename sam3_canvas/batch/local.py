"""A batch job in this process: the three steps in a loop over one engine."""

from __future__ import annotations

from collections.abc import Callable

from . import steps
from .jobs import Job
from .steps import Result, Task


def run_here(engine, job: Job, tasks: list[Task], on_result: Callable[[Result], None],
             max_pixels: int | None = None) -> None:
    size = engine.input_size
    for task in tasks:
        on_result(steps.write(steps.infer(engine, job, steps.read(task, job, size, max_pixels))))
