"""Simulated field operations: units that follow (or drift from) their missions, AVL pings, activity logs.

Each unit on the roster starts its shift at its district's station, works through its missions' visits
at times spread over the shift, answers some calls for service in between (a call can delay or crowd out
a visit), patrols at random inside its district when idle, and returns to the station at the end.
On a visit it parks at a point inside the mission's cell and stays for a dose drawn around the planned
one; with the configured compliance it sometimes skips a visit or cuts it short. The car reports its
position every 30 s with GPS noise. Officers log what they did: mostly the mission's recommended tactics.

The returned `dose` table is the ground truth of directed-patrol time per visit (arrival to departure
inside the mission's cell), so that the dosage measured from pings can be checked against it.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from beatwise.contracts import normalise_district
from beatwise.geography.grid import cell_of, parse_cell_id

METRES_PER_SECOND_PER_MPH = 1609.344 / 3600
OFF_LIST_TACTICS = ("area_check", "report_writing", "traffic_stop")
CALL_TACTIC = "call_for_service"
ROLL_CALL = "roll_call"


@dataclass(frozen=True)
class Compliance:
    """How closely units follow their missions."""

    skip: float = 0.08  # probability that a planned visit never happens
    cut_short: float = 0.12  # probability that a visit ends after 20-70% of its dose
    dose_spread: float = 0.2  # relative spread (lognormal sigma) of a completed visit's stay
    on_list_tactics: float = 0.9  # share of logged activities that use a recommended tactic
    answer_calls: float = 0.3  # share of the district's calls a directed-patrol unit picks up
    ping_interval_s: float = 30.0
    gps_noise_m: float = 4.8768  # per axis: 16 ft
    ping_loss: float = 0.005  # share of pings that never arrive
    speed_mph: tuple[float, float] = (18.0, 30.0)
    # Metres in one unit of the CRS the positions are in (the international foot by default, in which
    # the defaults are whole numbers); compliance_for(config) takes the agency's CRS and car speeds.
    metres_per_unit: float = 0.3048

    @property
    def gps_noise(self) -> float:
        """GPS noise per axis in CRS units."""
        return self.gps_noise_m / self.metres_per_unit

    def speed(self, mph: float) -> float:
        """A speed in CRS units per second."""
        return mph * METRES_PER_SECOND_PER_MPH / self.metres_per_unit


FULL_COMPLIANCE = Compliance(skip=0.0, cut_short=0.0, dose_spread=0.05, answer_calls=0.0)


def compliance_for(config, compliance: Compliance = Compliance()) -> Compliance:
    """`compliance` in the agency's CRS, with the demo block's car speeds (the config's `demo.car_speeds`)."""
    from dataclasses import replace

    from beatwise.config.units import metres_per_unit

    speeds = config.demo.car_speeds if config.demo else None
    mph = tuple(s / METRES_PER_SECOND_PER_MPH for s in speeds) if speeds else compliance.speed_mph
    return replace(compliance, metres_per_unit=metres_per_unit(config.crs), speed_mph=mph)


@dataclass
class Operations:
    """What one run of the field simulation produces (canonical column names; files.py writes the vendors').

    - pings: unit_id, pinged_at, x, y
    - activity: activity_id, unit_id, officer_id, mission_id, started_at, ended_at, tactic
    - dose (ground truth per planned visit): mission_id, visit, unit_id, officer_id, cell_id,
      planned_minutes, arrived_at, departed_at, dose_minutes, status (completed, cut_short, skipped, no_time)
    - roster: shift_start, shift_end, district, unit_id, officer_id
    """

    pings: pd.DataFrame
    activity: pd.DataFrame
    dose: pd.DataFrame
    roster: pd.DataFrame = field(default_factory=pd.DataFrame)


def pseudonym(salt: str, *parts: object, prefix: str = "", length: int = 12) -> str:
    """A stable pseudonymous id: a salted hash, never a name or a badge number."""
    text = ":".join([salt, *map(str, parts)])
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:length]


