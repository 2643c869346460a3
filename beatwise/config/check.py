"""`beatwise config check`: prove a configuration runs, before anything is loaded.

Beyond the schema and the policy (beatwise.config.load), it reads the first rows of every feed file
through ingest's real reader and mapping (`beatwise.ingest.read_mapped`) and reports, each with the line
of the config it concerns: unreadable files, missing columns, values the mapping cannot read (timestamps,
numbers, hours), coordinates outside the CRS's area of use or the jurisdiction, ids that collide, offence
values that map nowhere, offence codes whose incidents are enforcement-driven, and distances that look
wrong. Errors are what would make `beatwise run` fail or load nothing useful; warnings are worth reading.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from beatwise import policy
from beatwise.config.load import config_line
from beatwise.config.schema import AgencyConfig, Derived
from beatwise.config.units import describe_distance, metres_per_unit, projected_crs
from beatwise.contracts import CONTRACTS

SAMPLE_ROWS = 2000
# Plausible sizes in metres: a grid cell is a block or a few, a radius a walk.
CELL_METRES = (25.0, 1000.0)
RADIUS_METRES = (20.0, 5000.0)
SPEED_METRES_PER_SECOND = (5.0, 120.0)  # 18 km/h .. 430 km/h
# Share of located sample rows outside the jurisdiction above which the mapping is suspect / broken.
OUTSIDE_WARNING, OUTSIDE_ERROR = 0.05, 0.5
# Share of a file's sample rows a mapping rejects above which it is wrong, not the data.
REJECTED_ERROR = 0.5


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    key: str  # the config key it concerns (dotted)
    message: str
    place: str = ""  # "file:line" of that key

    def __str__(self) -> str:
        where = f"{self.place}: " if self.place else ""
        return f"{self.severity}: {where}{self.key}: {self.message}"


class Checker:
    """Collects findings with the config line of their key."""

    def __init__(self, config: AgencyConfig, config_file: Path):
        self.config, self.file, self.findings = config, Path(config_file), []

    def add(self, severity: str, key: str, message: str) -> None:
        self.findings.append(Finding(severity, key, message, config_line(self.file, key)))

    def error(self, key: str, message: str) -> None:
        self.add("error", key, message)

    def warn(self, key: str, message: str) -> None:
        self.add("warning", key, message)


def check_config(config: AgencyConfig, config_file: Path, sample_rows: int = SAMPLE_ROWS) -> list[Finding]:
    """Every finding about `config` (loaded from `config_file`) against the first rows of its feeds."""
    checker = Checker(config, config_file)
    _check_units(checker)
    _check_calendar(checker)
    samples = {feed: _sample(checker, feed, sample_rows) for feed in config.feeds}
    incidents = samples.get("incidents")
    if incidents is None or (not config.feeds["incidents"].files and incidents.empty):
        if not config.feeds["incidents"].files:
            checker.error("feeds.incidents.files", "lists no incident file: nothing would be modelled")
    outline = _jurisdiction(checker, samples)
    for feed, frame in samples.items():
        if frame is not None and not frame.empty and "x" in frame and CONTRACTS[feed].located:
            _check_positions(checker, feed, frame, outline)
    if incidents is not None and not incidents.empty:
        _check_ids(checker, incidents)
        _check_offences(checker, incidents)
    return checker.findings


def _sample(checker: Checker, feed: str, rows: int) -> pd.DataFrame | None:
    """The canonical rows of the first `rows` rows of each of the feed's files (None: nothing readable)."""
    from beatwise.ingest import FeedError, read_mapped
    from beatwise.ingest.validate import Rejections, check_contract

    config = checker.config
    frames, spec = [], config.feeds[feed]  # type: ignore[index]
    for i, path in enumerate(config.feed_files(feed)):
        key = f"feeds.{feed}.files[{i}]"
        try:
            mapped = read_mapped(config, feed, path, limit=rows)
        except FeedError as exc:
            suffix = f" [{exc.rule}]" if exc.rule else ""
            where = _column_key(feed, exc.message) or (f"feeds.{feed}.layer" if "layer" in exc.message else key)
            checker.error(where, f"{path.name}: {exc.message}{suffix}")
            continue
        except ValueError as exc:  # an unknown CRS of the feed, a transform pyproj refuses
            checker.error(f"feeds.{feed}.crs", f"{path.name}: {exc}")
            continue
        frame, rejections = mapped.frame, mapped.rejections
        contract_rejections = Rejections()
        try:
            check_contract(frame.drop(index=rejections.rows), CONTRACTS[feed], contract_rejections)
        except ValueError as exc:
            checker.error(f"feeds.{feed}.columns", f"{path.name}: {exc}")
        _report_rejections(checker, feed, path, len(frame), rejections, contract_rejections)
        frame.attrs["file"] = path.name
        frames.append(frame.drop(index=[*rejections.rows, *contract_rejections.rows]))
    if spec.files and not frames:
        return None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CONTRACTS[feed].columns)


