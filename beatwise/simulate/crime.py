"""The known crime process of the synthetic city: background, near-repeat contagion, deterrence by dose.

For each kind k of event, at a point in cell c and time t, the intensity is

    lambda_k(c, t) = D_k(c, t) * ( mu_k * w_k(c) * s_k(t)  +  sum over earlier events i of kind k:
                                    n_k * g_k(t - t_i) * h_k(x - x_i) )

- background: `mu_k` events a day city-wide (before contagion), spread over cells by the known environment
  `w_k(c)` = exp(coefficients . [land use, log1p(bars within 1,000 ft), hotspot, venue proximity]) and over
  time by `s_k(t)`: an hour-of-day profile, +10% on Fridays and Saturdays, and exp(temp_effect * (tmax-60)/20)
  with the day's maximum temperature (the weather file carries it);
- near-repeat contagion (a Hawkes process): each event triggers Poisson(n_k) offspring of its kind, after an
  exponential delay of mean `delay_days_k`, displaced by a Gaussian of `spread_ft_k` per axis;
- deterrence: D_k(c, t) = (1 - during * f(dose in c during t's shift)) * (1 - residual * f(dose in c
  during the previous shift)), f(d) = min(d / full_dose_minutes, 1). The reduction holds for the whole
  shift a cell is dosed in: the Koper effect, deterrence outlasting the visit. Enforcement-driven
  offences are not deterred.

Simulated with the cluster (branching) representation: background events are drawn directly, offspring
generation by generation, and every candidate is kept with probability D (thinning), so a deterred event
also never triggers its offspring. `CrimeProcess.generate` runs a period open-loop; `CrimeProcess.step`
then advances shift by shift given the dose delivered per cell, for closed-loop experiments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
import pandas as pd

from beatwise.simulate.city import SyntheticCity

EPOCH = np.datetime64("2000-01-01T00:00:00", "s")
DAY = 86_400.0


@dataclass(frozen=True)
class EventKind:
    """One kind of event the city produces, with the source offence it is recorded as."""

    name: str  # beatwise crime type, or an unmodelled offence
    share: float  # share of all events
    branching: float  # expected near-repeat offspring per event (n_k < 1)
    delay_days: float  # mean delay of an offspring
    spread_ft: float  # displacement of an offspring, per axis
    peak_hour: float
    hour_amplitude: float
    coefficients: dict[str, float]
    iucr: str = ""
    primary_type: str = ""
    description: str = ""
    fbi_code: str = ""
    location: str = "STREET"
    deterred: bool = True
    temp_effect: float = 0.25


KINDS: tuple[EventKind, ...] = (
    EventKind(
        "theft",
        0.38,
        0.10,
        2.0,
        400,
        15,
        0.5,
        {"commercial": 1.0, "bars": 0.35, "hotspot": 0.2, "venue": 0.8},
        "0820",
        "THEFT",
        "$500 AND UNDER",
        "06",
        "STREET",
    ),
    EventKind(
        "burglary",
        0.12,
        0.35,
        4.0,
        350,
        12,
        0.4,
        {"residential": 0.8, "hotspot": 0.3},
        "0610",
        "BURGLARY",
        "FORCIBLE ENTRY",
        "05",
        "RESIDENCE",
        temp_effect=0.1,
    ),
    EventKind(
        "motor_vehicle_theft",
        0.09,
        0.20,
        3.0,
        500,
        22,
        0.4,
        {"residential": 0.4, "commercial": 0.4, "hotspot": 0.3},
        "0910",
        "MOTOR VEHICLE THEFT",
        "AUTOMOBILE",
        "07",
        "STREET",
    ),
    EventKind(
        "robbery",
        0.08,
        0.20,
        2.0,
        400,
        21,
        0.6,
        {"commercial": 0.6, "bars": 0.3, "hotspot": 0.6},
        "031A",
        "ROBBERY",
        "ARMED: HANDGUN",
        "03",
        "SIDEWALK",
    ),
    EventKind(
        "aggravated_assault",
        0.08,
        0.30,
        1.5,
        350,
        23,
        0.7,
        {"bars": 0.4, "hotspot": 0.8},
        "041A",
        "BATTERY",
        "AGGRAVATED: HANDGUN",
        "04B",
        "STREET",
    ),
    EventKind(
        "homicide",
        0.004,
        0.10,
        2.0,
        400,
        0,
        0.7,
        {"hotspot": 1.0},
        "0110",
        "HOMICIDE",
        "FIRST DEGREE MURDER",
        "01A",
        "STREET",
    ),
    EventKind("gunfire", 0.10, 0.40, 1.0, 500, 0, 0.9, {"hotspot": 1.2, "recreational": 0.3}),
    EventKind(
        "criminal_damage",
        0.10,
        0.10,
        3.0,
        400,
        20,
        0.4,
        {"residential": 0.3, "commercial": 0.3},
        "1310",
        "CRIMINAL DAMAGE",
        "TO PROPERTY",
        "14",
        "RESIDENCE",
    ),
    # Recorded narcotics measure where police look, not where crime is: present, never modelled, not deterred.
    EventKind(
        "narcotics",
        0.036,
        0.0,
        1.0,
        300,
        20,
        0.3,
        {"hotspot": 1.0},
        "1811",
        "NARCOTICS",
        "POSS: CANNABIS 30GMS OR LESS",
        "18",
        "STREET",
        deterred=False,
    ),
)


@dataclass(frozen=True)
class Deterrence:
    """The known effect of directed patrol: stated multiplicative reductions of a cell's intensity."""

    during_dose: float = 0.3  # over the shift in which the cell receives its dose
    residual_next_shift: float = 0.1  # over the next shift
    full_dose_minutes: float = 15.0  # a dose this long (or longer) gives the full effect

    def multiplier(self, dose_now: np.ndarray, dose_before: np.ndarray) -> np.ndarray:
        """D: the factor on a cell's intensity given its dose this shift and the previous one (minutes)."""
        f_now = np.clip(np.asarray(dose_now, dtype=float) / self.full_dose_minutes, 0.0, 1.0)
        f_before = np.clip(np.asarray(dose_before, dtype=float) / self.full_dose_minutes, 0.0, 1.0)
        return (1 - self.during_dose * f_now) * (1 - self.residual_next_shift * f_before)


