"""The simulator: a synthetic city whose crime follows a known process, and simulated field operations.

No public source has AVL, activity logs, calls for service or gunfire detections with matching incidents;
the simulator writes them, deterministic by seed, in the layouts real systems deliver (see `files`), so they
go through the same ingest and contracts as real feeds.

    city = build_city(CityPlan(), seed=1)
    crime = CrimeProcess(city, CrimeParameters(), seed=1)
    history = crime.generate(date(2015, 1, 1), date(2016, 1, 1))        # open loop
    shift = crime.step(start, end, dose_minutes={"2000_3000": 15.0})    # closed loop, shift by shift
    ops = simulate_operations(missions, make_roster(...), calls, seed=1)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from beatwise.simulate.city import CRS, CityPlan, SyntheticCity, build_city
from beatwise.simulate.crime import KINDS, NO_DETERRENCE, CrimeParameters, CrimeProcess, Deterrence, EventKind
from beatwise.simulate.files import (
    ROW_GROUP,
    write_city_layers,
    write_detections,
    write_foreign_export,
    write_operations,
    write_parquet_pieces,
    write_weather,
)
from beatwise.simulate.operations import (
    FULL_COMPLIANCE,
    Compliance,
    Operations,
    compliance_for,
    make_roster,
    pseudonym,
    simulate_operations,
)
from beatwise.simulate.reporting import (
    CallDraws,
    Reporting,
    calls_for_service,
    gunfire_detections,
    incident_records,
)

__all__ = [
    "CRS",
    "FULL_COMPLIANCE",
    "KINDS",
    "NO_DETERRENCE",
    "CityPlan",
    "Compliance",
    "CrimeParameters",
    "CrimeProcess",
    "Deterrence",
    "EventKind",
    "Operations",
    "Reporting",
    "SyntheticCity",
    "build_city",
    "calls_for_service",
    "compliance_for",
    "gunfire_detections",
    "incident_records",
    "make_roster",
    "pseudonym",
    "simulate_city",
    "simulate_operations",
    "write_foreign_export",
    "write_operations",
]


def simulate_city(
    out: Path,
    incidents: int,
    start: date,
    end: date,
    seed: int = 1,
    plan: CityPlan | None = None,
    params: CrimeParameters | None = None,
    layout: str = "chicago",
) -> dict[str, int]:
    """Write a whole synthetic city into `out`: layers, weather, about `incidents` incidents in
    [start, end) and their calls for service and gunfire detections. Returns rows written per file.

    `layout="foreign"` writes only what a foreign service publishes: incidents and named divisions
    (files.write_foreign_export)."""
    out = Path(out)
    city = build_city(plan, seed)
    params = (params or CrimeParameters()).scaled_to_incidents(city, incidents, start, end)
    events = CrimeProcess(city, params, seed).generate(start, end)
    if layout == "foreign":
        records = incident_records(events, city)
        write_foreign_export(city, records, out)
        return {"incidents": len(records), "districts": len(city.district_boxes), "cells": len(city.cells)}
    detections = gunfire_detections(events, city, seed)
    write_city_layers(city, out)
    write_weather(city, start, pd.Timestamp(end) - pd.Timedelta(days=1), out)  # end is exclusive
    # The two big files are formatted and written a row group at a time: memory stays near the events'.
    recorded = np.flatnonzero(events["kind"].isin([k.name for k in params.kinds if k.iucr]).to_numpy())
    write_parquet_pieces(
        (_arrow(incident_records(events.iloc[recorded[lo:lo + ROW_GROUP]], city))
         for lo in range(0, recorded.size, ROW_GROUP)),
        out / "incidents.parquet",
    )
    calls = CallDraws(events, city, seed)
    write_parquet_pieces((calls.table(lo, min(lo + ROW_GROUP, len(calls))) for lo in range(0, len(calls), ROW_GROUP)),
                         out / "calls_for_service.parquet")
    write_detections(detections, out / "gunfire_detections.csv")
    return {
        "incidents": int(recorded.size),
        "calls_for_service": len(calls),
        "gunfire_detections": len(detections),
        "liquor_premises": len(city.premises),
        "cells": len(city.cells),
    }


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
