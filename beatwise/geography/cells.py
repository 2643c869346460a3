"""The jurisdiction's cells and the district, beat and neighbourhood each belongs to (`raw.cells`).

Every polygon role is optional; the config says which layer plays which by the feed it lists it under:
- the jurisdiction (the cells that exist) is the `jurisdiction` feed's outline, else the union of the
  districts, else of the beats, else of the neighbourhoods; with no polygon at all it is derived from the
  incidents (`derived_jurisdiction`, with a warning);
- a cell's district is the district polygon covering most of it; without a districts layer every cell is
  in one district named after the agency (its slug), so planning still has its unit;
- beat and neighbourhood likewise, None where the layer is absent.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import shapely

from beatwise.config.schema import AgencyConfig
from beatwise.contracts import normalise_district
from beatwise.geography import grid
from beatwise.geography.layers import POLYGON_ROLES, optional_layer, polygons
from beatwise.warehouse import replace_table

CELLS_COLUMNS = [*grid.CELL_COLUMNS, "district", "beat", "neighbourhood", "area_share"]
# The derived jurisdiction leaves out this share of incidents at each end of each axis (geocoding errors).
DERIVED_TRIM = 0.001
log = logging.getLogger("beatwise.geography")


def derived_jurisdiction_warning(config: AgencyConfig) -> str:
    return (
        f"{config.agency.slug}: no polygon layer (feeds {', '.join(POLYGON_ROLES)}) is configured, so the "
        "jurisdiction is derived from the incidents: the convex hull of their positions, leaving out the "
        f"{DERIVED_TRIM:.1%} at each end of each axis, grown by one cell. Incidents outside it are "
        "quarantined; add a `jurisdiction` feed with the real boundary."
    )


def derived_jurisdiction(x: np.ndarray, y: np.ndarray, size: float) -> pd.DataFrame:
    """The documented rule for a jurisdiction without a boundary: a jurisdiction frame (one part)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    known = np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
    x, y = x[known], y[known]
    if len(x) < 3:
        raise ValueError("no polygon layer is configured and fewer than 3 incidents have coordinates: "
                         "the jurisdiction cannot be derived; add a `jurisdiction` feed")
    lo_x, hi_x = np.quantile(x, [DERIVED_TRIM, 1 - DERIVED_TRIM])
    lo_y, hi_y = np.quantile(y, [DERIVED_TRIM, 1 - DERIVED_TRIM])
    inside = (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x[inside], y[inside]]))).buffer(size)
    return pd.DataFrame({"part_id": ["derived"], "name": ["derived from incidents"],
                         "geometry_wkt": [shapely.to_wkt(hull, rounding_precision=3)]})


def jurisdiction_districts(districts: pd.DataFrame, wanted: list[str] | None) -> pd.DataFrame:
    """The district rows of the jurisdiction: those listed in `wanted`, or all when it is None."""
    if wanted is None:
        return districts
    wanted = [normalise_district(d) for d in wanted]
    missing = sorted(set(wanted) - set(districts["district"]))
    if missing:
        raise ValueError(f"config.districts lists {missing}, which raw.districts does not have")
    return districts[districts["district"].isin(wanted)]


def current_beats(beats: pd.DataFrame) -> pd.DataFrame:
    """The beats of the newest vintage (latest valid_from; a vintage without one is the oldest)."""
    if beats.empty:
        raise ValueError("raw.beats is empty: no beats to assign cells to")
    starts = beats.groupby("vintage")["valid_from"].max()
    # NaT sorts first: a vintage without a start date is older than any dated one; ties go to the name.
    ordered = starts.reset_index().sort_values(["valid_from", "vintage"], na_position="first")
    newest = ordered["vintage"].iloc[-1]
    return beats[beats["vintage"] == newest]


