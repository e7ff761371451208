"""What passes between the build and its workers (local or dask): a Job in, Outputs or JobFailure out.
Plain data that pickles cheaply, so every executor uses the same shapes; workers never write reports/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DASK_INSTALL = "make dask (or .venv/bin/pip install -r requirements-dask.lock)"  # --executor dask's extra

def default_workers() -> int:
    """Jobs run at once unless told otherwise: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class Limits:
    """What one report may use; exceeding any fails that report alone (see docs/operations.md)."""

    timeout: float = 900  # seconds of notebook execution
    max_output: float = 50  # MB of cell output (text and images) the notebook may produce
    max_memory: float = 4096  # MB of address space for the kernel running the notebook (RLIMIT_AS)


@dataclass(frozen=True)
class Job:
    report_id: str
    notebook: str  # path relative to the project root, e.g. "notebooks/overview.ipynb"
    parameters: dict[str, Any]
    formats: tuple[str, ...]  # subset of ("html", "pdf")
    limits: Limits = Limits()


@dataclass(frozen=True)
class Outputs:
    report_id: str
    html: bytes | None
    pdf: bytes | None
    executed: bytes  # the executed notebook (.ipynb JSON), kept under reports/_executed/ for debugging
    title: str
    lang: str
    as_of: str
    duration_s: float
    fallbacks: tuple[str, ...] = ()  # slow or wrong font fallbacks the worker met (render.FALLBACKS)
    unshown: tuple[str, ...] = ()  # outputs the page cannot show (render.unshown_outputs)
    # What the run read (engine.inputs): {"notebook": sha256, "data": [read, ...]} (talentbrief.reads);
    # None when nothing was recorded: then the build never counts the report as up to date.
    inputs: dict[str, Any] | None = None


class JobFailure(Exception):
    """A report's notebook (or its rendering) failed; carries what the user needs to find the cause."""

    def __init__(self, report_id: str, message: str, cell: int | None = None, executed: bytes | None = None):
        super().__init__(f"{report_id}: {message}")
        self.report_id, self.message, self.cell, self.executed = report_id, message, cell, executed

    @property
    def where(self) -> str:
        return f"cell {self.cell}" if self.cell is not None else "cell unknown"

    def __reduce__(self):  # its args are not __init__'s
        return (JobFailure, (self.report_id, self.message, self.cell, self.executed))
