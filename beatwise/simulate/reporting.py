"""How the synthetic city's events become records: incidents, calls for service, acoustic gunfire detections.

- Every event of a recorded offence becomes an incident record (the block of its cell, coordinates snapped
  to the foot, time to the minute, as the data portal publishes them).
- Gunfire is heard by the acoustic sensors with probability `detect_gunfire` (about nine shots in ten) and
  reported by a resident with probability `call_gunfire` (about one in five): the reason detections, not
  calls, feed the gunfire crime type.
- Residents call about most other crimes (`call_crime`), some only later (burglary and theft are
  discovered), and about many things that are not crimes at all (`other_calls_per_incident`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from beatwise.simulate.city import SyntheticCity, cell_blocks
from beatwise.simulate.crime import KINDS, EventKind


@dataclass(frozen=True)
class Reporting:
    """Known reporting probabilities and delays."""

    detect_gunfire: float = 0.9
    call_gunfire: float = 0.2
    call_crime: float = 0.75
    other_calls_per_incident: float = 1.5
    detection_error_ft: float = 80.0


# CAD call types: (code, description, priority). Crime calls carry the code of their kind.
CALL_TYPES = {
    "theft": ("THEFT", 3),
    "burglary": ("BURG", 2),
    "motor_vehicle_theft": ("AUTOTHFT", 3),
    "robbery": ("ROBBERY", 1),
    "aggravated_assault": ("ASLTBATT", 1),
    "homicide": ("PERSHOT", 1),
    "gunfire": ("SHOTSFIRED", 1),
    "criminal_damage": ("DAMAGE", 4),
    "narcotics": ("NARCOTICS", 4),
}
OTHER_CALLS = (("DISTURB", 3), ("NOISE", 5), ("TRAFFIC", 4), ("ALARM", 3), ("WELLBEING", 2), ("SUSPPERS", 3))
# Reports of property crime come in late: minutes of delay, lognormal median.
MEDIAN_DELAY_MINUTES = {
    "burglary": 120.0,
    "theft": 45.0,
    "motor_vehicle_theft": 240.0,
    "criminal_damage": 180.0,
}


def _kind(name: str, kinds: tuple[EventKind, ...] = KINDS) -> EventKind:
    return next(k for k in kinds if k.name == name)


def incident_records(events: pd.DataFrame, city: SyntheticCity, first_case: int = 100_000) -> pd.DataFrame:
    """Incident records in the layout of the Chicago data portal's crime extract (same column names)."""
    kinds = {k.name: k for k in KINDS}
    recorded = events[events["kind"].isin([n for n, k in kinds.items() if k.iucr])].reset_index(drop=True)

    def pick(attr: str) -> np.ndarray:
        return np.asarray(recorded["kind"].map({n: getattr(k, attr) for n, k in kinds.items()}), dtype=object)

    x, y = np.round(recorded["x"].to_numpy(), 0), np.round(recorded["y"].to_numpy(), 0)
    lon, lat = _to_wgs84(x, y, city.crs)
    cell = city.cell_index(recorded["x"].to_numpy(), recorded["y"].to_numpy())
    occurred = recorded["occurred_at"].dt.floor("min").astype("datetime64[us]")
    ids = recorded["event_id"].to_numpy()
    return pd.DataFrame(
        {
            "ID": ids.astype(np.int64),
            "Case Number": "SY" + pd.Series(first_case + ids).astype(str),
            "Date": occurred,
            "Block": cell_blocks(city)[cell],
            "IUCR": pick("iucr"),
            "Primary Type": pick("primary_type"),
            "Description": pick("description"),
            "Location Description": pick("location"),
            "Arrest": False,
            "Domestic": False,
            "Beat": recorded["beat"].to_numpy(),
            "District": np.char.zfill(recorded["district"].to_numpy(dtype=str), 3).astype(object),
            "FBI Code": pick("fbi_code"),
            "X Coordinate": x,
            "Y Coordinate": y,
            "Updated On": occurred + pd.Timedelta(days=7),
            "Latitude": np.round(lat, 9),
            "Longitude": np.round(lon, 9),
        }
    )


def gunfire_detections(
    events: pd.DataFrame, city: SyntheticCity, seed: int, reporting: Reporting = Reporting()
) -> pd.DataFrame:
    """Acoustic detections of the gunfire events, in a vendor's alert layout (WGS84 points)."""
    rng = np.random.default_rng([seed, 3])
    shots = events[events["kind"] == "gunfire"].reset_index(drop=True)
    heard = rng.random(len(shots)) < reporting.detect_gunfire
    rounds = 1 + rng.poisson(2.5, len(shots))
    error = rng.normal(0, reporting.detection_error_ft, (len(shots), 2))
    delay = rng.uniform(5, 40, len(shots))
    shots, rounds, error, delay = shots[heard], rounds[heard], error[heard], delay[heard]
    lon, lat = _to_wgs84(shots["x"].to_numpy() + error[:, 0], shots["y"].to_numpy() + error[:, 1], city.crs)
    return pd.DataFrame(
        {
            "alert_id": "SST-" + shots["event_id"].astype(str).to_numpy(),
            "alert_time": (shots["occurred_at"] + pd.to_timedelta(delay, unit="s"))
            .dt.floor("s")
            .astype("datetime64[us]")
            .to_numpy(),
            "rounds": rounds.astype(np.int64),
            "alert_type": np.where(rounds > 1, "Multiple Gunshots", "Single Gunshot"),
            "latitude": np.round(lat, 7),
            "longitude": np.round(lon, 7),
        }
    )