NO_DETERRENCE = Deterrence(0.0, 0.0)


@dataclass(frozen=True)
class CrimeParameters:
    """The true parameters of the process; everything an estimator should recover is here."""

    events_per_day: float = 150.0  # all kinds, city-wide, on an average day (background and offspring)
    kinds: tuple[EventKind, ...] = KINDS
    deterrence: Deterrence = field(default_factory=Deterrence)

    @property
    def deterrence_during_dose(self) -> float:
        return self.deterrence.during_dose

    @property
    def residual_next_shift(self) -> float:
        return self.deterrence.residual_next_shift

    def scaled_to_incidents(
        self, city: SyntheticCity, incidents: int, start: date, end: date
    ) -> CrimeParameters:
        """The same process with its rate set so that about `incidents` incident records fall in [start, end)
        (the season counts: a winter has fewer)."""
        expected = CrimeProcess(city, self).expected_events(start, end)
        recorded = sum(n for kind, n in zip(self.kinds, expected, strict=True) if kind.iucr)
        return replace(self, events_per_day=self.events_per_day * incidents / recorded)


@dataclass
class _Events:
    t: np.ndarray  # seconds since EPOCH
    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray  # index into kinds
    gen: np.ndarray  # 0 background, n the n-th generation of offspring

    @classmethod
    def empty(cls) -> _Events:
        return cls(np.empty(0), np.empty(0), np.empty(0), np.empty(0, np.int16), np.empty(0, np.int16))

    def __len__(self) -> int:
        return self.t.size

    def take(self, mask) -> _Events:
        return _Events(self.t[mask], self.x[mask], self.y[mask], self.kind[mask], self.gen[mask])

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        parts = [p for p in parts if len(p)] or [_Events.empty()]
        return _Events(
            *(np.concatenate([getattr(p, a) for p in parts]) for a in ("t", "x", "y", "kind", "gen"))
        )


