"""The agency configuration: one YAML file per agency, validated on load.

A new city is a new file, not new code: feeds name their files and map their columns onto beatwise's
canonical names; crime types name the source offences that feed them.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from beatwise.config.units import (
    distance_in_crs_units,
    distance_in_metres,
    projected_crs,
    speed_in_metres_per_second,
)

# The only crime types beatwise will model: serious, community-reported (Part 1) crime.
CrimeTypeName = Literal[
    "gunfire", "homicide", "aggravated_assault", "robbery", "burglary", "motor_vehicle_theft", "theft"
]

# Canonical feed names. Each has a pandera contract in beatwise.contracts. The polygon feeds are the roles
# a boundary layer can play: the jurisdiction's outline, the districts missions are planned in, beats,
# neighbourhoods (place names); any of them may be absent (see beatwise.geography.cells).
FeedName = Literal[
    "incidents",
    "offence_codes",
    "jurisdiction",
    "districts",
    "beats",
    "neighbourhoods",
    "liquor_premises",
    "land_use",
    "sports_events",
    "venues",
    "weather_daily",
    "calls_for_service",
    "gunfire_detections",
    "avl_pings",
    "patrol_activity",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _crs_of(info: ValidationInfo) -> str | None:
    return (info.context or {}).get("crs")


def _distance(value: object, info: ValidationInfo) -> object:
    """A declared distance ("500 ft", "150 m") in CRS units. A bare number is refused when loading a file
    (no unit is ever assumed); built in code, without a context, a number is taken as CRS units."""
    if isinstance(value, str):
        crs = _crs_of(info)
        if crs is None:  # no usable crs: that is reported on its own; check the syntax only
            return distance_in_metres(value)
        return distance_in_crs_units(value, crs)
    if info.context is not None and isinstance(value, int | float):
        raise ValueError(f"a distance needs its unit: write e.g. '{value:g} ft' or '{value:g} m'")
    return value


def _speed(value: object, info: ValidationInfo) -> object:
    """A declared speed ("100 mph", "160 km/h") in metres per second."""
    if isinstance(value, str):
        return speed_in_metres_per_second(value)
    if info.context is not None and isinstance(value, int | float):
        raise ValueError(f"a speed needs its unit: write e.g. '{value:g} mph' or '{value:g} km/h'")
    return value


# In CRS units once loaded (metres for UTM, US survey feet for Illinois East, ...).
Distance = Annotated[float, BeforeValidator(_distance)]
# In metres per second once loaded.
Speed = Annotated[float, BeforeValidator(_speed)]


class Agency(Strict):
    name: str
    slug: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    timezone: str = "America/Chicago"
    country: str = "US"
    subdivision: str | None = None


class Grid(Strict):
    cell_size: Distance = Field(
        "152.4 m", gt=0, validate_default=True,
        description="cell edge, e.g. '500 ftUS' or '150 m' (CRS units once loaded); cells align to multiples of it")


class Environment(Strict):
    liquor_radius: Distance = Field(
        "304.8 m", gt=0, validate_default=True,
        description="liquor-licensed premises within this distance of a cell's centre are 'nearby'")


class Dosage(Strict):
    """How vehicle locations become dose: the mission cell grown by `buffer`, gaps bridged, jumps flagged."""

    buffer: Distance = Field("15.24 m", ge=0, validate_default=True,
                             description="a ping this close outside a mission cell counts as inside")
    bridge_seconds: int = Field(120, ge=0, description="a gap between two pings inside still counts")
    max_speed: Speed = Field("100 mph", gt=0, validate_default=True,
                             description="a ping reached and left faster than this is impossible")


class Shift(Strict):
    name: str
    start: time


class Edition(Strict):
    """Which edition of a redrawn boundary layer one file holds, and when it was in force."""

    vintage: str
    valid_from: date | None = None
    valid_to: date | None = None


class Derived(Strict):
    """A canonical field built from several source columns or a rule, instead of one column.

    Exactly one kind:
    - `date` + `hour` (0-23) or `time` ("13:45", "1345", "13:45:00"): a timestamp; `date` alone: midnight;
    - `local_date`: a timestamp column whose local date is the value (a zone-less time is read as UTC,
      a plain date is taken as it is): exports that write local midnight in UTC;
    - `digest`: an id made from these columns, for exports without one (see Feed.identical_rows);
    - `value`: the same text for every row.
    """

    date: str | None = None
    hour: str | None = None
    time: str | None = None
    date_format: str | None = Field(None, description="strptime format of the date column (default ISO)")
    local_date: str | None = None
    digest: list[str] | None = Field(None, min_length=1)
    value: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Derived:
        kinds = [k for k in ("date", "local_date", "digest", "value") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of date (with hour or time), local_date, digest or value")
        if self.hour is not None and self.time is not None:
            raise ValueError("give hour or time, not both")
        if (self.hour or self.time) and not self.date:
            raise ValueError("hour and time need a date column")
        return self

    def source_columns(self) -> list[str]:
        return [c for c in (self.date, self.hour, self.time, self.local_date, *(self.digest or [])) if c]


class Feed(Strict):
    """One source of rows: its files (relative to data_root), their format and the column mapping.

    `files` may be empty for a feed delivered later into the landing folder (BEATWISE_HOME/landing/<feed>/).
    CSV may be plain, gzip (.csv.gz) or a zip holding one CSV; boundaries GeoJSON or GeoPackage.
    """

    files: list[str] = Field(default_factory=list)
    format: Literal["parquet", "csv", "geojson", "gpkg"] | None = None
    layer: str | None = Field(None, description="GeoPackage: the layer to read (default: its only one)")
    columns: dict[str, str | Derived] = Field(
        default_factory=dict, description="canonical name -> source column, or a field built from several")
    identical_rows: Literal["distinct", "duplicates"] | None = Field(
        None, description="with a digest id: are rows identical in every column separate incidents or copies")
    timestamp_format: str | None = Field(None, description="strptime format of text timestamps")
    encoding: str = "utf-8"
    crs: str | None = Field(None, description="CRS of the feed's geometry when it differs from the agency's")
    on_personal_data: Literal["refuse", "drop"] = "refuse"
    not_personal: dict[str, str] = Field(
        default_factory=dict, description="column -> why it is not personal data though its name looks so")
    vintage: str | None = Field(None, description="for boundaries: which edition the file is")
    valid_from: date | None = None
    valid_to: date | None = None
    editions: dict[str, Edition] = Field(
        default_factory=dict, description="file name -> the edition it holds")
    ignore_timezone: bool = Field(
        False, description="timestamps carry a zone suffix (e.g. 'Z') but are local times")

    @field_validator("files")
    @classmethod
    def _inside_data_root(cls, files: list[str]) -> list[str]:
        for name in files:
            parts = Path(name).parts
            if Path(name).is_absolute() or ".." in parts or name.startswith("~"):
                raise ValueError(
                    f"{name[:80]!r} is outside data_root: a feed file is a path inside data_root, "
                    "without '..' and not absolute")
        return files

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, crs: str | None) -> str | None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        if crs is not None:
            try:
                CRS.from_user_input(crs)
            except CRSError as exc:
                raise ValueError(f"unknown CRS {crs[:80]!r}; give an EPSG code such as EPSG:4326") from exc
        return crs

    @model_validator(mode="after")
    def _format_from_suffix(self) -> Feed:
        from beatwise.ingest.formats import format_of  # the one table of file suffixes

        if self.format is None and self.files:
            fmt = format_of(self.files[0])
            if fmt is None:
                raise ValueError(f"cannot tell the format of {self.files[0]!r}; set format")
            object.__setattr__(self, "format", fmt)
        digests = [c for c, d in self.columns.items() if isinstance(d, Derived) and d.digest]
        if digests and self.identical_rows is None:
            raise ValueError(
                f"{digests[0]} is a digest of columns: set identical_rows to 'distinct' (identical rows are "
                "separate incidents) or 'duplicates' (copies of one record, loaded once)")
        return self

    def source_column(self, canonical: str) -> str | None:
        """The one source column a canonical field is read from (None when absent or built by a rule)."""
        value = self.columns.get(canonical)
        return value if isinstance(value, str) else None


MatchField = Literal["offence_code", "offence_name", "offence_description", "offence_group",
                     "location_description"]


class OffenceMatch(Strict):
    """Incidents that map into a crime type: `field` is one of `values`, and every field of `where` is one of
    its values, and no field of `unless` is one of its values. Matching ignores case and outer spaces,
    identically in dbt and in Python (beatwise.policy.offence_rules is the one definition)."""

    field: MatchField
    values: list[str] = Field(min_length=1)
    where: dict[MatchField, list[str]] = Field(default_factory=dict, description="further fields that must match")
    unless: dict[MatchField, list[str]] = Field(
        default_factory=dict, description="fields whose values leave an incident out (e.g. a detention centre)")


class CrimeType(Strict):
    source: Literal["incidents", "gunfire_detections"] = "incidents"
    offences: list[OffenceMatch] = Field(default_factory=list)
    severity: float = Field(gt=0, description="harm weight")
    priority: float = Field(1.0, ge=0, description="agency-wide priority weight")
    tactics: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _incidents_need_offences(self) -> CrimeType:
        if self.source == "incidents" and not self.offences:
            raise ValueError("a crime type fed by incidents must list the offences that map into it")
        return self


class SignalOffence(Strict):
    """Community-reported offences that are not modelled but enter the features as counts (the same windows
    and neighbourhoods as a crime type's own), matched as crime types are. An incident a crime type claims
    is never signal too."""

    offences: list[OffenceMatch] = Field(min_length=1)


class Capacity(Strict):
    units_per_shift: int = Field(4, ge=0)
    missions_per_unit: int = Field(2, ge=0)
    dose_minutes: float = Field(15.0, gt=0)
    visits_per_mission: int = Field(1, ge=1)
    per_district: dict[str, int] = Field(default_factory=dict, description="district -> units per shift")
    per_shift: dict[str, int] = Field(default_factory=dict,
                                      description="shift name -> units per district (unless per_district)")
    planning_lead_minutes: int = Field(60, ge=0, description="plan each shift this long before it starts")

    @field_validator("per_district", mode="before")
    @classmethod
    def _district_ids(cls, per_district: object) -> object:
        """Keyed as ingest keys districts: '011' and '11' are one district."""
        from beatwise.contracts import normalise_district

        if isinstance(per_district, dict):
            return {normalise_district(k) or str(k): v for k, v in per_district.items()}
        return per_district


class Exposure(Strict):
    max_missions_per_cell: int = Field(3, ge=1, description="a cell may be chosen at most N times ...")
    window_shifts: int = Field(9, ge=1, description="... in the last M shifts")
    top_cells_share: float = Field(0.01, gt=0, le=1, description="the 'top' cells: this share by priority")
    top_cells_max_mission_share: float = Field(0.5, gt=0, le=1)
    low_risk_reserved_share: float = Field(0.2, ge=0, lt=1)
    candidate_pool_size: int = Field(60, ge=1, description="candidates per district and shift")


class Forecasting(Strict):
    windows_days: list[int] = Field(default_factory=lambda: [7, 28, 91, 364])
    negatives_per_crime_type: int = Field(200_000, gt=0, description="zero cell-shifts drawn evenly over cells")
    negatives_per_positive: int = Field(
        2, ge=0, description="... plus this many drawn in a cell per cell-shift with crime there"
    )
    train_start: date | None = None
    seed: int = 20161231
    backtest_days: int = Field(182, gt=0, description="the champion gate's backtest: the last N days of history")
    backtest_every_days: int = Field(7, ge=1, description="... scored on the shifts of every N-th day")
    refresh_lookback_days: int = Field(
        3, ge=1, description="a shift refresh recomputes the incident marts of this many days before the newest"
    )


class Overrides(Strict):
    approval_required: bool = Field(
        False, description="an analyst's override waits for a supervisor's approval before the planner applies it")


class Demo(Strict):
    """The demo's own world: simulated field operations and a clock of its own.

    Only a config with a `demo:` block ever writes simulated rows (AVL pings, activity logs, replayed
    plans); a real agency's config has none, and its `main` job runs on real feeds only.
    """

    as_of: date | None = Field(
        None, description="the demo's 'today' (default: the day after history_end), used for overrides")
    simulated_operations_days: int = Field(28, ge=0, description="replay the last N days with simulated patrols")
    seed: int = Field(1, description="the operations simulator's seed")
    car_speeds: tuple[Speed, Speed] = Field(
        ("18 mph", "30 mph"), validate_default=True, description="simulated cars drive between these speeds")


class Landmark(Strict):
    """A place the maps show for orientation (a police station, a hospital, a stadium), in WGS84."""

    name: str = Field(min_length=1)
    kind: str = Field("landmark", description="what it is, shown beside the name: station, hospital, ...")
    longitude: float = Field(ge=-180, le=180)
    latitude: float = Field(ge=-90, le=90)


class AgencyConfig(Strict):
    agency: Agency
    crs: str = Field(description="projected CRS of x/y, e.g. EPSG:3435 (US feet) or EPSG:32616 (UTM, metres)")
    data_root: str = Field(description="folder of the feed files, relative to this config file")
    grid: Grid = Field(default_factory=dict, validate_default=True)
    environment: Environment = Field(default_factory=dict, validate_default=True)
    dosage: Dosage = Field(default_factory=dict, validate_default=True)
    shifts: list[Shift] = Field(
        default_factory=lambda: [Shift(name="day", start=time(6)), Shift(name="evening", start=time(14)),
                                 Shift(name="night", start=time(22))],
        min_length=1,
    )
    districts: list[str] | None = Field(None, description="restrict the jurisdiction to these districts")
    history_start: date | None = None
    history_end: date | None = None
    records_start: date = Field(
        date(1990, 1, 1), description="events dated before this are implausible (a 1900-01-01 placeholder) "
        "and quarantined; events after the load time are quarantined as future")
    feeds: dict[FeedName, Feed]
    crime_types: dict[CrimeTypeName, CrimeType] = Field(min_length=1)
    signal_offences: dict[str, SignalOffence] = Field(
        default_factory=dict, description="name -> offences counted as features, never modelled")
    district_priorities: dict[str, dict[CrimeTypeName, float]] = Field(default_factory=dict)
    capacity: Capacity = Capacity()
    exposure: Exposure = Exposure()
    forecasting: Forecasting = Forecasting()
    overrides: Overrides = Overrides()
    demo: Demo | None = Field(None, description="present only in demo configs: simulated operations")
    landmarks: list[Landmark] = Field(default_factory=list, description="points the maps label")

    # Set by the loader: the folder the config file lives in, to resolve data_root against.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("crs")
    @classmethod
    def _crs_projected(cls, crs: str) -> str:
        projected_crs(crs)
        return crs

    @field_validator("shifts")
    @classmethod
    def _shifts_ordered(cls, shifts: list[Shift]) -> list[Shift]:
        starts = [s.start for s in shifts]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("shift starts must be distinct and in increasing order")
        if any(s.start.minute or s.start.second for s in shifts):
            raise ValueError("shifts must start on the hour")
        return shifts

    @model_validator(mode="after")
    def _incidents_feed_present(self) -> AgencyConfig:
        if "incidents" not in self.feeds:
            raise ValueError("feeds.incidents is required")
        return self

    @field_validator("feeds")
    @classmethod
    def _canonical_names(cls, feeds: dict[str, Feed]) -> dict[str, Feed]:
        """Columns map onto a feed's canonical fields only: anything else would be read and silently
        dropped, or be personal data under an innocent source name (a witness's name as 'notes')."""
        from beatwise.contracts import CONTRACTS
        from beatwise.policy import forbidden_columns

        for name, feed in feeds.items():
            known = [*CONTRACTS[name].columns, "longitude", "latitude"]
            for canonical in feed.columns:
                rule = forbidden_columns([canonical]).get(canonical)
                if rule and canonical not in known:
                    raise ValueError(
                        f"{name}.columns.{canonical}: a field named {canonical!r} is personal or protected "
                        f"data and may not be stored [{rule}]")
                if canonical not in known:
                    raise ValueError(
                        f"{name}.columns.{canonical}: {canonical!r} is not a field of {name} "
                        f"(its fields: {', '.join(known)})")
        return feeds

    @property
    def shift_start_hours(self) -> list[int]:
        return [s.start.hour for s in self.shifts]

    @property
    def shift_hours(self) -> list[int]:
        """Length of each shift in hours (the last wraps past midnight)."""
        starts = self.shift_start_hours
        return [((starts[(i + 1) % len(starts)] - h) % 24) or 24 for i, h in enumerate(starts)]

    @property
    def is_demo(self) -> bool:
        return self.demo is not None

    def demo_today(self) -> date | None:
        """The demo's clock (None outside the demo: real time applies)."""
        if self.demo is None:
            return None
        if self.demo.as_of:
            return self.demo.as_of
        return self.history_end + timedelta(days=1) if self.history_end else None

    def data_path(self) -> Path:
        return (self.base_dir / self.data_root).resolve()

    def feed_files(self, feed: str) -> list[Path]:
        return [self.data_path() / f for f in self.feeds[feed].files]  # type: ignore[index]

    def modelled_crime_types(self) -> list[str]:
        return list(self.crime_types)

    def harm_weights(self) -> dict[str, float]:
        return {name: ct.severity for name, ct in self.crime_types.items()}