def make_roster(
    shift_starts: list[datetime] | pd.DatetimeIndex,
    districts: list[str],
    units_per_district: int | dict[str, int],
    shift_hours: float = 8.0,
    salt: str = "beatwise",
) -> pd.DataFrame:
    """Units on duty per district and shift: shift_start, shift_end, district, unit_id, officer_id.

    A unit id names a car of a district (the same car works every shift); an officer id names the
    officer who works that car on that watch (day / evening / night by start hour), so officers recur.
    """
    rows = []
    for start in pd.DatetimeIndex(shift_starts):
        for district in districts:
            n = (
                units_per_district.get(district, 0)
                if isinstance(units_per_district, dict)
                else units_per_district
            )
            for slot in range(n):
                rows.append(
                    {
                        "shift_start": start,
                        "shift_end": start + pd.Timedelta(hours=shift_hours),
                        "district": str(district),
                        "unit_id": pseudonym(salt, "unit", district, slot, prefix="U-", length=10),
                        "officer_id": pseudonym(salt, "officer", district, slot, start.hour, prefix="O-"),
                    }
                )
    return pd.DataFrame(rows, columns=["shift_start", "shift_end", "district", "unit_id", "officer_id"])


def simulate_operations(
    missions: pd.DataFrame,
    roster: pd.DataFrame,
    calls: pd.DataFrame | None = None,
    shift_start: datetime | None = None,
    seed: int = 1,
    compliance: Compliance = Compliance(),
    cell_size: float = 500.0,
    cells: pd.DataFrame | None = None,
) -> Operations:
    """Simulate the units of `roster` working `missions` (one shift, or every shift of the roster).

    missions: mission_id, shift_start, district, cell_id, dose_minutes (planned, per visit), visits, tactics
      (a list or a comma-separated string). calls: received_at, x, y and optionally district (canonical
      names). cells: cell_id, district (the district's cells bound random patrol; without it, patrol
      roams around the district's mission cells).
    """
    roster = roster.copy()
    roster["shift_start"] = pd.to_datetime(roster["shift_start"])
    if "shift_end" not in roster:
        roster["shift_end"] = roster["shift_start"] + pd.Timedelta(hours=8)
    roster["district"] = _districts(roster["district"])
    missions = missions.copy()
    missions["shift_start"] = pd.to_datetime(missions["shift_start"])
    missions["district"] = _districts(missions["district"])
    if shift_start is not None:
        roster = roster[roster["shift_start"] == pd.Timestamp(shift_start)]
        missions = missions[missions["shift_start"] == pd.Timestamp(shift_start)]
    unstaffed = set(zip(missions["shift_start"], missions["district"], strict=True)) - set(
        zip(roster["shift_start"], roster["district"], strict=True)
    )
    if unstaffed:
        when, district = sorted(unstaffed)[0]
        raise ValueError(
            f"{len(unstaffed)} district-shifts have missions but no units on the roster, "
            f"e.g. district {district} at {when}"
        )
    rng = np.random.default_rng([seed, 5])
    areas = _district_areas(missions, cells, cell_size)
    calls_by = _calls_by_district_shift(calls, roster, cells, cell_size)

    roster = roster.sort_values(["shift_start", "district", "unit_id"]).reset_index(drop=True)
    missions = missions.sort_values(["shift_start", "district", "mission_id"])
    grouped: dict[tuple, list[tuple]] = {}
    for row in zip(
        missions["shift_start"],
        missions["district"],
        missions["mission_id"],
        missions["cell_id"],
        missions["dose_minutes"].astype(float),
        missions["visits"].astype(int),
        missions["tactics"],
        strict=True,
    ):
        grouped.setdefault(row[:2], []).append((row[2], row[3], row[4], row[5], _tactic_list(row[6])))

    tracks: list[np.ndarray] = [np.empty((0, 3))] * len(roster)
    activity, visits = [], []
    unit_seeds = rng.integers(0, 2**63, len(roster))
    blocks = roster.groupby(["shift_start", "district"], sort=False).indices
    for (start, district), positions in blocks.items():
        todo = grouped.get((start, district), [])
        area = areas.get(district)
        if area is None:
            raise ValueError(
                f"district {district}: no cells known to patrol (give `cells` or missions there)"
            )
        taken = []
        if (start, district) in calls_by:
            t, x, y = calls_by[(start, district)]
            keep = rng.random(t.size) < compliance.answer_calls
            taken = list(zip(t[keep].tolist(), x[keep].tolist(), y[keep].tolist(), strict=True))
        length = (roster.at[positions[0], "shift_end"] - start).total_seconds()
        station = (float(np.mean([a[0] for a in area])), float(np.mean([a[1] for a in area])))
        for i, pos in enumerate(positions):
            shift = _UnitShift(
                pos,
                length,
                todo[i :: len(positions)],
                taken[i :: len(positions)],
                area,
                station,
                cell_size,
                compliance,
                random.Random(int(unit_seeds[pos])),
            )
            tracks[pos] = shift.run()
            activity += shift.activity
            visits += shift.visits
    return Operations(
        pings=_pings(tracks, roster, compliance, rng),
        activity=_activity_frame(activity, roster),
        dose=_dose_frame(visits, roster),
        roster=roster,
    )


