"""The time-stepped engine: one scenario, one seeded run.

:func:`prepare` does everything deterministic once (threat trajectories, radar and fire-unit
arrays, line of sight and detection probability of every scan opportunity, networks); then
:func:`run_once` draws the random parts from one ``numpy.random.Generator`` and steps time::

    detections (all at once) -> for each step: track -> share -> resolve intercepts -> leaks -> engage

Every stage is a function over arrays of (site, threat) or (fire unit, threat) pairs; see
:mod:`iadsim.sim.sensors`, :mod:`iadsim.sim.network` and :mod:`iadsim.sim.engagement` for the
models. The result is an :class:`~iadsim.sim.events.EventLog` plus a per-threat table.

The code is split in three modules; import from this one (it re-exports the public names):

* :mod:`iadsim.sim.prepared`: :class:`EngineConfig`, :class:`PreparedScenario`, :func:`prepare`;
* :mod:`iadsim.sim.steps`: the state of one run and the stages of a time step;
* this module: :func:`run_once` (the time loop and the per-threat table), :func:`simulate`.

Tracking is ``ideal`` (truth association, Kalman-filtered estimates; see
:mod:`iadsim.sim.network`): a global-nearest-neighbour tracker per site on a 1,000-threat raid
would dominate the run time, and association errors are not the question here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from iadsim.sim.events import EventLog
from iadsim.sim.prepared import EngineConfig, PreparedScenario, prepare
from iadsim.sim.steps import RunState, engage, init_state, leaks, resolve, sense

__all__ = ["EngineConfig", "PreparedScenario", "RunResult", "prepare", "run_once", "simulate"]


@dataclass
class RunResult:
    events: EventLog
    per_threat: pd.DataFrame
    interceptors_spent_by_site: dict[str, int] = field(default_factory=dict)
    #: with parameter uncertainty, the catalog numbers the run drew (item, field, value)
    parameter_draws: pd.DataFrame | None = None


def run_once(prepared: PreparedScenario, rng: np.random.Generator, run_id: int = 0) -> RunResult:
    """One replication: every random draw comes from ``rng``. ``prepared`` is only read (the
    run's mutable state is a :class:`~iadsim.sim.steps.RunState`), so runs of one prepared
    scenario may proceed concurrently, e.g. in threads."""
    p = prepared
    st = init_state(p, rng, run_id)
    for k, t in enumerate(p.time_s.tolist()):
        sense(p, st, k, t)
        st.lines.publish(st.tab)
        resolve(p, st, k, t, rng)
        leaks(p, st, k, t)
        engage(p, st, k, t)
    return _finish(p, st)


def _finish(p: PreparedScenario, st: RunState) -> RunResult:
    """The per-threat table; first an ``unresolved`` event for every threat neither killed nor
    arrived (leaked) when the simulated time ends: still flying, or not yet launched."""
    tr = p.traj
    unresolved = st.alive.copy()
    n = np.flatnonzero(unresolved)
    if len(n) and len(p.time_s):
        k = len(p.time_s) - 1
        st.log.add("unresolved", p.time_s[k], threat=n, value=tr.impact_time_s[n],
                   lat=tr.lat_deg[n, k], lon=tr.lon_deg[n, k], alt_m=tr.alt_m[n, k])  # fmt: skip
    asset = np.asarray(p.asset_ids + [None], dtype=object)[np.where(st.leaked, p.impact_asset, -1)]
    per = pd.DataFrame({
        "threat": np.asarray(tr.name, dtype=object),
        "target_class": np.asarray(tr.target_class, dtype=object),
        "launched_s": np.asarray(tr.launch_time_s, float),
        "first_detection_s": st.first_det,
        "first_track_s": st.first_track,
        "killed": ~np.isnan(st.kill_t),
        "kill_time_s": st.kill_t,
        "leaked": st.leaked,
        "unresolved": unresolved,
        "impact_asset": asset,
        "interceptors_spent": st.spent,
        "warning_time_s": np.asarray(tr.impact_time_s, float) - st.first_det,
    })  # fmt: skip
    spent = {sid: int(n) for sid, n in zip(p.site_ids, st.spent_site, strict=True)}
    return RunResult(st.log, per, spent)


def simulate(scenario, seed: int = 0, config: EngineConfig | None = None) -> RunResult:
    """Prepare and run ``scenario`` once with ``numpy.random.default_rng(seed)``."""
    return run_once(prepare(scenario, config=config), np.random.default_rng(seed))
