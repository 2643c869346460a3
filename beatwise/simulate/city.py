"""The geometry and environment of a synthetic city: districts, beats, land use, bars, venues, climate.

The city is a rectangle of square districts on the agency grid, in EPSG:3435 (Illinois East, US feet),
placed in open country south of Chicago so it can never be mistaken for real places. Everything is
aligned to the 500 ft grid, so every cell lies in exactly one district and one beat.

The environment is drawn once from the city's seed and is *known*: the crime process (crime.py) turns it
into each cell's background intensity with stated coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from beatwise.geography.grid import cell_ids

CRS = "EPSG:3435"
LAND_USES = ("residential", "commercial", "recreational")
BAR_RADIUS = 1000.0  # feet (the city is in EPSG:3435): bars this close to a cell centre raise its risk


@dataclass(frozen=True)
class CityPlan:
    """The shape of a synthetic city. Default: 6 districts of 20 x 20 cells (10,000 ft), 4 beats each."""

    districts_x: int = 3
    districts_y: int = 2
    district_cells: int = 20
    beats_per_side: int = 2
    cell_size: float = 500.0
    origin_x: float = 1_000_000.0  # feet, EPSG:3435; a multiple of the cell size
    origin_y: float = 1_500_000.0
    corridor_every: int = 8  # every Nth row and column of cells is a commercial corridor
    park_share: float = 0.06
    hotspots: int = 8  # Gaussian bumps of extra risk
    hotspot_sigma: float = 1_500.0  # feet
    bars_per_commercial_cell: float = 1.0
    bars_per_residential_cell: float = 0.08
    venues: int = 2

    @property
    def cols(self) -> int:
        return self.districts_x * self.district_cells

    @property
    def rows(self) -> int:
        return self.districts_y * self.district_cells


@dataclass
class SyntheticCity:
    """A built city: per-cell environment, points of interest and boundaries, all in feet (EPSG:3435)."""

    plan: CityPlan
    seed: int
    cells: pd.DataFrame  # cell_id, cell_col, cell_row, x_min.., x_center, y_center, district, beat,
    #                                land_use, bars_nearby, venue_distance, hotspot
    premises: pd.DataFrame  # premise_id, address, x, y
    venues: pd.DataFrame  # venue_id, venue, x, y
    land_use: pd.DataFrame  # polygon_id, category, x_min, y_min, x_max, y_max
    climate: dict = field(default_factory=lambda: {"mean_tmax_f": 60.0, "amplitude_f": 24.0, "noise_f": 7.0})

    @property
    def crs(self) -> str:
        return CRS

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        p = self.plan
        return (p.origin_x, p.origin_y, p.origin_x + p.cols * p.cell_size, p.origin_y + p.rows * p.cell_size)

    @cached_property
    def district_boxes(self) -> pd.DataFrame:
        """district, district_label, x_min, y_min, x_max, y_max."""
        p, rows = self.plan, []
        side = p.district_cells * p.cell_size
        for dy in range(p.districts_y):
            for dx in range(p.districts_x):
                number = dy * p.districts_x + dx + 1
                x0, y0 = p.origin_x + dx * side, p.origin_y + dy * side
                rows.append(
                    {
                        "district": str(number),
                        "district_label": _ordinal(number),
                        "x_min": x0,
                        "y_min": y0,
                        "x_max": x0 + side,
                        "y_max": y0 + side,
                    }
                )
        return pd.DataFrame(rows)

    @cached_property
    def beat_boxes(self) -> pd.DataFrame:
        """beat (four digits: district, sector, beat), district, x_min, y_min, x_max, y_max."""
        p, rows = self.plan, []
        side = p.district_cells * p.cell_size / p.beats_per_side
        for d in self.district_boxes.itertuples():
            for by in range(p.beats_per_side):
                for bx in range(p.beats_per_side):
                    x0, y0 = d.x_min + bx * side, d.y_min + by * side
                    rows.append(
                        {
                            "beat": f"{int(d.district):02d}{by + 1}{bx + 1}",
                            "district": d.district,
                            "x_min": x0,
                            "y_min": y0,
                            "x_max": x0 + side,
                            "y_max": y0 + side,
                        }
                    )
        return pd.DataFrame(rows)

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row of `cells` holding each point; -1 outside the city."""
        p = self.plan
        col = np.floor((np.asarray(x) - p.origin_x) / p.cell_size).astype(np.int64)
        row = np.floor((np.asarray(y) - p.origin_y) / p.cell_size).astype(np.int64)
        inside = (col >= 0) & (col < p.cols) & (row >= 0) & (row < p.rows)
        return np.where(inside, row * p.cols + col, -1)

    def daily_tmax(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Daily maximum temperature (F) of the city's climate; each day's noise depends only on its date."""
        c = self.climate
        doy = days.dayofyear.to_numpy()
        seasonal = c["mean_tmax_f"] + c["amplitude_f"] * np.cos(2 * np.pi * (doy - 200) / 365.25)
        noise = np.array([np.random.default_rng([self.seed, 7, d.toordinal()]).normal() for d in days.date])
        return np.round(seasonal + c["noise_f"] * noise, 0)

    def weather(self, start: date, end: date) -> pd.DataFrame:
        """Daily weather, `start` to `end` inclusive: date, tmax, tmin, prcp (in), snow (in), awnd (mph)."""
        days = pd.date_range(start, end, freq="D")
        tmax = self.daily_tmax(days)
        rng = [np.random.default_rng([self.seed, 8, d.toordinal()]) for d in days.date]
        wet = np.array([r.random() < 0.3 for r in rng])
        amount = np.array([r.exponential(0.3) for r in rng])
        prcp = np.where(wet, np.round(amount, 2), 0.0)
        return pd.DataFrame(
            {
                "date": days,
                "tmax": tmax,
                "tmin": tmax - 15,
                "prcp": prcp,
                "snow": np.where(tmax < 34, np.round(prcp * 10, 1), 0.0),
                "awnd": np.round(np.array([8 + 3 * r.random() for r in rng]), 2),
            }
        )


def build_city(plan: CityPlan | None = None, seed: int = 1) -> SyntheticCity:
    """Draw a synthetic city's land use, bars, venues and risk hotspots from `seed`."""
    plan = plan or CityPlan()
    if plan.origin_x % plan.cell_size or plan.origin_y % plan.cell_size:
        raise ValueError(f"the city's origin must lie on the {plan.cell_size:g} ft grid")
    rng = np.random.default_rng([seed, 1])
    size = plan.cell_size
    row, col = np.divmod(np.arange(plan.rows * plan.cols), plan.cols)
    gcol = col + int(plan.origin_x // size)
    grow = row + int(plan.origin_y // size)
    x_min, y_min = gcol * size, grow * size
    cells = pd.DataFrame(
        {
            "cell_id": cell_ids(gcol, grow),
            "cell_col": gcol,
            "cell_row": grow,
            "x_min": x_min,
            "y_min": y_min,
            "x_max": x_min + size,
            "y_max": y_min + size,
            "x_center": x_min + size / 2,
            "y_center": y_min + size / 2,
        }
    )
    d_col, d_row = col // plan.district_cells, row // plan.district_cells
    cells["district"] = (d_row * plan.districts_x + d_col + 1).astype(str)
    beat_cells = plan.district_cells // plan.beats_per_side
    b_col = (col % plan.district_cells) // beat_cells
    b_row = (row % plan.district_cells) // beat_cells
    cells["beat"] = [
        f"{int(d):02d}{r + 1}{c + 1}" for d, r, c in zip(cells["district"], b_row, b_col, strict=True)
    ]

    corridor = (col % plan.corridor_every == plan.corridor_every // 2) | (
        row % plan.corridor_every == plan.corridor_every // 2
    )
    # Parks come in 2 x 2 blocks off the corridors.
    block = (row // 2) * (plan.cols // 2 + 1) + col // 2
    park_block = rng.random(block.max() + 1) < plan.park_share
    land_use = np.where(corridor, "commercial", np.where(park_block[block], "recreational", "residential"))
    cells["land_use"] = land_use

    bars_per_cell = rng.poisson(
        np.where(
            land_use == "commercial",
            plan.bars_per_commercial_cell,
            np.where(land_use == "residential", plan.bars_per_residential_cell, 0.0),
        )
    )
    owner = np.repeat(np.arange(len(cells)), bars_per_cell)
    bx = np.round(x_min[owner] + rng.uniform(0.1, 0.9, owner.size) * size, 1)
    by = np.round(y_min[owner] + rng.uniform(0.1, 0.9, owner.size) * size, 1)
    premises = pd.DataFrame(
        {
            "premise_id": [f"{i + 1}" for i in range(owner.size)],
            "address": _addresses(bx, by, plan),
            "x": bx,
            "y": by,
        }
    )

    commercial = np.flatnonzero(land_use == "commercial")
    venue_cells = rng.choice(commercial, plan.venues, replace=False)
    venues = pd.DataFrame(
        {
            "venue_id": [str(i + 1) for i in range(plan.venues)],
            "venue": [
                f"Synthetic {name}" for name in ("Stadium", "Arena", "Ballpark", "Field")[: plan.venues]
            ],
            "x": cells["x_center"].to_numpy()[venue_cells],
            "y": cells["y_center"].to_numpy()[venue_cells],
        }
    )

    xc, yc = cells["x_center"].to_numpy(), cells["y_center"].to_numpy()
    cells["bars_nearby"] = _count_within(xc, yc, bx, by, BAR_RADIUS)
    cells["venue_distance"] = np.min(
        np.hypot(
            xc[:, None] - venues["x"].to_numpy()[None, :], yc[:, None] - venues["y"].to_numpy()[None, :]
        ),
        axis=1,
    )
    hx = rng.uniform(x_min.min(), x_min.max() + size, plan.hotspots)
    hy = rng.uniform(y_min.min(), y_min.max() + size, plan.hotspots)
    strength = rng.uniform(1.0, 2.5, plan.hotspots)
    d2 = (xc[:, None] - hx[None, :]) ** 2 + (yc[:, None] - hy[None, :]) ** 2
    cells["hotspot"] = (strength[None, :] * np.exp(-d2 / (2 * plan.hotspot_sigma**2))).sum(axis=1)

    return SyntheticCity(
        plan=plan,
        seed=seed,
        cells=cells,
        premises=premises,
        venues=venues,
        land_use=_land_use_polygons(cells, plan),
    )


def _count_within(xc, yc, px, py, radius: float) -> np.ndarray:
    if px.size == 0:
        return np.zeros(xc.size, dtype=np.int64)
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([px, py]))
    return np.array([len(hits) for hits in tree.query_ball_point(np.column_stack([xc, yc]), radius)])


def _land_use_polygons(cells: pd.DataFrame, plan: CityPlan) -> pd.DataFrame:
    """One rectangle per run of same-use cells along each row of the grid."""
    rows = []
    for _, line in cells.groupby("cell_row", sort=True):
        use = line["land_use"].to_numpy()
        starts = np.flatnonzero(np.r_[True, use[1:] != use[:-1]])
        ends = np.r_[starts[1:], use.size]
        for s, e in zip(starts, ends, strict=True):
            rows.append(
                {
                    "category": use[s],
                    "x_min": line["x_min"].iat[s],
                    "y_min": line["y_min"].iat[s],
                    "x_max": line["x_max"].iat[e - 1],
                    "y_max": line["y_max"].iat[e - 1],
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "polygon_id", [str(i + 1) for i in range(len(frame))])
    return frame


STREETS_NS = ("ASH", "BIRCH", "CEDAR", "DOGWOOD", "ELM", "FIR", "GINKGO", "HAZEL", "IVY", "JUNIPER")
STREETS_EW = ("ASTER", "BLUEBELL", "CLOVER", "DAISY", "FERN", "IRIS", "LILAC", "MAPLE", "ORCHID", "POPPY")


def _addresses(x: np.ndarray, y: np.ndarray, plan: CityPlan) -> list[str]:
    """Block-level addresses like the data portal's ('012XX N ELM AVE'): no house numbers."""
    col = ((np.asarray(x) - plan.origin_x) // plan.cell_size).astype(int)
    row = ((np.asarray(y) - plan.origin_y) // plan.cell_size).astype(int)
    return [
        f"{r:03d}XX N {STREETS_NS[c % len(STREETS_NS)]} AVE"
        if (c + r) % 2
        else f"{c:03d}XX W {STREETS_EW[r % len(STREETS_EW)]} ST"
        for c, r in zip(col, row, strict=True)
    ]


def cell_blocks(city: SyntheticCity) -> np.ndarray:
    """The block address of each cell's centre (incidents carry the block of their cell)."""
    return np.array(
        _addresses(city.cells["x_center"].to_numpy(), city.cells["y_center"].to_numpy(), city.plan),
        dtype=object,
    )


def _ordinal(n: int) -> str:
    suffix = "TH" if 10 <= n % 100 <= 20 else {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH")
    return f"{n}{suffix}"