def _tactic_list(tactics) -> list[str]:
    if isinstance(tactics, str):
        tactics = [t.strip() for t in tactics.split(",")]
    # A mission's tactics are records ({"tactic", "crime_type", "description"}): officers log the tactic's name.
    names = [t.get("tactic") if isinstance(t, dict) else t for t in (tactics if tactics is not None else [])]
    found = [str(t) for t in names if t is not None and str(t).strip()]
    return found or ["area_check"]


class _UnitShift:
    """One unit's shift as a piecewise-linear track: knots of (seconds into the shift, x, y).

    Plain Python with its own `random.Random`: a month of a large city is ~30,000 of these.
    """

    def __init__(
        self,
        unit: int,
        length: float,
        missions: list[tuple],
        calls: list[tuple],
        area: tuple,
        station: tuple[float, float],
        cell_size: float,
        compliance: Compliance,
        rnd: random.Random,
    ):
        self.unit, self.length, self.area, self.size, self.c, self.rnd = (
            unit,
            length,
            area,
            cell_size,
            compliance,
            rnd,
        )
        self.speed = compliance.speed(rnd.uniform(*compliance.speed_mph))
        self.station = station
        self.t, self.x, self.y = 0.0, *self.station
        self.knots = [(0.0, *self.station)]
        self.activity: list[tuple] = []  # (unit row, n, mission_id, tactic, start s, end s)
        self.visits: list[
            tuple
        ] = []  # (unit row, mission_id, visit, cell_id, planned, arrive s, depart s, status)
        items = []
        for mission in missions:
            n = max(mission[3], 1)
            for v in range(n):
                items.append(((v + rnd.uniform(0.1, 0.9)) * (length - 1800) / n + 900, 0, mission, v + 1))
        items += [(t, 1, (x, y), 0) for t, x, y in calls]
        self.items = sorted(items, key=lambda item: (item[0], item[1]))

    def _go(self, x: float, y: float) -> None:
        """Drive along the street grid: first east-west, then north-south."""
        if x != self.x:
            self.t += abs(x - self.x) / self.speed
            self.x = x
            self.knots.append((self.t, x, self.y))
        if y != self.y:
            self.t += abs(y - self.y) / self.speed
            self.y = y
            self.knots.append((self.t, x, y))

    def _stay(self, seconds: float) -> None:
        self.t = min(self.t + max(seconds, 1.0), max(self.length, self.t + 1.0))
        self.knots.append((self.t, self.x, self.y))

    def _eta(self, x: float, y: float) -> float:
        return (abs(x - self.x) + abs(y - self.y)) / self.speed

    def _patrol_until(self, when: float, x: float, y: float) -> None:
        """Roam the district (random cells, stops of 1-15 min) while (x, y) can still be reached by `when`."""
        rnd, half = self.rnd, 0.4 * self.size
        while True:
            cx, cy = self.area[rnd.randrange(len(self.area))]
            wx, wy = cx + rnd.uniform(-half, half), cy + rnd.uniform(-half, half)
            onward = (abs(x - wx) + abs(y - wy)) / self.speed
            if self.t + self._eta(wx, wy) + onward + 60 > when:
                return
            self._go(wx, wy)
            stop = min(rnd.uniform(60, 900), when - self.t - onward - 60)
            if stop > 0:
                self._stay(stop)

    def run(self) -> np.ndarray:
        rnd, end = self.rnd, self.length - 600
        # Roll call at the station: every unit-shift appears in the activity log, missions or not.
        self._stay(rnd.uniform(5, 15) * 60)
        self._log(None, ROLL_CALL, 0.0, self.t)
        for when, is_call, item, visit in self.items:
            if is_call:
                x, y = item
            else:
                col, row = parse_cell_id(item[1])
                x, y = (
                    (col + rnd.uniform(0.25, 0.75)) * self.size,
                    (row + rnd.uniform(0.25, 0.75)) * self.size,
                )
            self._patrol_until(when, x, y)
            if is_call:
                if self.t > when + 1800 or self.t + self._eta(x, y) > end:
                    continue  # another car took it
                self._go(x, y)
                arrived = self.t
                self._stay(min(rnd.uniform(12, 40) * 60, end - arrived))
                self._log(None, CALL_TACTIC, arrived, self.t)
                continue
            mission_id, cell_id, planned, _, tactics = item
            record = (self.unit, mission_id, visit, cell_id, planned)
            if rnd.random() < self.c.skip:
                self.visits.append((*record, None, None, "skipped"))
                continue
            if self.t + self._eta(x, y) + 60 > end:
                self.visits.append((*record, None, None, "no_time"))
                continue
            self._go(x, y)
            short = rnd.random() < self.c.cut_short
            spread = self.c.dose_spread  # lognormal around the plan, with mean equal to the plan
            stay = (
                planned
                * 60
                * (rnd.uniform(0.2, 0.7) if short else math.exp(rnd.gauss(-(spread**2) / 2, spread)))
            )
            arrived = self.t
            self._stay(min(stay, end - arrived))
            self.visits.append((*record, arrived, self.t, "cut_short" if short else "completed"))
            self._log_tactics(mission_id, tactics, arrived, self.t)
        self._patrol_until(self.length - 30, *self.station)
        self._go(*self.station)
        if self.t < self.length:
            self._stay(self.length - self.t)
        return np.array(self.knots)

    def _log_tactics(self, mission_id: str, tactics: list[str], arrived: float, departed: float) -> None:
        # Some visits combine two tactics; each logged activity covers its share of the stay.
        parts = 2 if self.rnd.random() < 0.3 and departed - arrived > 240 else 1
        step = (departed - arrived) / parts
        for k in range(parts):
            pool = tactics if self.rnd.random() < self.c.on_list_tactics else OFF_LIST_TACTICS
            self._log(
                mission_id, pool[self.rnd.randrange(len(pool))], arrived + k * step, arrived + (k + 1) * step
            )

    def _log(self, mission_id, tactic: str, a: float, b: float) -> None:
        self.activity.append((self.unit, len(self.activity), mission_id, tactic, a, b))


