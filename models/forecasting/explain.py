"""Risk drivers and expected counts in words a roll call understands, never a feature's code name.

`recent_counts` condenses the sparse cell-shift counts into each cell's counts over the feature windows;
`driver_text` turns one driver (a feature name, or a baseline's method) into a sentence with its value
("3 robberies within 230 m in the last 28 days", "a bar or restaurant 60 m away"); `expected_in_words`
says an expected count as a frequency ("about 1 robbery in 12 shifts").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

WINDOWS = (7, 28, 91, 364)
PLURAL = {
    "gunfire": ("gunfire detection", "gunfire detections"),
    "homicide": ("homicide", "homicides"),
    "aggravated_assault": ("aggravated assault", "aggravated assaults"),
    "robbery": ("robbery", "robberies"),
    "burglary": ("burglary", "burglaries"),
    "motor_vehicle_theft": ("motor vehicle theft", "motor vehicle thefts"),
    "theft": ("theft", "thefts"),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# The counts that inform every crime type without being modelled (features.signal_series).
REPORTED = {"signal": "other offences reported by the public", "calls": "calls for service",
            "detections": "gunfire detections"}
LAND_USE = {"residential_share": "residential", "commercial_share": "commercial",
            "recreational_share": "parks and recreation"}


# What an analyst calls each forecasting method (the code names stay in the warehouse and MLflow).
METHODS = {
    "lightgbm_poisson": "learned model (LightGBM)",
    "kernel_decay": "recent crime nearby, newest first",
    "prospective_hotspot": "prospective hotspots",
    "pooled_shrinkage": "all crime nearby, shrunk to the area",
    "blend": "learned model blended with a baseline or the count with related reports",
    "augmented_count": "count of the last 364 days with related reports",
}


def method_words(method: str) -> str:
    """A forecasting method as words: "count of the last 28 days" for prior_28d; unknown names de-underscored."""
    if days := re.fullmatch(r"prior_(\d+)d", str(method)):
        return f"count of the last {int(days.group(1)):,} days"
    return METHODS.get(str(method), str(method).replace("_", " "))


def crime_words(crime_type: str, n: float) -> str:
    one, many = PLURAL.get(crime_type, (crime_type.replace("_", " "),) * 2)
    return one if round(n) == 1 else many


def expected_in_words(expected: float, crime_type: str) -> str:
    """An expected count per shift as a frequency: "about 1 robbery in 12 shifts", "about 2 thefts a shift"."""
    if not np.isfinite(expected) or expected <= 0:
        return f"no {crime_words(crime_type, 2)} expected"
    if expected >= 0.95:
        n = round(expected, 1) if expected < 10 else round(expected)
        return f"about {n:g} {crime_words(crime_type, n)} a shift"
    every = round(1 / expected)
    if every > 1000:
        return f"fewer than 1 {crime_words(crime_type, 1)} in 1,000 shifts"
    return f"about 1 {crime_words(crime_type, 1)} in {every:,} shifts"


def recent_counts(counts: pd.DataFrame, shift_start: datetime) -> pd.DataFrame:
    """Per (cell_id, crime_type): n_{w} over each window before the shift, n_same_shift_364 (shifts that
    start at the same hour) and days_since_last. `counts` holds cell_id, crime_type, shift_start and
    incident_count rows of the year before the shift."""
    start = pd.Timestamp(shift_start)
    frame = counts[counts["shift_start"] < start].copy()
    age = (start - pd.to_datetime(frame["shift_start"])).dt.total_seconds() / 86400
    for w in WINDOWS:
        frame[f"n_{w}"] = np.where(age <= w, frame["incident_count"], 0)
    same = pd.to_datetime(frame["shift_start"]).dt.hour == start.hour
    frame["n_same_shift_364"] = np.where(same & (age <= 364), frame["incident_count"], 0)
    frame["age"] = age
    grouped = frame.groupby(["cell_id", "crime_type"])
    out = grouped[[f"n_{w}" for w in WINDOWS] + ["n_same_shift_364"]].sum()
    out["days_since_last"] = grouped["age"].min()
    return out.reset_index()


def neighbourhood_counts(recent: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """`recent` summed over each cell's 3x3 block of cells (cells: cell_id, cell_col, cell_row)."""
    where = recent.merge(cells[["cell_id", "cell_col", "cell_row"]], on="cell_id")
    numbers = [c for c in recent.columns if c.startswith("n_")]
    shifted = []
    for dc in (-1, 0, 1):
        for dr in (-1, 0, 1):
            moved = where.assign(cell_col=where["cell_col"] + dc, cell_row=where["cell_row"] + dr)
            shifted.append(moved)
    blocks = pd.concat(shifted).groupby(["cell_col", "cell_row", "crime_type"])[numbers].sum().reset_index()
    return blocks.merge(cells[["cell_id", "cell_col", "cell_row"]], on=["cell_col", "cell_row"])[
        ["cell_id", "crime_type", *numbers]
    ]


