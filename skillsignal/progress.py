"""A progress bar for the long commands (``extract``, ``ingest``, ``reprocess``), on a terminal only.

    with progress_bar("extract", total=n, unit="postings") as bar:
        ...
        bar.advance(k)

The bar (rich) is drawn on stderr, with the count, the rate and the time left, only when stderr
is a terminal (:func:`wants_progress`): piped or redirected, nothing is drawn and the output is
exactly what it was. While the bar is up, log lines are printed above it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from rich.console import Console
from rich.file_proxy import FileProxy
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Bar(Protocol):
    def advance(self, n: int = 1) -> None: ...


class _NoBar:
    def advance(self, n: int = 1) -> None:
        return None


def wants_progress(stream: IO[str] | None = None) -> bool:
    """Whether to draw a bar on ``stream`` (stderr by default): only on a terminal, and not on
    one that says it cannot draw (``TERM=dumb``)."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
    return bool(tty) and os.environ.get("TERM", "") != "dumb"


class RateColumn(ProgressColumn):
    """Units per second (the mean after the first step, where rich has no speed yet)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.completed and task.elapsed:  # one step so far: the mean
            speed = task.completed / task.elapsed
        return Text(("-" if speed is None else f"{speed:,.1f}") + f" {task.fields['unit']}/s")


class _RichBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


@contextmanager
def progress_bar(
    description: str, total: int | None, unit: str = "postings", stream: IO[str] | None = None
) -> Iterator[Bar]:
    """A bar counting ``unit`` up to ``total`` (None: unknown, then no time left is shown)."""
    stream = sys.stderr if stream is None else stream
    if not wants_progress(stream):
        yield _NoBar()
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(file=stream),
    )
    task = progress.add_task(description, total=total, unit=unit)
    # log lines are printed above the bar, not through it
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is stream
    ]
    with progress:
        proxy = FileProxy(progress.console, stream)
        for h in handlers:
            h.setStream(proxy)
        try:
            yield _RichBar(progress, task)
        finally:
            for h in handlers:
                h.setStream(stream)
            proxy.flush()
            done = progress.tasks[0].completed
            if total is not None and done != total:  # an estimate: end the bar where the work ended
                progress.update(task, total=done)