def largest_cover(shares: pd.DataFrame, keys: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the key whose polygons cover most of it and the share all keys together cover.

    `shares` is a (cell_index, polygon_index, share) overlay; `keys[polygon_index]` names the polygon
    (a district split into several polygons counts once). Ties go to the smallest key.
    """
    frame = pd.DataFrame({"cell_index": shares["cell_index"].to_numpy(),
                          "key": keys[shares["polygon_index"].to_numpy()],
                          "share": shares["share"].to_numpy()})
    per_key = frame.groupby(["cell_index", "key"], as_index=False)["share"].sum()
    best = (per_key.sort_values(["cell_index", "share", "key"], ascending=[True, False, True])
            .drop_duplicates("cell_index"))
    key = np.full(n_cells, None, dtype=object)
    key[best["cell_index"].to_numpy()] = best["key"].to_numpy()
    covered = np.zeros(n_cells)
    totals = per_key.groupby("cell_index")["share"].sum()
    covered[totals.index.to_numpy()] = np.clip(totals.to_numpy(), 0.0, 1.0)
    return key, covered


def build_cells(districts: pd.DataFrame | None, beats: pd.DataFrame | None, size: float,
                wanted_districts: list[str] | None = None, jurisdiction: pd.DataFrame | None = None,
                neighbourhoods: pd.DataFrame | None = None, single_district: str = "all") -> pd.DataFrame:
    """The jurisdiction's cells with their district, current beat, neighbourhood and the share inside.

    Frames are the canonical ones of raw.<layer> (WKT in the agency CRS), None where the agency has no such
    layer (see the module docstring for the roles). Columns: CELLS_COLUMNS, ordered by cell column then
    row. A cell's beat is taken among the current beats of the jurisdiction's districts; None where no
    such beat overlaps the cell.
    """
    if districts is not None:
        districts = jurisdiction_districts(districts, wanted_districts)
    elif wanted_districts is not None:
        raise ValueError(f"config.districts lists {wanted_districts}, but the config has no districts feed")
    if jurisdiction is not None and wanted_districts is None:
        layer, name = jurisdiction, "raw.jurisdiction"
    else:
        layer, name = next(((f, n) for f, n in ((districts, "raw.districts"), (beats, "raw.beats"),
                                                (neighbourhoods, "raw.neighbourhoods")) if f is not None),
                           (None, None))
        if layer is None:
            raise ValueError("no polygon layer: give a jurisdiction, districts, beats or neighbourhoods feed")
    outline = polygons(layer, name)
    cells, shares = grid.jurisdiction_overlay(outline, size)
    _, area_share = largest_cover(shares, np.zeros(len(outline), dtype=object), len(cells))

    if districts is not None:
        district_shares = (shares if layer is districts
                           else grid.cell_polygon_shares(cells, polygons(districts, "raw.districts"), size))
        district, _ = largest_cover(district_shares, districts["district"].to_numpy(), len(cells))
    else:
        district = np.full(len(cells), single_district, dtype=object)

    beat = np.full(len(cells), None, dtype=object)
    if beats is not None:
        beats = current_beats(beats)
        if wanted_districts is not None:
            beats = beats[beats["district"].isin(districts["district"])]
        if len(beats):
            beat_shares = grid.cell_polygon_shares(cells, polygons(beats, "raw.beats"), size)
            beat, _ = largest_cover(beat_shares, beats["beat"].to_numpy(), len(cells))
    neighbourhood = np.full(len(cells), None, dtype=object)
    if neighbourhoods is not None:
        covers = grid.cell_polygon_shares(cells, polygons(neighbourhoods, "raw.neighbourhoods"), size)
        neighbourhood, _ = largest_cover(covers, neighbourhoods["neighbourhood"].to_numpy(), len(cells))
    return cells.assign(district=district, beat=beat, neighbourhood=neighbourhood,
                        area_share=area_share)[CELLS_COLUMNS]


def cells_for(config: AgencyConfig, layers: dict[str, pd.DataFrame | None],
              incident_positions=None) -> pd.DataFrame:
    """The cells of `config` from its layers (feed -> frame or None); with no polygon layer at all, the
    jurisdiction derived from `incident_positions` (a callable returning incident x, y), with a warning."""
    jurisdiction = layers.get("jurisdiction")
    if all(layers.get(role) is None for role in POLYGON_ROLES):
        if incident_positions is None:
            raise ValueError("no polygon layer and no incidents to derive the jurisdiction from")
        log.warning(derived_jurisdiction_warning(config))
        jurisdiction = derived_jurisdiction(*incident_positions(), config.grid.cell_size)
    return build_cells(layers.get("districts"), layers.get("beats"), config.grid.cell_size, config.districts,
                       jurisdiction=jurisdiction, neighbourhoods=layers.get("neighbourhoods"),
                       single_district=config.agency.slug)


def incident_positions_from_files(config: AgencyConfig):
    """A callable giving the x, y of every incident in the config's files (read through ingest's mapping)."""
    def positions() -> tuple[np.ndarray, np.ndarray]:
        from beatwise.ingest import read_mapped  # ingest imports geography: import it when called

        frames = [read_mapped(config, "incidents", path).frame for path in config.feed_files("incidents")]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"x": [], "y": []})
        return frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    return positions


def write_cells(con: duckdb.DuckDBPyConnection, config: AgencyConfig) -> pd.DataFrame:
    """(Re)build `raw.cells` from the polygon layers in the warehouse; returns the table written."""
    layers = {role: optional_layer(con, config, role) for role in POLYGON_ROLES}
    cells = cells_for(config, layers, incident_positions_from_files(config))
    replace_table(con, "raw.cells", cells, key="cell_id")
    return cells
