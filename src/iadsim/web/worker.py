"""What a job's process runs (started with the ``spawn`` method by :mod:`iadsim.web.jobs`):
``iadsim.run`` or ``iadsim compare`` on the job's copy of its scenarios, reporting progress to
``JOB/progress.json`` and its end to ``JOB/outcome.json``.

The process may be terminated at any instant (a cancelled job): both files are written
atomically, and a job whose process ended without an outcome is failed by the server.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from pathlib import Path
from typing import Any

from iadsim import api
from iadsim.comparison import compare_scenarios
from iadsim.errors import IadsimError, IadsimWarning
from iadsim.fileio import atomic_write_text
from iadsim.montecarlo import die_with_parent

PROGRESS_FILE = "progress.json"
OUTCOME_FILE = "outcome.json"
RESULTS_DIR = "results"
ERROR_LOG = "error.log"


def _write(path: Path, obj: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(obj) + "\n")


def _public(text: str, job: Path) -> str:
    """``text`` with the server's paths of the job's scenarios shown as the page shows them
    (``scenario.yaml``, ``second scenario.yaml``) and the job directory as ``JOB``."""
    return (
        text.replace(str(job / "scenario_b" / "scenario.yaml"), "second scenario.yaml")
        .replace(str(job / "scenario" / "scenario.yaml"), "scenario.yaml")
        .replace(str(job), "JOB")
    )


def run_job(job_dir: str, spec: dict[str, Any], server_pid: int | None = None) -> None:
    """Run the job described by ``spec`` (kind, runs, seed, labels) in ``job_dir``; with
    ``server_pid``, the process ends when the server's does (:func:`die_with_parent`)."""
    if server_pid is not None:
        die_with_parent(server_pid)
    job = Path(job_dir)
    progress_path = job / PROGRESS_FILE

    def progress_run(done: int, total: int) -> None:
        _write(progress_path, {"done": done, "total": total, "stage": "runs"})

    def progress_compare(stage: str, done: int, total: int) -> None:
        _write(progress_path, {"done": done, "total": total, "stage": stage})

    outcome: dict[str, Any]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = job / RESULTS_DIR
            if spec["kind"] == "run":
                api.run(
                    job / "scenario" / "scenario.yaml", runs=spec["runs"], seed=spec["seed"],
                    workers=1, out_dir=out, progress=progress_run,
                    command=f"iadsim serve: run, runs={spec['runs']}, seed={spec['seed']}",
                )  # fmt: skip
            else:
                compare_scenarios(
                    [job / "scenario" / "scenario.yaml", job / "scenario_b" / "scenario.yaml"],
                    out, labels=spec["labels"], runs=spec["runs"], seed=spec["seed"], workers=1,
                    progress=progress_compare,
                    command=f"iadsim serve: compare, runs={spec['runs']}, seed={spec['seed']}",
                )  # fmt: skip
        notes = sorted(
            {_public(str(w.message), job) for w in caught if issubclass(w.category, IadsimWarning)}
        )
        outcome = {"state": "done", "error": None, "warnings": notes}
    except IadsimError as exc:
        outcome = {"state": "failed", "error": _public(str(exc), job), "warnings": []}
    except Exception:  # logged for the server's operator; the page gets one line
        (job / ERROR_LOG).write_text(traceback.format_exc(), encoding="utf-8")
        logging.getLogger("iadsim.web").exception("job %s failed", job.name)
        outcome = {
            "state": "failed",
            "error": f"internal error: the job's log is {ERROR_LOG} in its directory",
            "warnings": [],
        }
    _write(job / OUTCOME_FILE, outcome)