_REASON_COLUMN = re.compile(r"^(?:unparseable (?:timestamp|date) in |missing |hour in |time in )?(\w+)")


def _column_key(feed: str, message: str) -> str | None:
    match = re.search(r"\(for (\w+)\)|required column '(\w+)'", message)
    if not match:
        return None
    return f"feeds.{feed}.columns.{match.group(1) or match.group(2)}"


def _report_rejections(checker: Checker, feed: str, path: Path, rows: int, *rejections) -> None:
    """One finding per kind of rejected value, with how many sample rows and an example."""
    kinds: Counter = Counter()
    example: dict[str, str] = {}
    for rejected in rejections:
        for row in rejected.rows:
            for reason in rejected.reason(row).split("; "):
                kind = reason.split(":")[0]
                kinds[kind] += 1
                example.setdefault(kind, reason)
    bad_rows = len(set().union(*(set(r.rows) for r in rejections)))
    for kind, count in kinds.most_common():
        match = _REASON_COLUMN.match(kind)
        column = match.group(1) if match else ""
        key = f"feeds.{feed}.columns.{column}" if column in CONTRACTS[feed].columns else f"feeds.{feed}"
        hint = ""
        if "unparseable date in" in kind:
            hint = "; check the field's date_format (strptime, e.g. '%d/%m/%Y')"
        elif "timestamp" in kind:
            hint = "; set the feed's timestamp_format (strptime) or build the field from date and hour"
        severity = "error" if bad_rows > REJECTED_ERROR * rows else "warning"
        checker.add(severity, key, f"{path.name}: {count} of the first {rows} rows: {example[kind]}{hint}"
                    + (" (most rows would be quarantined)" if severity == "error" else ""))


def _check_units(checker: Checker) -> None:
    config = checker.config
    per_unit = metres_per_unit(config.crs)
    size_m = config.grid.cell_size * per_unit
    if not CELL_METRES[0] <= size_m <= CELL_METRES[1]:
        checker.warn("grid.cell_size", f"{describe_distance(config.grid.cell_size, config.crs)} is an unusual "
                     f"cell size (expected {CELL_METRES[0]:g}-{CELL_METRES[1]:g} m): is the unit right?")
    radius_m = config.environment.liquor_radius * per_unit
    if not RADIUS_METRES[0] <= radius_m <= RADIUS_METRES[1]:
        checker.warn("environment.liquor_radius", f"{radius_m:,.1f} m is an unusual radius: is the unit right?")
    if config.dosage.buffer >= config.grid.cell_size:
        checker.error("dosage.buffer", f"{describe_distance(config.dosage.buffer, config.crs)} must be smaller "
                      f"than the cell size ({describe_distance(config.grid.cell_size, config.crs)})")
    speeds = [("dosage.max_speed", config.dosage.max_speed)]
    if config.demo:
        speeds += [(f"demo.car_speeds[{i}]", s) for i, s in enumerate(config.demo.car_speeds)]
    for key, speed in speeds:
        if not SPEED_METRES_PER_SECOND[0] <= speed <= SPEED_METRES_PER_SECOND[1]:
            checker.warn(key, f"{speed * 3.6:,.1f} km/h is an unusual speed: is the unit right?")


