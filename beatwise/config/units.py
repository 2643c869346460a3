"""Distances and speeds as the config declares them ("500 ft", "150 m", "100 mph"), in the CRS's own unit.

No unit is assumed: a distance in a YAML config must say its unit, and it is converted once, on load,
into units of the agency's projected CRS (pyproj knows the unit of every CRS: metres for UTM, the US
survey foot for most US state planes). Everything downstream works in CRS units.
"""

from __future__ import annotations

import re
from functools import cache

from pyproj import CRS
from pyproj.exceptions import CRSError

# Metres in one unit. `ft` is the international foot; `ftUS` the US survey foot of most US state planes
# (they differ by 2 ppm: 500 ft is 499.999 ftUS, which would shift a grid aligned to 500 ftUS).
DISTANCE_UNITS = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "ftUS": 1200 / 3937, "mi": 1609.344}
SPEED_UNITS = {"m/s": 1.0, "km/h": 1000 / 3600, "mph": 1609.344 / 3600}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z/]+)\s*$")


@cache
def projected_crs(crs: str) -> CRS:
    """The CRS, or ValueError when it is unknown or not projected (x/y must be lengths, not degrees)."""
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ValueError(f"unknown CRS {crs!r} ({exc})") from exc
    if not parsed.is_projected:
        raise ValueError(
            f"{crs!r} is not a projected CRS (its unit is {parsed.axis_info[0].unit_name}); choose one in "
            "metres or feet, e.g. the local UTM zone: feeds given as longitude/latitude are projected at ingest"
        )
    return parsed


def metres_per_unit(crs: str) -> float:
    """Metres in one unit of the CRS's first axis (0.3048006 for US survey feet, 1 for UTM)."""
    return projected_crs(crs).axis_info[0].unit_conversion_factor


def crs_unit_name(crs: str) -> str:
    return projected_crs(crs).axis_info[0].unit_name


def _parse(text: str, units: dict[str, float], kind: str) -> tuple[float, str]:
    match = _QUANTITY.match(str(text))
    if not match or match.group(2) not in units:
        raise ValueError(
            f"{text!r} is not a {kind}: write a number and one of {', '.join(units)} (e.g. "
            f"{'500 ft or 150 m' if kind == 'distance' else '100 mph or 160 km/h'})"
        )
    return float(match.group(1)), match.group(2)


def distance_in_metres(text: str) -> float:
    value, unit = _parse(text, DISTANCE_UNITS, "distance")
    return value * DISTANCE_UNITS[unit]


def distance_in_crs_units(text: str, crs: str) -> float:
    """A declared distance ("500 ftUS") in units of `crs`; exact when the unit is the CRS's own."""
    value, unit = _parse(text, DISTANCE_UNITS, "distance")
    factor, own = DISTANCE_UNITS[unit], metres_per_unit(crs)
    if abs(factor - own) <= 1e-12 * own:
        return value
    return round(value * factor / own, 6)


def speed_in_metres_per_second(text: str) -> float:
    value, unit = _parse(text, SPEED_UNITS, "speed")
    return value * SPEED_UNITS[unit]


def describe_distance(crs_units: float, crs: str) -> str:
    """'152.4 m (500 US survey foot)': what a distance in CRS units is, for messages."""
    metres = crs_units * metres_per_unit(crs)
    own = "" if crs_unit_name(crs) == "metre" else f" ({crs_units:g} {crs_unit_name(crs)})"
    return f"{metres:,.1f} m{own}"