class CrimeProcess:
    """The synthetic city's crime, deterministic by seed. Call `generate` once, then `step` shift by shift."""

    def __init__(self, city: SyntheticCity, params: CrimeParameters | None = None, seed: int = 1):
        self.city = city
        self.params = params or CrimeParameters()
        self.rng = np.random.default_rng([seed, 2])
        self.cell_weights = self._cell_weights()
        self._pending = _Events.empty()  # offspring drawn but not yet due
        self._clock: np.datetime64 | None = None
        self._dose_before = np.zeros(len(city.cells))
        self._next_id = 1

    # -- public API ---------------------------------------------------------------------------------------
    def generate(self, start: date | datetime, end: date | datetime) -> pd.DataFrame:
        """Every event in [start, end) with no patrol dose (open loop): the city's history."""
        return self._advance(start, end, multiplier=None)

    def step(
        self,
        shift_start: datetime,
        shift_end: datetime,
        dose_minutes: Mapping[str, float] | pd.Series | None = None,
    ) -> pd.DataFrame:
        """The events of one shift given the directed-patrol minutes delivered per cell_id during it.

        Steps must follow each other (and a `generate`) without gaps: contagion carries over.
        """
        dose = pd.Series(dose_minutes if dose_minutes is not None else {}, dtype=float)
        index = pd.Series(np.arange(len(self.city.cells)), index=self.city.cells["cell_id"])
        unknown = dose.index.difference(index.index)
        if len(unknown):
            raise ValueError(f"dose given for cells outside the city: {list(unknown[:5])}")
        now = np.zeros(len(self.city.cells))
        now[index.loc[dose.index].to_numpy()] = dose.to_numpy()
        multiplier = self.params.deterrence.multiplier(now, self._dose_before)
        events = self._advance(shift_start, shift_end, multiplier)
        self._dose_before = now
        return events

    def expected_background(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Expected background events (before contagion and deterrence) per cell and kind in [start, end)."""
        hours = _hours(start, end)
        out = {}
        for k, kind in enumerate(self.params.kinds):
            out[kind.name] = self._kind_rate(k) * self._time_profile(kind, hours).sum() * self.cell_weights[k]
        return pd.DataFrame(out, index=self.city.cells["cell_id"])

    def expected_events(self, start, end) -> list[float]:
        """Expected events of each kind in [start, end), offspring included (stationary), no deterrence."""
        hours = _hours(start, end)
        return [
            self._kind_rate(k) * self._time_profile(kind, hours).sum() / (1 - kind.branching)
            for k, kind in enumerate(self.params.kinds)
        ]

    # -- the process ----------------------------------------------------------------------------------------
    def _advance(self, start, end, multiplier: np.ndarray | None) -> pd.DataFrame:
        start, end = _on_hour(start, "start"), _on_hour(end, "end")
        if end <= start:
            raise ValueError(f"the period must end after it starts ({start} .. {end})")
        if self._clock is not None and start != self._clock:
            raise ValueError(
                f"the process is at {self._clock}; the next period must start there, not at {start}"
            )
        t1 = float((end - EPOCH) / np.timedelta64(1, "s"))
        due = self._pending.t < t1
        candidates = _Events.concat([self._background(start, end), self._pending.take(due)])
        pending = [self._pending.take(~due)]
        accepted = []
        while len(candidates):
            keep = self._survives(candidates, multiplier)
            parents = candidates.take(keep)
            accepted.append(parents)
            children = self._offspring(parents)
            now = children.t < t1
            pending.append(children.take(~now))
            candidates = children.take(now)
        self._pending = _Events.concat(pending)
        self._clock = end
        events = _Events.concat(accepted)
        order = np.lexsort((events.y, events.x, events.t))
        return self._frame(events.take(order))

    def _kind_rate(self, k: int) -> float:
        """Background events of kind k per hour city-wide, average hour (a share n_k of all is offspring)."""
        kinds = self.params.kinds
        share = kinds[k].share / sum(kind.share for kind in kinds)
        return self.params.events_per_day * share * (1 - kinds[k].branching) / 24

    def _cell_weights(self) -> list[np.ndarray]:
        cells = self.city.cells
        covariates = {
            "residential": (cells["land_use"] == "residential").to_numpy(float),
            "commercial": (cells["land_use"] == "commercial").to_numpy(float),
            "recreational": (cells["land_use"] == "recreational").to_numpy(float),
            "bars": np.log1p(cells["bars_nearby"].to_numpy(float)),
            "hotspot": cells["hotspot"].to_numpy(float),
            "venue": np.exp(-cells["venue_distance"].to_numpy(float) / 3_000),
        }
        weights = []
        for kind in self.params.kinds:
            log_w = sum(coef * covariates[name] for name, coef in kind.coefficients.items())
            w = np.exp(log_w)
            weights.append(w / w.sum())
        return weights

    def _time_profile(self, kind: EventKind, hours: pd.DatetimeIndex) -> np.ndarray:
        """s_k over hourly bins: hour of day x day of week x temperature, about 1 on average."""
        hour = hours.hour.to_numpy()
        daily = np.exp(kind.hour_amplitude * np.cos(2 * np.pi * (hour - kind.peak_hour) / 24))
        daily /= np.exp(
            kind.hour_amplitude * np.cos(2 * np.pi * (np.arange(24) - kind.peak_hour) / 24)
        ).mean()
        weekend = np.where(np.isin(hours.dayofweek.to_numpy(), (4, 5)), 1.1, 1.0) / (1 + 0.2 / 7)
        days = hours.normalize()
        unique_days, inverse = np.unique(days, return_inverse=True)
        tmax = self._tmax(pd.DatetimeIndex(unique_days))[inverse]
        return daily * weekend * np.exp(kind.temp_effect * (tmax - 60) / 20)

    def _tmax(self, days: pd.DatetimeIndex) -> np.ndarray:
        cache = self.__dict__.setdefault("_tmax_cache", {})
        missing = [d for d in days if d not in cache]
        if missing:
            cache.update(zip(missing, self.city.daily_tmax(pd.DatetimeIndex(missing)), strict=True))
        return np.array([cache[d] for d in days])

    def _background(self, start: np.datetime64, end: np.datetime64) -> _Events:
        hours = _hours(start, end)
        hour_t = (hours.to_numpy().astype("datetime64[s]") - EPOCH).astype(np.float64)
        cells, size = self.city.cells, self.city.plan.cell_size
        x_min, y_min = cells["x_min"].to_numpy(), cells["y_min"].to_numpy()
        parts = []
        for k, kind in enumerate(self.params.kinds):
            profile = self._time_profile(kind, hours)
            n = self.rng.poisson(self._kind_rate(k) * profile.sum())
            cell = self.rng.choice(len(cells), n, p=self.cell_weights[k])
            hour = self.rng.choice(len(hours), n, p=profile / profile.sum())
            parts.append(
                _Events(
                    hour_t[hour] + self.rng.uniform(0, 3600, n),
                    x_min[cell] + self.rng.uniform(0, size, n),
                    y_min[cell] + self.rng.uniform(0, size, n),
                    np.full(n, k, np.int16),
                    np.zeros(n, np.int16),
                )
            )
        return _Events.concat(parts)

    def _survives(self, events: _Events, multiplier: np.ndarray | None) -> np.ndarray:
        cell = self.city.cell_index(events.x, events.y)
        inside = cell >= 0
        if multiplier is None:
            return inside
        deterred = np.array([k.deterred for k in self.params.kinds])[events.kind]
        p = np.where(deterred, multiplier[np.maximum(cell, 0)], 1.0)
        return inside & (self.rng.random(len(events)) < p)

    def _offspring(self, parents: _Events) -> _Events:
        kinds = self.params.kinds
        n = self.rng.poisson(np.array([k.branching for k in kinds])[parents.kind])
        src = np.repeat(np.arange(len(parents)), n)
        kind = parents.kind[src]
        delay = self.rng.exponential(np.array([k.delay_days for k in kinds])[kind] * DAY)
        spread = np.array([k.spread_ft for k in kinds], dtype=float)[kind]
        return _Events(
            parents.t[src] + delay,
            parents.x[src] + self.rng.normal(0, 1, src.size) * spread,
            parents.y[src] + self.rng.normal(0, 1, src.size) * spread,
            kind,
            (parents.gen[src] + 1).astype(np.int16),
        )

    def _frame(self, events: _Events) -> pd.DataFrame:
        cells = self.city.cells
        cell = self.city.cell_index(events.x, events.y)
        ids = np.arange(self._next_id, self._next_id + len(events))
        self._next_id += len(events)
        names = np.array([k.name for k in self.params.kinds], dtype=object)
        return pd.DataFrame(
            {
                "event_id": ids,
                "occurred_at": (EPOCH + (events.t * 1e6).astype("int64").astype("timedelta64[us]")),
                "kind": pd.Categorical.from_codes(events.kind, categories=names),
                "x": events.x,
                "y": events.y,
                "cell_id": cells["cell_id"].to_numpy()[cell],
                "district": cells["district"].to_numpy()[cell],
                "beat": cells["beat"].to_numpy()[cell],
                "generation": events.gen,
            }
        )


def _on_hour(value, what: str) -> np.datetime64:
    stamp = pd.Timestamp(value)
    if stamp.tz is not None:
        raise ValueError(f"the {what} must be a local time without a zone, got {value}")
    if stamp != stamp.floor("h"):
        raise ValueError(f"the {what} must fall on the hour, got {value}")
    return np.datetime64(stamp.to_datetime64(), "s")


def _hours(start, end) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="h", inclusive="left")
