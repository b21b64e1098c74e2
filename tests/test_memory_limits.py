"""Inputs whose memory grows with a number the user types are sized before anything is
allocated and refused with the figure, the limit and how to lower it (:mod:`iadsim.memory`).

Each refusal must come before the allocation: the tests run with the real limit of the
machine, on inputs that would need terabytes, and finish in milliseconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from iadsim import memory
from iadsim.errors import InputError, ScenarioError
from iadsim.memory import check_memory, human_bytes, limit_bytes
from iadsim.scenario import scenario_from_dict
from iadsim.sim.kinematics import point_to_point
from iadsim.sim.prepared import check_size

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "raid_s400_standalone.yaml"


def _raid(step_s: float, count: int, duration_s: float = 86_400) -> dict:
    return {
        "name": "big",
        "time": {"duration_s": duration_s, "step_s": step_s},
        "sites": [{"id": "s", "system": "s-400", "lat": 40.0, "lon": 32.8, "heading_deg": 90}],
        "raids": [
            {
                "threat": "cruise-missile",
                "count": count,
                "spacing_s": 1,
                "route": [[39.0, 33.0, 50], [40.0, 32.8, 50]],
            }
        ],
    }


def test_limit_is_a_fraction_of_available_memory_or_the_environment_variable(monkeypatch):
    monkeypatch.delenv(memory.LIMIT_ENV, raising=False)
    limit, origin = limit_bytes()
    assert limit == pytest.approx(memory.available_bytes() * memory.MEMORY_FRACTION, rel=0.2)
    assert "available" in origin
    monkeypatch.setenv(memory.LIMIT_ENV, "100")
    assert limit_bytes() == (100 * 2**20, f"set by {memory.LIMIT_ENV}")
    monkeypatch.setenv(memory.LIMIT_ENV, "lots")
    with pytest.raises(InputError, match="positive number of MB"):
        limit_bytes()


def test_check_memory_message_has_figure_limit_and_remedy(monkeypatch):
    monkeypatch.setenv(memory.LIMIT_ENV, "1")
    with pytest.raises(InputError) as exc:
        check_memory(3 * 2**30, "3 things", "use fewer things", "things")
    msg = str(exc.value)
    assert msg == (
        "3 things would need about 3 GB of memory, more than the limit of 1 MB "
        f"(set by {memory.LIMIT_ENV}); use fewer things"
    )
    assert exc.value.param == "things"
    check_memory(2**19, "half a MB", "-")  # under the limit: nothing
    assert human_bytes(1536) == "1.5 KB"


def test_trajectory_with_a_tiny_step_is_refused_before_sampling():
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"trajectory samples .* would need about .* GB") as exc:
        point_to_point("srbm-300", (37.9, 34.9), (39.9, 32.8), step_s=1e-7)
    assert time.perf_counter() - t0 < 5
    assert "use a larger step_s" in str(exc.value) and exc.value.param == "step_s"


@pytest.mark.parametrize(
    "step_s, count", [(1e-4, 1), (1.0, 100_000)], ids=["tiny-step", "100k-threats-a-day"]
)
def test_a_raid_too_large_for_memory_is_refused_before_preparing(step_s, count):
    scn = scenario_from_dict(_raid(step_s, count))
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as exc:
        check_size(scn)
    assert time.perf_counter() - t0 < 1
    msg = str(exc.value)
    assert "field 'time.step_s'" in msg and "threats x" in msg and "would need about" in msg
    assert "larger time.step_s" in msg and "fewer threats (raids[].count)" in msg


def test_a_raid_within_the_limit_passes(monkeypatch):
    monkeypatch.setenv(memory.LIMIT_ENV, "64")
    check_size(scenario_from_dict(_raid(1.0, 10, duration_s=1800)))  # ~4.6 MB


def test_cli_run_refuses_a_billion_runs_before_running(iadsim_cli, tmp_path):
    t0 = time.perf_counter()
    code, _, err = iadsim_cli("run", EXAMPLE, "--runs", 1_000_000_000, "--out", tmp_path / "o")
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: the results of 1,000,000,000 Monte Carlo replications of 13")
    assert "use fewer --runs" in err
    assert time.perf_counter() - t0 < 30  # no run id list, no runs
    assert not (tmp_path / "o").exists()


def test_cli_trajectory_refusal_is_one_line(iadsim_cli, tmp_path):
    code, _, err = iadsim_cli(
        "trajectory", "srbm-300", "--from", "37.9,34.9", "--to", "39.9,32.8",
        "--step-s", "1e-7", "--out", tmp_path / "t.csv",
    )  # fmt: skip
    assert code == 2 and len(err.splitlines()) == 1 and "use a larger --step-s" in err
    assert not (tmp_path / "t.csv").exists()


def test_run_ids_are_generated_lazily():
    from iadsim.montecarlo import iter_chunks

    it = iter_chunks(range(10**12), 50)  # a list of these would not fit in any memory
    assert next(it) == list(range(50)) and next(it)[0] == 50