def calls_for_service(
    events: pd.DataFrame, city: SyntheticCity, seed: int, reporting: Reporting = Reporting()
) -> pd.DataFrame:
    """Calls for service as a CAD exports them: residents' calls about crime and about everything else."""
    calls = CallDraws(events, city, seed, reporting)
    return calls.table(0, len(calls)).to_pandas()


class CallDraws:
    """Every call's time, type and place as numpy arrays (a few dozen bytes a call), in the CAD's order;
    `table` formats a slice of them, so a city of tens of millions of calls is written in pieces."""

    def __init__(self, events: pd.DataFrame, city: SyntheticCity, seed: int, reporting: Reporting = Reporting()):
        rng = np.random.default_rng([seed, 4])
        kind = events["kind"]
        p_call = np.where(kind == "gunfire", reporting.call_gunfire, reporting.call_crime)
        called = rng.random(len(events)) < p_call
        called_kind = kind[called]
        median = np.asarray(called_kind.map(lambda k: MEDIAN_DELAY_MINUTES.get(k, 3.0)), dtype=float)
        delay = median * np.exp(rng.normal(0, 0.6, called.sum()))
        crime_code = np.asarray(called_kind.map({k: i for i, k in enumerate(CALL_TYPES)}), dtype=np.int16)
        crime_received = (events["occurred_at"].to_numpy()[called].astype("datetime64[ns]")
                          + pd.to_timedelta(delay, unit="min").to_numpy())
        crime_x = events["x"].to_numpy()[called] + rng.normal(0, 30, crime_code.size)
        crime_y = events["y"].to_numpy()[called] + rng.normal(0, 30, crime_code.size)

        # Calls about things that are not crimes: where people live and go out, mostly in the evening.
        n_other = rng.poisson(reporting.other_calls_per_incident * (kind != "gunfire").sum())
        cells = city.cells
        weight = np.where(cells["land_use"] == "recreational", 0.3, 1.0) * (
            1 + np.log1p(cells["bars_nearby"])
        )
        cell = rng.choice(len(cells), n_other, p=(weight / weight.sum()).to_numpy())
        lo = events["occurred_at"].min() if len(events) else pd.Timestamp("2000-01-01")
        hi = events["occurred_at"].max() if len(events) else lo
        span = (hi - lo) / pd.Timedelta(seconds=1)
        other_received = (lo + pd.to_timedelta(np.sort(rng.uniform(0, max(span, 1.0), n_other)), unit="s")
                          ).to_numpy().astype("datetime64[ns]")
        other_code = (len(CALL_TYPES) + rng.integers(0, len(OTHER_CALLS), n_other)).astype(np.int16)
        size = city.plan.cell_size
        other_x = cells["x_min"].to_numpy()[cell] + rng.uniform(0, size, n_other)
        other_y = cells["y_min"].to_numpy()[cell] + rng.uniform(0, size, n_other)
        del cell

        x, y = np.concatenate([crime_x, other_x]), np.concatenate([crime_y, other_y])
        received = np.concatenate([crime_received, other_received]).view(np.int64)
        code = np.concatenate([crime_code, other_code])
        del crime_x, other_x, crime_y, other_y, crime_received, other_received, crime_code, other_code
        cell = city.cell_index(x, y)
        inside = cell >= 0
        x, y, received, code, cell = x[inside], y[inside], received[inside], code[inside], cell[inside]
        received -= received % 1_000_000_000  # to the second (all after 1970)
        order = np.lexsort((y, x, received))
        self.x, self.y, self.received = x[order], y[order], received[order]
        self.code, self.cell = code[order], cell[order]
        # Codes 0..8: the kinds' call types, in CALL_TYPES order; then the calls about other things.
        self.codes = np.array([c for c, _ in CALL_TYPES.values()] + [c for c, _ in OTHER_CALLS], dtype=object)
        self.priorities = np.array([p for _, p in CALL_TYPES.values()] + [p for _, p in OTHER_CALLS], np.int64)
        self.district = cells["district"].to_numpy()
        self.beat = cells["beat"].to_numpy()

    def __len__(self) -> int:
        return self.x.size

    def table(self, lo: int, hi: int) -> pa.Table:
        """Calls lo..hi (0-based, in order) in the CAD's layout; event numbers count from the first call."""
        received = self.received[lo:hi].view("datetime64[ns]")
        year = pc.utf8_slice_codeunits(pa.array(pd.DatetimeIndex(received).year.astype(str)), -2)
        number = pc.utf8_lpad(pa.array(np.arange(lo + 1, hi + 1)).cast(pa.string()), 8, "0")
        code, cell = self.code[lo:hi], self.cell[lo:hi]
        return pa.table({
            "event_no": pc.binary_join_element_wise(year, number, "-"),
            "entry_time": pa.array(received.astype("datetime64[us]")),
            "nature_code": pa.array(self.codes[code], pa.string()),
            "priority_code": pa.array(self.priorities[code]),
            "x_coord": pa.array(np.round(self.x[lo:hi], 1)),
            "y_coord": pa.array(np.round(self.y[lo:hi], 1)),
            "district": pa.array(self.district[cell], pa.string()),
            "beat": pa.array(self.beat[cell], pa.string()),
        })


def _to_wgs84(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(np.asarray(x), np.asarray(y))