def _check_calendar(checker: Checker) -> None:
    from beatwise.geography.calendar import holiday_calendar

    try:
        holiday_calendar(checker.config)
    except ValueError as exc:
        checker.error("agency.country", str(exc))


def _jurisdiction(checker: Checker, samples: dict[str, pd.DataFrame | None]):
    """The jurisdiction's outline from the polygon layers (whole: they are small), or None."""
    from beatwise.geography.cells import jurisdiction_districts
    from beatwise.geography.layers import POLYGON_ROLES, polygons

    config = checker.config
    layers = {r: samples.get(r) for r in POLYGON_ROLES if samples.get(r) is not None and len(samples[r])}
    if not layers:
        if samples.get("incidents") is not None:
            from beatwise.geography.cells import derived_jurisdiction_warning

            checker.warn("feeds", derived_jurisdiction_warning(config))
        return None
    if "districts" in layers:
        from beatwise.contracts import normalise_district

        known = set(layers["districts"]["district"])
        for key, ids in (("capacity.per_district", config.capacity.per_district),
                         ("district_priorities", config.district_priorities)):
            unknown = sorted(d for d in ids if normalise_district(d) not in known)
            if unknown:
                checker.warn(key, f"{', '.join(unknown)} is no district of the districts layer "
                             f"({', '.join(sorted(known))}): the setting applies nowhere")
    if config.districts is not None:
        if "districts" not in layers:
            checker.error("districts", "lists districts but the config has no districts feed")
            return None
        try:
            layers["districts"] = jurisdiction_districts(layers["districts"], config.districts)
        except ValueError as exc:
            checker.error("districts", f"{exc} (it has: {', '.join(sorted(layers['districts']['district']))})")
            return None
        layers.pop("jurisdiction", None)
    role = next(r for r in POLYGON_ROLES if r in layers)
    try:
        return shapely.union_all(polygons(layers[role], f"feeds.{role}"))
    except ValueError as exc:
        checker.error(f"feeds.{role}", str(exc))
        return None


def _check_positions(checker: Checker, feed: str, frame: pd.DataFrame, outline) -> None:
    """Coordinates inside the CRS's area of use, and mostly inside the jurisdiction."""
    config = checker.config
    spec = config.feeds[feed]  # type: ignore[index]
    key = f"feeds.{feed}.columns.{'longitude' if 'longitude' in spec.columns else 'x'}"
    x, y = frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    known = np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
    if not known.any():
        return
    x, y = x[known], y[known]
    if "longitude" not in spec.columns and np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
        checker.error(key, f"x/y look like longitude/latitude (x {x.min():.4f}..{x.max():.4f}): map them as "
                      f"longitude and latitude (with the feed's crs) so that they are projected to {config.crs}")
        return
    area = projected_crs(config.crs).area_of_use
    if area is not None:
        lon, lat = Transformer.from_crs(config.crs, "EPSG:4326", always_xy=True).transform(x, y)
        margin = 1.0  # degrees: a city at the edge of its CRS's area is still fine
        off = ~((lon >= area.west - margin) & (lon <= area.east + margin)
                & (lat >= area.south - margin) & (lat <= area.north + margin))
        if off.mean() > OUTSIDE_WARNING:
            checker.add("error" if off.mean() > OUTSIDE_ERROR else "warning", key,
                        f"{off.sum()} of {len(x)} sampled positions lie outside the area of use of {config.crs} "
                        f"(longitude {area.west:g}..{area.east:g}, latitude {area.south:g}..{area.north:g}), e.g. "
                        f"longitude {lon[off][0]:.4f}, latitude {lat[off][0]:.4f}: is the feed's crs right, or are "
                        "longitude and latitude swapped?")
            return
    if outline is not None:
        outside = ~shapely.contains_xy(outline.buffer(config.grid.cell_size), x, y)
        share = outside.mean()
        if share > OUTSIDE_WARNING:
            checker.add(
                "error" if share > OUTSIDE_ERROR else "warning", key,
                f"{outside.sum()} of {len(x)} sampled rows lie outside the jurisdiction and would be "
                "quarantined" + (": check the feed's crs and the coordinate columns" if share > OUTSIDE_ERROR else ""))


