"""A stand-in for the simulation engine (tests only): ``stub_prepare`` and ``stub_run_once``
have the shapes of :func:`iadsim.sim.engine.prepare` and :func:`~iadsim.sim.engine.run_once`
and draw detections, salvos, kills and leaks from the Generator they are given, logged through
the real EventLog, so that tests of the Monte Carlo runner, the results store, the metrics and
``iadsim run`` isolate those from the engine. Module-level, so worker processes can unpickle
them."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from iadsim.sim.events import EventLog


@dataclass
class StubPrepared:
    threats: list[str]
    classes: list[str]
    launched_s: np.ndarray
    sites: list[str]
    pk: float = 0.7
    fail_at: int | None = None
    deployment: None = None  # the engine's resolved sites; the stub has none


def stub_prepare(n_threats: int = 6, pk: float = 0.7, fail_at: int | None = None) -> StubPrepared:
    classes = ["cruise", "ballistic"]
    return StubPrepared(
        threats=[f"t{i}" for i in range(n_threats)],
        classes=[classes[i % 2] for i in range(n_threats)],
        launched_s=np.arange(n_threats) * 5.0,
        sites=["alpha", "bravo", "charlie"],
        pk=pk,
        fail_at=fail_at,
    )


def stub_run_once(prep: StubPrepared, rng: np.random.Generator, run_id: int = 0):
    """A stand-in engine: random detection, salvo, kill and leak per threat."""
    if prep.fail_at == run_id:
        raise RuntimeError(f"engine failure in run {run_id}")
    n = len(prep.threats)
    idx = np.arange(n)
    log = EventLog(run_id, prep.sites, prep.threats, ["sam"])
    detected = rng.random(n) < 0.85
    t_det = prep.launched_s + rng.exponential(30.0, n)
    site = rng.integers(0, len(prep.sites), n)
    log.add("detection_start", t_det[detected], site=site[detected], threat=idx[detected])
    fired = detected & (rng.random(n) < 0.9)
    salvo = rng.integers(1, 3, n)
    t_launch = t_det + 10.0
    log.add(
        "launch", t_launch[fired], site=site[fired], threat=idx[fired], interceptor=0,
        value=salvo[fired], track=idx[fired],
    )  # fmt: skip
    killed = fired & (rng.random(n) < prep.pk)
    leaked = ~killed
    log.add("leak", t_launch[leaked] + 100.0, threat=idx[leaked], value=0.0)
    per_threat = pd.DataFrame(
        {
            "threat": prep.threats,
            "target_class": prep.classes,
            "launched_s": prep.launched_s,
            "first_detection_s": np.where(detected, t_det, np.nan),
            "first_track_s": np.where(detected, t_det + 2.0, np.nan),
            "killed": killed,
            "kill_time_s": np.where(killed, t_launch + 20.0, np.nan),
            "leaked": leaked,
            "impact_asset": [None] * n,
            "interceptors_spent": np.where(fired, salvo, 0),
            "warning_time_s": np.where(detected, 300.0 - (t_det - prep.launched_s), np.nan),
        }
    )
    spent = {s: int(salvo[fired & (site == k)].sum()) for k, s in enumerate(prep.sites)}
    return SimpleNamespace(events=log, per_threat=per_threat, interceptors_spent_by_site=spent)