def _stamps(roster: pd.DataFrame, unit: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Whole-second timestamps `seconds` into each row's unit-shift."""
    start = roster["shift_start"].to_numpy().astype("datetime64[s]")[unit]
    return (start + np.floor(np.nan_to_num(seconds.astype(float))).astype("timedelta64[s]")).astype(
        "datetime64[ns]"
    )


def _dose_frame(visits: list[tuple], roster: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        visits,
        columns=["unit", "mission_id", "visit", "cell_id", "planned_minutes", "arrive", "depart", "status"],
    )
    unit = frame["unit"].to_numpy(dtype=np.int64)
    arrive, depart = frame["arrive"].to_numpy(dtype=float), frame["depart"].to_numpy(dtype=float)
    done = ~np.isnan(arrive)
    frame["arrived_at"] = np.where(done, _stamps(roster, unit, arrive), np.datetime64("NaT"))
    frame["departed_at"] = np.where(done, _stamps(roster, unit, depart), np.datetime64("NaT"))
    frame["dose_minutes"] = np.where(done, (depart - arrive) / 60, 0.0)
    frame["unit_id"] = roster["unit_id"].to_numpy()[unit]
    frame["officer_id"] = roster["officer_id"].to_numpy()[unit]
    return frame[
        [
            "mission_id",
            "visit",
            "unit_id",
            "officer_id",
            "cell_id",
            "planned_minutes",
            "arrived_at",
            "departed_at",
            "dose_minutes",
            "status",
        ]
    ]


def _district_areas(missions: pd.DataFrame, cells: pd.DataFrame | None, size: float) -> dict[str, tuple]:
    """Centres of the cells each district's units may patrol."""
    source = cells if cells is not None else missions
    out = {}
    for district, ids in source.groupby(_districts(source["district"]), sort=True)["cell_id"]:
        out[district] = tuple(
            ((col + 0.5) * size, (row + 0.5) * size) for col, row in map(parse_cell_id, ids.drop_duplicates())
        )
    return out


def _districts(values: pd.Series) -> pd.Series:
    return values.map(normalise_district).astype(object)


def _calls_by_district_shift(
    calls: pd.DataFrame | None, roster: pd.DataFrame, cells: pd.DataFrame | None, size: float
) -> dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(shift_start, district) -> seconds into the shift, x, y of the calls received then, in order."""
    if calls is None or calls.empty:
        return {}
    calls = calls.copy()
    if "district" not in calls and cells is not None:
        lookup = cells.set_index("cell_id")["district"]
        _, _, ids = cell_of(calls["x"].to_numpy(), calls["y"].to_numpy(), size)
        calls["district"] = lookup.reindex(ids).to_numpy()
    if "district" not in calls:
        return {}
    calls["district"] = _districts(calls["district"])
    calls["received_at"] = pd.to_datetime(calls["received_at"])
    calls = calls.sort_values("received_at", kind="stable")
    out = {}
    for start, end in roster[["shift_start", "shift_end"]].drop_duplicates().itertuples(index=False):
        within = calls[(calls["received_at"] >= start) & (calls["received_at"] < end)]
        for district, group in within.groupby("district", sort=True):
            seconds = (group["received_at"] - start).dt.total_seconds().to_numpy()
            out[(start, district)] = (seconds, group["x"].to_numpy(float), group["y"].to_numpy(float))
    return out


def _pings(
    tracks: list[np.ndarray], roster: pd.DataFrame, c: Compliance, rng: np.random.Generator
) -> pd.DataFrame:
    """Positions every `ping_interval_s` along each unit-shift's track, with GPS noise and lost pings."""
    if not tracks:
        return pd.DataFrame(
            {
                "unit_id": pd.Series(dtype=object),
                "pinged_at": pd.Series(dtype="datetime64[ns]"),
                "x": pd.Series(dtype=float),
                "y": pd.Series(dtype=float),
            }
        )
    # Lay the unit-shifts end to end on one clock so a single interpolation serves them all.
    gap = 1e6
    lengths = ((roster["shift_end"] - roster["shift_start"]).dt.total_seconds()).to_numpy()
    phase = rng.integers(0, max(int(c.ping_interval_s), 1), len(tracks)).astype(
        float
    )  # AVL clocks tick in seconds
    counts = np.floor((lengths - phase) / c.ping_interval_s).astype(np.int64) + 1
    owner = np.repeat(np.arange(len(tracks), dtype=np.int32), counts)
    offset = np.arange(owner.size, dtype=np.float64)
    offset -= np.repeat(np.cumsum(counts) - counts, counts)
    offset *= c.ping_interval_s
    offset += phase[owner]
    kept = rng.random(owner.size) >= c.ping_loss
    owner, offset = owner[kept], offset[kept]
    knots = np.concatenate(tracks)
    knots[:, 0] += np.repeat(np.arange(len(tracks)) * gap, [len(t) for t in tracks])
    clock = owner * gap + offset
    x = np.interp(clock, knots[:, 0], knots[:, 1]) + rng.normal(0, c.gps_noise, owner.size)
    y = np.interp(clock, knots[:, 0], knots[:, 2]) + rng.normal(0, c.gps_noise, owner.size)
    del clock
    start_s = roster["shift_start"].to_numpy().astype("datetime64[s]").astype(np.int64)
    stamp = (start_s[owner] + offset.astype(np.int64)) * 1_000_000_000
    codes, names = pd.factorize(roster["unit_id"].to_numpy(), sort=True)
    return pd.DataFrame(
        {
            "unit_id": pd.Categorical.from_codes(codes[owner], categories=names),
            "pinged_at": stamp.view("datetime64[ns]"),
            "x": np.round(x, 1),
            "y": np.round(y, 1),
        }
    )


def _activity_frame(rows: list[tuple], roster: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["unit", "n", "mission_id", "tactic", "a", "b"])
    unit = frame["unit"].to_numpy(dtype=np.int64)
    units = roster["unit_id"].to_numpy()[unit]
    shift = roster["shift_start"].dt.strftime("%Y%m%d%H").to_numpy()[unit]
    keys = (
        pd.Series(units, dtype=object) + ":" + pd.Series(shift, dtype=object) + ":" + frame["n"].astype(str)
    )
    out = pd.DataFrame(
        {
            "activity_id": [pseudonym("activity", k, prefix="A-", length=16) for k in keys],
            "unit_id": units,
            "officer_id": roster["officer_id"].to_numpy()[unit],
            "mission_id": frame["mission_id"].astype(object),
            "started_at": _stamps(roster, unit, frame["a"].to_numpy()),
            "ended_at": _stamps(roster, unit, frame["b"].to_numpy()),
            "tactic": frame["tactic"].astype(object),
        }
    )
    return out.sort_values(["started_at", "unit_id", "activity_id"]).reset_index(drop=True)