def _count(n: float, crime_type: str) -> str:
    return f"{int(round(n))} {crime_words(crime_type, n)}"


def driver_text(feature: str, crime_type: str, values: dict, cell_metres: float, shift_start: datetime) -> str:
    """One driver in plain language. `values`: the cell's own recent counts (n_7 ... n_364,
    n_same_shift_364, days_since_last), its 3x3 block's (nbhd_n_...), all crime types' (all_n_...) and its
    environment columns; a value not given is left out of the sentence."""
    square = f"this {cell_metres:.0f} m square"
    around = f"{cell_metres * 1.5:.0f} m"
    window = re.fullmatch(r"n_(cell|nbhd|all_cell)_(\d+)d", feature)
    if window:
        part, days = window.groups()
        key = {"cell": f"n_{days}", "nbhd": f"nbhd_n_{days}", "all_cell": f"all_n_{days}"}[part]
        n = values.get(key)
        counted = n is not None and np.isfinite(n)
        if part == "all_cell":
            told = f"{int(round(n))} serious crime{'' if round(n) == 1 else 's'}" if counted else "serious crimes"
            told += " of every type"
        else:
            told = _count(n, crime_type) if counted else crime_words(crime_type, 2)
        where = f"within {around}" if part == "nbhd" else f"in {square}"
        return f"{told} {where} in the last {'year' if days == '364' else days + ' days'}"
    reported = re.fullmatch(r"n_(signal|calls|detections)_(cell|nbhd)_(\d+)d", feature)
    if reported:
        series, part, days = reported.groups()
        where = f"within {around}" if part == "nbhd" else f"in {square}"
        return f"{REPORTED[series]} {where} in the last {'year' if days == '364' else days + ' days'}"
    same = re.fullmatch(r"n_(cell|nbhd)_same_shift_(\d+)d", feature)
    if same:
        part, _ = same.groups()
        n = values.get("n_same_shift_364" if part == "cell" else "nbhd_n_same_shift_364")
        told = _count(n, crime_type) if n is not None and np.isfinite(n) else crime_words(crime_type, 2)
        where = f"within {around}" if part == "nbhd" else f"in {square}"
        return f"{told} {where} at this time of day over the past year"
    start = pd.Timestamp(shift_start)
    value = values.get(feature)
    known = value is not None and not (isinstance(value, float) and not np.isfinite(value))
    n = values.get("nbhd_n_28")
    near_28 = _count(n, crime_type) if n is not None and np.isfinite(n) else crime_words(crime_type, 2)
    texts = {
        "days_since_last": (f"the last {crime_words(crime_type, 1)} here {value:.0f} days ago" if known
                            else f"how recently a {crime_words(crime_type, 1)} happened here"),
        "shift_of_day": f"the time of day (shift starting {start:%H:%M})",
        "day_of_week": f"the day of the week ({WEEKDAYS[start.dayofweek]})",
        "month": f"the season ({MONTHS[start.month - 1]})",
        "is_holiday": "a public holiday",
        "events_that_day": "a scheduled event in the city that day",
        "precipitation": "yesterday's rain",
        "snowfall": "yesterday's snow",
        "temperature_max": "yesterday's temperature",
        "liquor_premises_in_cell": (f"{value:.0f} licensed bar(s) or restaurant(s) in {square}" if known
                                    else f"licensed bars or restaurants in {square}"),
        "liquor_premises_nearby": (f"{value:.0f} licensed bars or restaurants nearby" if known
                                   else "licensed bars or restaurants nearby"),
        "distance_to_liquor_m": (f"a bar or restaurant {value:.0f} m away" if known
                                 else "the nearest bar or restaurant"),
        "distance_to_venue_m": (f"a stadium or arena {value:.0f} m away" if known
                                else "the nearest stadium or arena"),
        # a baseline's only driver is its own score
        "prior_28d": f"{_count(values['n_28'], crime_type) if 'n_28' in values else crime_words(crime_type, 2)}"
                     f" in {square} in the last 28 days",
        "prior_364d": f"{_count(values['n_364'], crime_type) if 'n_364' in values else crime_words(crime_type, 2)}"
                      f" in {square} in the last year",
        "kernel_decay": f"{near_28} within {around} in the last 28 days, the most recent counting most",
        "prospective_hotspot": f"{near_28} within {around} in the last 28 days (repeats follow them)",
        "pooled_shrinkage": f"crime of every kind nearby in the last year, with {square}'s own history of it",
    }
    if feature in LAND_USE:
        share = f" ({value:.0%} of the square)" if known else ""
        return f"{LAND_USE[feature]} land use{share}"
    return texts.get(feature, feature.replace("_", " "))


