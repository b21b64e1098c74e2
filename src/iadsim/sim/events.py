"""The event log of one simulation run: every detection start, track start/stop, launch,
intercept, miss, leak, impact, every shot not taken and every threat left unresolved, as rows.

Events are appended in vectorised chunks (arrays of equal length, scalars broadcast), stored as
integer codes internally and turned into strings only in :meth:`EventLog.to_frame`. The
results store writes the frame to DuckDB; every metric is a query over these rows.

Meaning of the ``value`` column by kind (``NaN`` where not listed):

=================  ===========================================================
detection_start    slant range of the first detection of the threat by the site, m
track_start        1 (the site's first confirmed track on the threat) or 0 (later)
track_stop         0
launch             interceptors in the salvo (``reason`` ``fallback_launch_on_remote``: an
                   engage-on-remote unit fired a round without an active seeker, which its
                   own FCR must guide: launch on remote)
intercept / miss   single-shot P_k used for each interceptor of the salvo
kill_assessed      1 if the threat was killed, 0 if it survived
leak               value of the asset hit (0 when no asset)
impact             value of the asset hit; ``reason`` is the asset id
no_engagement      0 (``reason`` says why; first occurrence per site, threat and reason)
unresolved         time the threat would impact / arrive (s); one per threat neither
                   killed nor arrived when the simulated time ends, at the last step's
                   time and the threat's position then (a threat not yet launched is at
                   its launch point): the run cannot say whether it would have been
                   killed or leaked
=================  ===========================================================

Time and position (``lat, lon, alt_m``; alt_m above the WGS84 ellipsoid) by kind:

=================  ===========================================================
launch             launch time; the predicted intercept point (from the track)
intercept / miss   the time the outcome is decided, the TRUE target position
                   then: the true intercept t* (not a multiple of the step), or,
                   for ``no_intercept_before_impact`` / ``beyond_range_at_intercept``
                   without a catch, the impact or the end of the round's fly-out
kill_assessed      outcome time + the kill assessment delay; no position
leak / impact      impact (ballistic, on the aim point's ground) or route end
others             step time; the true threat position (none for track_stop)
=================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

EVENT_COLUMNS = (
    "run_id",
    "time_s",
    "kind",
    "site",
    "threat",
    "track",
    "lat",
    "lon",
    "alt_m",
    "reason",
    "interceptor",
    "value",
)

EVENT_KINDS = (
    "detection_start",
    "track_start",
    "track_stop",
    "launch",
    "intercept",
    "miss",
    "kill_assessed",
    "leak",
    "impact",
    "no_engagement",
    "unresolved",
)
KIND_CODE = {k: i for i, k in enumerate(EVENT_KINDS)}

#: why a shot was not taken (``no_engagement``) or a shot failed (``miss``)
REASONS = (
    "",
    "no_track",
    "no_fcr_track",
    "too_fast",
    "out_of_envelope",
    "below_min_altitude",
    "above_max_altitude",
    "beyond_max_range",
    "no_interceptor",
    "no_channel",
    "class_not_engageable",
    "no_fcr_guidance",
    "target_already_killed",
    "target_gone",
    "killed",
    "lost",
    "impacted",
    "outside_fcr_sector",
    # a round's outcome decided at the true intercept (appended: earlier codes stay stable)
    "no_intercept_before_impact",
    "beyond_range_at_intercept",
    "inside_min_range_at_intercept",
    "below_floor_at_intercept",
    "above_ceiling_at_intercept",
    "too_fast_at_intercept",
    # the network modes' guidance (appended)
    "fcr_cannot_guide_at_pip",
    "no_network_track_at_pip",
    "no_network_guidance",
    "fallback_launch_on_remote",
)
REASON_CODE = {r: i for i, r in enumerate(REASONS)}

_INT_FIELDS = ("kind", "site", "threat", "track", "reason", "interceptor")
_FLOAT_FIELDS = ("time_s", "lat", "lon", "alt_m", "value")
_DTYPE = {f: np.int64 for f in _INT_FIELDS} | {f: np.float64 for f in _FLOAT_FIELDS}
#: the columns :meth:`EventLog.add` takes, in its argument order, and their types
_ADD_FIELDS = ("time_s", "site", "threat", "track", "lat", "lon", "alt_m", "reason",
               "interceptor", "value")  # fmt: skip
_ADD_DTYPES = tuple(_DTYPE[f] for f in _ADD_FIELDS)


class EventLog:
    """Append-only, chunked event table for one run.

    ``site_names``, ``threat_names`` and ``interceptor_names`` translate the integer indices
    stored by :meth:`add` (``-1`` means none).
    """

    def __init__(
        self,
        run_id: int = 0,
        site_names: Sequence[str] = (),
        threat_names: Sequence[str] = (),
        interceptor_names: Sequence[str] = (),
        asset_names: Sequence[str] = (),
    ):
        self.run_id = int(run_id)
        self.site_names = np.asarray(list(site_names) + [None], dtype=object)
        self.threat_names = np.asarray(list(threat_names) + [None], dtype=object)
        self.interceptor_names = np.asarray(list(interceptor_names) + [None], dtype=object)
        # impact events carry the asset id in ``reason``: codes len(REASONS) + asset index
        self.reason_names = np.asarray([None, *REASONS[1:], *asset_names], dtype=object)
        self._chunks: list[tuple[int, dict[str, Any]]] = []  # (rows, column values)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(
        self,
        kind: str,
        time_s,
        *,
        site=-1,
        threat=-1,
        track=-1,
        lat=np.nan,
        lon=np.nan,
        alt_m=np.nan,
        reason=0,
        interceptor=-1,
        value=np.nan,
    ) -> None:
        """Append events of one kind. Array arguments share one length; scalars broadcast.
        ``reason`` is a code from :data:`REASON_CODE` (or a reason string)."""
        if isinstance(reason, str):
            reason = REASON_CODE[reason]
        vals = (time_s, site, threat, track, lat, lon, alt_m, reason, interceptor, value)
        n = 1
        for v in vals:
            if isinstance(v, np.ndarray) and v.ndim > 0:
                n = v.shape[0]
                break
        if n == 0:
            return
        # scalars stay scalars until _column fills them in (the engine adds thousands of small
        # chunks per run); arrays are copied: the engine reuses its buffers
        chunk: dict[str, Any] = {"kind": KIND_CODE[kind]}
        for name, dtype, v in zip(_ADD_FIELDS, _ADD_DTYPES, vals, strict=True):
            chunk[name] = np.array(v, dtype) if isinstance(v, np.ndarray) and v.ndim else v
        self._chunks.append((n, chunk))
        self._n += n

    def _column(self, name: str) -> np.ndarray:
        out = np.empty(self._n, np.float64 if name in _FLOAT_FIELDS else np.int64)
        a = 0
        for n, chunk in self._chunks:
            out[a : a + n] = chunk[name]  # an array of n values, or a scalar broadcast
            a += n
        return out

    def to_frame(self) -> pd.DataFrame:
        """All events as a DataFrame with :data:`EVENT_COLUMNS`, sorted by time (stable, so
        events of one step keep the order the engine produced them)."""
        cols = {f: self._column(f) for f in _INT_FIELDS + _FLOAT_FIELDS}
        order = np.argsort(cols["time_s"], kind="stable")
        out = {
            "run_id": np.full(self._n, self.run_id, np.int64),
            "time_s": cols["time_s"][order],
            "kind": np.asarray(EVENT_KINDS, dtype=object)[cols["kind"][order]],
            "site": self.site_names[cols["site"][order]],
            "threat": self.threat_names[cols["threat"][order]],
            "track": cols["track"][order],
            "lat": cols["lat"][order],
            "lon": cols["lon"][order],
            "alt_m": cols["alt_m"][order],
            "reason": self.reason_names[cols["reason"][order]],
            "interceptor": self.interceptor_names[cols["interceptor"][order]],
            "value": cols["value"][order],
        }
        return pd.DataFrame(out, columns=list(EVENT_COLUMNS))
