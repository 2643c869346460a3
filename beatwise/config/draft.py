"""`beatwise init`: profile an incident export (and boundary files) and draft a commented configuration.

Guesses, each said in a comment: the role of every column (by its name and its values), the timestamp's
layout (one column, or a date and an hour or time column), the CRS (the UTM zone of longitude/latitude),
the offence values with a suggested crime type each, the columns and offences the policy refuses. The
draft is meant to pass `beatwise config check` as written; the crime-type choices are the agency's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from beatwise import policy
from beatwise.ingest.formats import POLYGON_FORMATS, format_of
from beatwise.ingest.read import GEOMETRY, read_source

TIMESTAMP_FORMATS = ("ISO8601", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
                     "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M:%S")
DATE_FORMATS = ("ISO8601", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d")
# Column name patterns per canonical role, most specific first (matched on the lower-cased name).
NAME_PATTERNS = {
    "incident_id": r"^(id|incident_?(id|no|num(ber)?)|event_?(id|no)|report_?(id|no)|case_?(id|no|number)|uid)$",
    "longitude": r"(^|_)(lon|lng|long|longitude)(_|$)",
    "latitude": r"(^|_)(lat|latitude)(_|$)",
    "x": r"^(x|x_?coord(inate)?|easting|x coordinate|point_x)$",
    "y": r"^(y|y_?coord(inate)?|northing|y coordinate|point_y)$",
    "offence_code": r"(iucr|ucr_?code|nibrs|offen[cs]e_?code|crime_?code|^code$|ori_code)",
    "offence_group": r"(fbi|ucr|offen[cs]e_?group|crime_?group|class|category_code)",
    "offence_name": r"(primary|offen[cs]e|crime_?type|^type$|category|crime$|incident_?type|mci)",
    "offence_description": r"(descr|desc$|subtype|sub_?category)",
    "location_description": r"(location_?desc|premise|place_?type|location_?type|^location$|site)",
    "district": r"(district|division|precinct|^area$|borough|ward|command)",
    "beat": r"(beat|zone|patrol|sector|neighbou?rhood)",
    "block": r"(block|address|street|hundred)",
    "updated_at": r"(updated|modified|last_?change)",
    "date": r"(date|occ|when|time|reported|day)",
    "hour": r"(hour|hr$|_hr|heure|stunde)",
}
CRIME_KEYWORDS = {  # offence words -> the crime type a value suggests (first match wins, most severe first)
    "homicide": ("homicide", "murder", "manslaughter"),
    "robbery": ("robbery",),
    "aggravated_assault": ("aggravated assault", "aggravated battery", "assault with", "agg assault",
                           "aggravated", "bodily harm", "grievous", "wounding", "assault with a weapon"),
    "burglary": ("burglary", "break and enter", "breaking and entering", "break & enter", "b&e", "housebreaking"),
    "motor_vehicle_theft": ("motor vehicle theft", "vehicle theft", "auto theft", "theft of vehicle",
                            "car theft", "stolen vehicle", "theft of motor vehicle"),
    "theft": ("theft", "larceny", "shoplifting", "pickpocket"),
}
SEVERITY = {"homicide": 10, "aggravated_assault": 5, "robbery": 4, "burglary": 2, "motor_vehicle_theft": 2,
            "theft": 1}
TACTICS = {
    "homicide": ["community_contact", "foot_patrol", "park_and_walk"],
    "aggravated_assault": ["foot_patrol", "park_and_walk", "community_contact", "business_check"],
    "robbery": ["foot_patrol", "business_check", "park_and_walk", "transit_stop_presence"],
    "burglary": ["lighting_and_property_check", "community_contact", "slow_drive_through"],
    "motor_vehicle_theft": ["parking_lot_check", "slow_drive_through", "lighting_and_property_check"],
    "theft": ["business_check", "foot_patrol", "park_and_walk", "transit_stop_presence"],
}
PROFILE_ROWS = 200_000


@dataclass
class Profile:
    """What init learned of an incident export."""

    path: Path
    rows: int
    columns: list[str]
    roles: dict[str, object] = field(default_factory=dict)  # canonical -> source column or a rule (dict)
    notes: dict[str, str] = field(default_factory=dict)  # canonical -> why it was chosen
    timestamp_format: str | None = None
    crs: str | None = None
    crs_note: str = ""
    source_crs: str | None = None
    offences: pd.Series | None = None  # value -> count, of the chosen offence field
    offence_field: str | None = None
    forbidden: dict[str, str] = field(default_factory=dict)
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    unique_ids: bool = True
    ids: dict[str, set] = field(default_factory=dict)  # district / beat -> the ids the incidents carry


def _named(columns: list[str], role: str, taken: set[str]) -> list[str]:
    pattern = re.compile(NAME_PATTERNS[role])
    return [c for c in columns if c not in taken and pattern.search(c.strip().lower().replace(" ", "_")
                                                                    if role not in ("x", "y") else c.strip().lower())]


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _parse_share(values: pd.Series, fmt: str) -> float:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""].head(2000)
    if text.empty:
        return 0.0
    return float(pd.to_datetime(text, format=fmt, errors="coerce").notna().mean())


def _best_format(values: pd.Series, formats) -> tuple[str | None, float]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return "native", 1.0
    scored = [(fmt, _parse_share(values, fmt)) for fmt in formats]
    fmt, share = max(scored, key=lambda s: s[1])
    return (fmt, share) if share >= 0.95 else (None, share)


def _has_time(values: pd.Series, fmt: str) -> bool:
    parsed = values if fmt == "native" else pd.to_datetime(values.dropna().astype(str).str.strip().head(2000),
                                                           format=fmt, errors="coerce")
    parsed = pd.to_datetime(parsed).dropna()
    return bool(len(parsed)) and bool((parsed != parsed.dt.normalize()).mean() > 0.05)


def utm_zone(lon: float, lat: float) -> str:
    """The EPSG code of the WGS84 UTM zone holding a point (metres)."""
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def profile_incidents(path: Path, rows: int = PROFILE_ROWS) -> Profile:
    """Profile an incident export (any format beatwise reads): roles, timestamp, CRS, offence values."""
    fmt = format_of(path) or "csv"
    frame = read_source(path, fmt, "incidents", limit=rows)
    columns = [c for c in frame.columns if c != GEOMETRY]
    profile = Profile(path, len(frame), columns, forbidden=policy.forbidden_columns(columns))
    usable = [c for c in columns if c not in profile.forbidden]
    taken: set[str] = set()

    def take(role: str, column: str, note: str) -> None:
        profile.roles[role], profile.notes[role] = column, note
        taken.add(column)

    _timestamp_role(profile, frame, usable, take)
    _position_roles(profile, frame, usable, take)
    for role in ("incident_id", "offence_code", "offence_group", "offence_name", "offence_description",
                 "location_description", "district", "beat", "block", "updated_at"):
        for column in _named(usable, role, taken):
            values = frame[column]
            if role == "incident_id":
                unique = values.nunique() / max(values.notna().sum(), 1)
                if unique < 0.99:
                    continue
            if role == "updated_at" and _best_format(values, TIMESTAMP_FORMATS)[0] is None:
                continue
            if role in ("offence_name", "offence_description", "location_description") \
                    and _numeric(values).notna().mean() > 0.9:
                continue  # a number is not a name
            take(role, column, f"by its name; {values.nunique():,} distinct values")
            break
    if "incident_id" not in profile.roles:
        chosen = [c for c in (profile.roles.get(r) for r in (
            "occurred_at", "offence_code", "offence_name", "offence_description", "location_description",
            "longitude", "latitude", "x", "y", "block")) if isinstance(c, str)]
        rule = profile.roles.get("occurred_at")
        if isinstance(rule, dict):
            chosen = [rule["date"], rule.get("hour") or rule.get("time"), *chosen]
        profile.roles["incident_id"] = {"digest": [c for c in dict.fromkeys(chosen) if c]}
        profile.notes["incident_id"] = "no column is a unique id: an id digested from the columns that tell an incident"
    from beatwise.contracts import normalise_code

    for role in ("district", "beat"):
        if isinstance(profile.roles.get(role), str):
            profile.ids[role] = {normalise_code(v) for v in frame[profile.roles[role]].dropna().unique()}
    profile.offence_field = next((f for f in ("offence_name", "offence_group", "offence_code")
                                  if f in profile.roles), None)
    if profile.offence_field:
        values = frame[profile.roles[profile.offence_field]].dropna().astype(str).str.strip()
        profile.offences = values[values != ""].value_counts()
    return profile


def _timestamp_role(profile: Profile, frame: pd.DataFrame, columns: list[str], take) -> None:
    candidates = _named(columns, "date", set()) + [c for c in columns if c not in _named(columns, "date", set())]
    for column in candidates:
        fmt, _ = _best_format(frame[column], TIMESTAMP_FORMATS)
        if fmt and _has_time(frame[column], fmt):
            take("occurred_at", column, f"timestamps ({fmt})")
            profile.timestamp_format = None if fmt in ("ISO8601", "native") else fmt
            _span(profile, frame[column], fmt)
            return
    for column in candidates:
        fmt, _ = _best_format(frame[column], DATE_FORMATS)
        if not fmt:
            continue
        hour = next((h for h in _named(columns, "hour", {column}) if _numeric(frame[h]).between(0, 23).mean() > 0.95),
                    None)
        rule = {"date": column}
        if fmt not in ("ISO8601", "native"):
            rule["date_format"] = fmt
        if hour:
            rule["hour"] = hour
        profile.roles["occurred_at"] = rule
        profile.notes["occurred_at"] = f"a date column ({fmt})" + (f" and an hour column ({hour})" if hour else
                                                                   " without a time of day: every incident at midnight")
        _span(profile, frame[column], fmt)
        return


def _span(profile: Profile, values: pd.Series, fmt: str) -> None:
    parsed = values if fmt == "native" else pd.to_datetime(values.astype(str).str.strip(), format=fmt, errors="coerce")
    parsed = pd.to_datetime(parsed).dropna()
    if len(parsed):
        profile.first, profile.last = parsed.min(), parsed.max()


def _position_roles(profile: Profile, frame: pd.DataFrame, columns: list[str], take) -> None:
    lon = next((c for c in _named(columns, "longitude", set()) if _numeric(frame[c]).abs().le(180).mean() > 0.9), None)
    lat = next((c for c in _named(columns, "latitude", set()) if _numeric(frame[c]).abs().le(90).mean() > 0.9), None)
    if lon and lat:
        lons, lats = _numeric(frame[lon]), _numeric(frame[lat])
        ok = lons.notna() & lats.notna() & (lons != 0) & (lats != 0)
        take("longitude", lon, "degrees east")
        take("latitude", lat, "degrees north")
        profile.source_crs = "EPSG:4326"
        if ok.any():
            centre = (float(lons[ok].median()), float(lats[ok].median()))
            profile.crs = utm_zone(*centre)
            profile.crs_note = (f"the UTM zone of the incidents' median position ({centre[0]:.3f}, {centre[1]:.3f}), "
                                "in metres; a national or state grid of your own works as well")
        return
    x = next(iter(_named(columns, "x", set())), None)
    y = next(iter(_named(columns, "y", set())), None)
    if x and y:
        take("x", x, "projected x")
        take("y", y, "projected y")
        xs = _numeric(frame[x])
        profile.crs_note = (f"x runs {xs.min():,.0f}..{xs.max():,.0f}: projected coordinates whose CRS the export "
                            "does not say; EDIT crs to that CRS (the data portal's documentation names it)")


def _boundary_role(path: Path, given: str | None) -> str:
    if given:
        return given
    name = path.name.lower()
    for role, words in (("beats", ("beat",)), ("neighbourhoods", ("neighbo", "quartier", "barrio")),
                        ("jurisdiction", ("boundary", "city_limit", "jurisdiction", "outline"))):
        if any(w in name for w in words):
            return role
    return "districts"


def _boundary_feed(path: Path, role: str, data_root: Path, incident_ids: set[str] = frozenset()) -> list[str]:
    """The YAML lines of one boundary feed; its id column is the one whose values the incidents' own
    district (or beat) column shares most, else a unique column named for the role."""
    fmt = format_of(path)
    frame = read_source(path, fmt, role)
    columns = [c for c in frame.columns if c != GEOMETRY]
    key = {"districts": "district", "beats": "beat", "neighbourhoods": "neighbourhood", "jurisdiction": "name"}[role]
    pattern = re.compile({"districts": NAME_PATTERNS["district"], "beats": NAME_PATTERNS["beat"],
                          "neighbourhoods": r"(name|neighbou?rhood|nom|label)", "jurisdiction": r"name"}[role])
    unique = [c for c in columns if frame[c].nunique() == len(frame) and frame[c].notna().all()]
    named = [c for c in unique if pattern.search(c.lower())] or [c for c in unique if "name" in c.lower()] or unique
    from beatwise.contracts import normalise_code

    overlap = {c: len({normalise_code(v) for v in frame[c]} & incident_ids) for c in unique}
    if incident_ids and max(overlap.values(), default=0) > 0:
        named = sorted(unique, key=lambda c: -overlap[c])
    lines = [f"  {role}:", f"    files: [{_relative(path, data_root)}]"]
    if named:
        lines.append(f"    columns: {{{key}: {_yaml_text(named[0])}}}   # {len(frame)} polygons; "
                     f"other columns: {', '.join(c for c in columns if c != named[0]) or 'none'}")
    elif role != "jurisdiction":
        lines.append(f"    # EDIT: no column names each polygon uniquely; columns: {', '.join(columns)}")
    if role == "beats":
        district = next((c for c in columns if re.search(NAME_PATTERNS["district"], c.lower())), None)
        lines.append(f"    # the district each beat belongs to: {district or 'EDIT: no district column found'}")
        if named and district:
            lines[-2] = lines[-2].replace("}   #", f", district: {_yaml_text(district)}}}   #", 1)
    crs = frame.attrs.get("crs")
    if crs and crs not in ("OGC:CRS84", "EPSG:4326"):
        lines.append(f"    crs: {crs}        # as the file declares it")
    return lines


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()


def _yaml_text(text: str) -> str:
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ./-]*", text) and text == text.strip()
    return text if plain and text.lower() not in ("yes", "no", "true", "false", "null", "on", "off") else f'"{text}"'


def suggested_crime_type(value: str) -> str | None:
    words = f" {re.sub(r'[^a-z0-9&]+', ' ', value.lower())} "
    for crime_type, keys in CRIME_KEYWORDS.items():
        if any(f" {k} " in words for k in keys):
            return crime_type
    return None


def draft_config(profile: Profile, out: Path, boundaries: list[tuple[str | None, Path]] = (),
                 name: str | None = None, slug: str | None = None, timezone: str = "UTC",
                 country: str | None = None) -> str:
    """The commented YAML text of a draft configuration for `profile` (written beside `out`)."""
    data_root = profile.path.parent
    root_text = _relative(data_root, out.parent)
    slug = slug or re.sub(r"[^a-z0-9_]+", "_", profile.path.stem.split(".")[0].lower()).strip("_") or "agency"
    if not re.match(r"^[a-z]", slug):
        slug = f"agency_{slug}"
    metric = profile.crs is None or profile.crs.startswith("EPSG:32")
    lines = [
        f"# Drafted by `beatwise init` from {profile.path.name} ({profile.rows:,} rows profiled). Every guess says",
        "# why in a comment; lines marked EDIT need your choice. Then run `beatwise config check` on this file.",
        "agency:",
        f"  name: {_yaml_text(name or slug.replace('_', ' ').title() + ' Police')}",
        f"  slug: {slug}",
        f"  timezone: {timezone}          # "
        + ("local times are read in it" if timezone != "UTC" else "EDIT: the agency's IANA zone (local times)"),
        f"  country: {country or 'US'}              "
        + ("# holidays come from this country's calendar" if country else "# EDIT: the country whose holidays apply"),
        "",
        f"crs: {profile.crs or 'EPSG:3857'}    # " + (profile.crs_note or "EDIT: the projected CRS of x/y"),
        f"data_root: {root_text}",
        "",
        "grid:",
        f"  cell_size: {'150 m' if metric else '500 ftUS'}",
        "",
    ]
    if profile.first is not None:
        lines += [f"history_start: {profile.first.date()}   # the first and last incident profiled",
                  f"history_end: {profile.last.date()}", ""]
    lines += ["feeds:", "  incidents:", f"    files: [{_relative(profile.path, data_root)}]", "    columns:"]
    for role, source in profile.roles.items():
        note = profile.notes.get(role, "")
        value = source if isinstance(source, str) else "{" + ", ".join(
            f"{k}: {_yaml_text(v) if isinstance(v, str) else '[' + ', '.join(_yaml_text(c) for c in v) + ']'}"
            for k, v in source.items()) + "}"
        shown = _yaml_text(value) if isinstance(source, str) else value
        lines.append(f"      {role}: {shown}" + (f"   # {note}" if note else ""))
    missing = [r for r in ("occurred_at", "offence_name") if r not in profile.roles] + \
        ([] if any(r in profile.roles for r in ("x", "longitude")) else ["longitude/latitude or x/y"])
    for role in missing:
        lines.append(f"      # EDIT: no column looked like {role}; map it (columns: {', '.join(profile.columns)})")
    if profile.timestamp_format:
        lines.append(f'    timestamp_format: "{profile.timestamp_format}"')
    if profile.source_crs:
        lines.append(f"    crs: {profile.source_crs}      # longitude/latitude, projected to the crs above at ingest")
    if isinstance(profile.roles.get("incident_id"), dict):
        lines.append("    identical_rows: distinct   # EDIT: 'duplicates' if identical rows are copies of one record")
    if profile.forbidden:
        lines.append("    on_personal_data: drop     # refused by policy, never stored: "
                     + ", ".join(f"{c} ({r})" for c, r in profile.forbidden.items()))
    for role, path in boundaries:
        role = _boundary_role(path, role)
        lines += _boundary_feed(path, role, data_root, profile.ids.get({"beats": "beat"}.get(role, "district"), set()))
    if not boundaries:
        lines.append("  # No boundary file: the jurisdiction is derived from the incidents (a warning says so);")
        lines.append("  # add a jurisdiction or districts feed with the real polygons when you have them.")
    lines += ["", *_crime_type_lines(profile)]
    return "\n".join(lines) + "\n"


def _crime_type_lines(profile: Profile) -> list[str]:
    lines = ["# Crime types: every offence value of the export with the crime type its words suggest.",
             "# EDIT: choose the values of each type; those marked REFUSED are enforcement-driven and may",
             "# never feed a modelled type (policy.enforcement_driven_offence)."]
    field_name = profile.offence_field
    if field_name is None or profile.offences is None:
        return [*lines, "# EDIT: no offence column was found; map offence_name and list its values here.",
                "crime_types: {}"]
    chosen: dict[str, list[str]] = {}
    notes = []
    for value, count in profile.offences.items():
        refused = policy.enforcement_offence_in(str(value))
        suggestion = None if refused else suggested_crime_type(str(value))
        if suggestion:
            chosen.setdefault(suggestion, []).append(str(value))
        mark = f"REFUSED ({refused})" if refused else (f"-> {suggestion}" if suggestion else "not modelled")
        notes.append(f"#   {value!s:45.45} {count:>8,}  {mark}")
    lines += [f"# {field_name} values ({profile.roles[field_name]}), most frequent first:", *notes[:80]]
    if len(notes) > 80:
        lines.append(f"#   ... and {len(notes) - 80} more")
    lines.append("crime_types:")
    if not chosen:
        lines.append("  # EDIT: no value suggested a crime type; add at least one, e.g.")
        lines.append(f"  theft: {{offences: [{{field: {field_name}, values: [THEFT]}}], severity: 1}}")
    for crime_type in SEVERITY:
        if crime_type in chosen:
            values = ", ".join(_yaml_text(v) for v in chosen[crime_type])
            lines += [f"  {crime_type}:", f"    offences: [{{field: {field_name}, values: [{values}]}}]",
                      f"    severity: {SEVERITY[crime_type]}",
                      f"    tactics: [{', '.join(TACTICS[crime_type])}]"]
    return lines


def draft_from_files(incidents: Path, out: Path, boundaries: list[tuple[str | None, Path]] = (), **agency) -> str:
    """Profile `incidents` and return the draft's text (see draft_config)."""
    profile = profile_incidents(incidents)
    for _, path in boundaries:
        if format_of(path) not in POLYGON_FORMATS:
            raise ValueError(f"{path.name}: a boundary must be GeoJSON or GeoPackage")
    return draft_config(profile, out, list(boundaries), **agency)


__all__ = ["Profile", "draft_config", "draft_from_files", "profile_incidents", "suggested_crime_type", "utm_zone"]