def _check_ids(checker: Checker, incidents: pd.DataFrame) -> None:
    spec = checker.config.feeds["incidents"]
    rule = spec.columns.get("incident_id")
    key = "feeds.incidents.columns.incident_id"
    shared = incidents[incidents.duplicated("incident_id", keep=False)]
    if shared.empty:
        return
    content = shared.drop(columns=["updated_at"], errors="ignore")
    differing = content.groupby("incident_id", dropna=False).nunique(dropna=False).gt(1).any(axis=1)
    colliding = int(differing.sum())
    if isinstance(rule, Derived) and rule.digest:
        alike = len(shared) - shared["incident_id"].nunique()
        checker.warn("feeds.incidents.identical_rows",
                     f"{alike} of the first {len(incidents)} rows are alike in {', '.join(rule.digest)}: "
                     + ("loaded as separate incidents" if spec.identical_rows == "distinct"
                        else "loaded once each (duplicates)")
                     + (f"; {colliding} ids cover rows that differ elsewhere: add columns to the digest"
                        if colliding else ""))
    elif colliding:
        example = differing[differing].index[0]
        severity = "error" if colliding * 2 > incidents["incident_id"].nunique() else "warning"
        checker.add(severity, key, f"{colliding} ids are shared by rows with different content in the first "
                    f"{len(incidents)} rows (e.g. {example!r}): they would be quarantined as conflicting "
                    "duplicates unless updated_at orders them; is this column the incident's id?")


def _check_offences(checker: Checker, incidents: pd.DataFrame) -> None:
    """Offence values that map nowhere, crime types that match nothing, and codes whose incidents are
    enforcement-driven by their names."""
    config = checker.config
    rules = policy.offence_rules(config.crime_types)
    severity = {name: ct.severity for name, ct in config.crime_types.items()}
    matched = policy.match_crime_types(incidents, rules, severity)
    for name, crime_type in config.crime_types.items():
        if crime_type.source != "incidents":
            continue
        for i, match in enumerate(crime_type.offences):
            field_values = policy.match_key(match.field, incidents[match.field]) if match.field in incidents \
                else pd.Series(dtype="string")
            present = set(field_values.dropna())
            for j, value in enumerate(match.values):
                wanted = policy.match_key(match.field, pd.Series([value], dtype="string")).iloc[0]
                if wanted not in present:
                    checker.warn(f"crime_types.{name}.offences[{i}].values[{j}]",
                                 f"{value!r} matches no {match.field} of the first {len(incidents)} incidents")
                elif match.field == "offence_code" and "offence_name" in incidents:
                    names = incidents.loc[field_values == wanted, "offence_name"].dropna().astype(str)
                    offence = next((o for o in map(policy.enforcement_offence_in, names.unique()) if o), None)
                    if offence:
                        checker.error(f"crime_types.{name}.offences[{i}].values[{j}]",
                                      f"offence code {value!r} is recorded as {names.iloc[0]!r}: enforcement-driven "
                                      f"({offence}) and may not feed {name!r} [{policy.RULE_ENFORCEMENT}]")
        if not (matched == name).any():
            checker.warn(f"crime_types.{name}", f"matches none of the first {len(incidents)} incidents")
    unmatched = incidents.loc[matched.isna(), "offence_name"].dropna().astype(str).str.strip().str.upper()
    if len(unmatched):
        top = ", ".join(f"{v} ({n})" for v, n in unmatched.value_counts().head(5).items())
        share = len(unmatched) / len(incidents)
        checker.add("error" if share == 1 else "warning", "crime_types",
                    f"{share:.0%} of the first {len(incidents)} incidents map to no crime type (most frequent: "
                    f"{top})" + ("; nothing would be modelled" if share == 1
                                 else "; fine for offences beatwise does not model"))