def cell_values(cell_id: str, crime_type: str, own: dict, nbhd: dict, all_types: dict, environment: dict) -> dict:
    """The values `driver_text` reads for one cell and crime type (dicts keyed by (cell_id, crime_type);
    all_types by cell_id; each value a dict of counts)."""
    base = {f"n_{w}": 0.0 for w in WINDOWS} | {"n_same_shift_364": 0.0}
    key = (cell_id, crime_type)
    values = dict(environment)
    values.update(own.get(key, base))
    values.update({f"nbhd_{k}": v for k, v in nbhd.get(key, base).items()})
    values.update({f"all_{k}": v for k, v in all_types.get(cell_id, base).items()})
    return values


def explain_drivers(drivers: pd.DataFrame, counts: pd.DataFrame, cells: pd.DataFrame, shift_start: datetime,
                    cell_metres: float) -> pd.Series:
    """A sentence per row of `drivers` (cell_id, crime_type, feature): its value in words.

    `counts`: cell_id, crime_type, shift_start, incident_count of the year before the shift; `cells`:
    cell_id, cell_col, cell_row and any environment columns."""
    if drivers.empty:
        return pd.Series([], dtype=object, index=drivers.index)
    window = counts[pd.to_datetime(counts["shift_start"]) >= pd.Timestamp(shift_start) - timedelta(days=365)]
    recent = recent_counts(window, shift_start)
    counts_only = recent.drop(columns=["days_since_last"])
    own_frame = counts_only.set_index(["cell_id", "crime_type"])
    own = own_frame.to_dict("index")
    days = recent.set_index(["cell_id", "crime_type"])["days_since_last"].to_dict()
    nbhd = neighbourhood_counts(counts_only, cells).set_index(["cell_id", "crime_type"]).to_dict("index")
    all_types = own_frame.groupby(level="cell_id").sum().to_dict("index")
    env_columns = [c for c in cells.columns if c not in ("cell_id", "cell_col", "cell_row")]
    env = {cell: {k: v for k, v in row.items() if pd.notna(v)}
           for cell, row in cells.drop_duplicates("cell_id").set_index("cell_id")[env_columns].to_dict("index").items()}
    texts = []
    for cell_id, crime_type, feature in zip(drivers["cell_id"], drivers["crime_type"], drivers["feature"], strict=True):
        values = cell_values(cell_id, crime_type, own, nbhd, all_types, env.get(cell_id, {}))
        if (cell_id, crime_type) in days:
            values["days_since_last"] = float(days[(cell_id, crime_type)])
        texts.append(driver_text(feature, crime_type, values, cell_metres, shift_start))
    return pd.Series(texts, index=drivers.index, dtype=object)
