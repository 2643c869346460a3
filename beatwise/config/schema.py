"""The agency configuration: one YAML file per agency, validated on load.

A new city is a new file, not new code: feeds name their files and map their columns onto beatwise's
canonical names; crime types name the source offences that feed them.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The only crime types beatwise will model: serious, community-reported (Part 1) crime.
CrimeTypeName = Literal[
    "gunfire", "homicide", "aggravated_assault", "robbery", "burglary", "motor_vehicle_theft", "theft"
]

# Canonical feed names. Each has a pandera contract in beatwise.contracts.
FeedName = Literal[
    "incidents",
    "offence_codes",
    "beats",
    "districts",
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


class Agency(Strict):
    name: str
    slug: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    timezone: str = "America/Chicago"
    country: str = "US"
    subdivision: str | None = None


class Grid(Strict):
    cell_size: float = Field(500.0, gt=0, description="cell edge in CRS units; cells align to multiples of it")


class Shift(Strict):
    name: str
    start: time


class Edition(Strict):
    """Which edition of a redrawn boundary layer one file holds, and when it was in force."""

    vintage: str
    valid_from: date | None = None
    valid_to: date | None = None


class Feed(Strict):
    """One source of rows: its files (relative to data_root), their format and the column mapping.

    `files` may be empty for a feed delivered later into the landing folder (BEATWISE_HOME/landing/<feed>/).
    """

    files: list[str] = Field(default_factory=list)
    format: Literal["parquet", "csv", "geojson"] | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="canonical name -> source column")
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

    @model_validator(mode="after")
    def _format_from_suffix(self) -> Feed:
        if self.format is None and self.files:
            suffix = Path(self.files[0]).suffix.lower().lstrip(".")
            fmt = {"parquet": "parquet", "csv": "csv", "geojson": "geojson", "json": "geojson"}.get(suffix)
            if fmt is None:
                raise ValueError(f"cannot tell the format of {self.files[0]!r}; set format")
            object.__setattr__(self, "format", fmt)
        return self


class OffenceMatch(Strict):
    """Source offences that map into a crime type, matched on one canonical incident field."""

    field: Literal["offence_code", "offence_name", "offence_group"]
    values: list[str] = Field(min_length=1)


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


class Capacity(Strict):
    units_per_shift: int = Field(4, ge=0)
    missions_per_unit: int = Field(2, ge=0)
    dose_minutes: float = Field(15.0, gt=0)
    visits_per_mission: int = Field(1, ge=1)
    per_district: dict[str, int] = Field(default_factory=dict, description="district -> units per shift")
    per_shift: dict[str, int] = Field(default_factory=dict,
                                      description="shift name -> units per district (unless per_district)")
    planning_lead_minutes: int = Field(60, ge=0, description="plan each shift this long before it starts")


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


class Demo(Strict):
    """The demo's own world: simulated field operations and a clock of its own.

    Only a config with a `demo:` block ever writes simulated rows (AVL pings, activity logs, replayed
    plans); a real agency's config has none, and its `main` job runs on real feeds only.
    """

    as_of: date | None = Field(
        None, description="the demo's 'today' (default: the day after history_end), used for overrides")
    simulated_operations_days: int = Field(28, ge=0, description="replay the last N days with simulated patrols")
    seed: int = Field(1, description="the operations simulator's seed")


class AgencyConfig(Strict):
    agency: Agency
    crs: str = Field(description="projected CRS of x/y, e.g. EPSG:3435 (feet)")
    data_root: str = Field(description="folder of the feed files, relative to this config file")
    grid: Grid = Grid()
    shifts: list[Shift] = Field(
        default_factory=lambda: [Shift(name="day", start=time(6)), Shift(name="evening", start=time(14)),
                                 Shift(name="night", start=time(22))],
        min_length=1,
    )
    districts: list[str] | None = Field(None, description="restrict the jurisdiction to these districts")
    history_start: date | None = None
    history_end: date | None = None
    feeds: dict[FeedName, Feed]
    crime_types: dict[CrimeTypeName, CrimeType] = Field(min_length=1)
    district_priorities: dict[str, dict[CrimeTypeName, float]] = Field(default_factory=dict)
    capacity: Capacity = Capacity()
    exposure: Exposure = Exposure()
    forecasting: Forecasting = Forecasting()
    demo: Demo | None = Field(None, description="present only in demo configs: simulated operations")

    # Set by the loader: the folder the config file lives in, to resolve data_root against.
    base_dir: Path = Field(default=Path("."), exclude=True)

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
