"""Cell environment (liquor premises, land use, venues) and the holiday calendar."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from beatwise.geography import build_cell_environment, build_cells, holiday_calendar, write_cell_environment
from beatwise.geography.environment import ENVIRONMENT_COLUMNS
from beatwise.geography.grid import jurisdiction_cells
from beatwise.geography.layers import layers_from_files

# Four 500 ft cells: 0_0, 0_1, 1_0, 1_1 (centres at 250 / 750).
CELLS = jurisdiction_cells([shapely.box(0, 0, 1000, 1000)], 500)


def _points(xy: list[tuple[float, float]], key: str, name: str) -> pd.DataFrame:
    return pd.DataFrame({key: [str(i) for i in range(len(xy))], name: "x",
                         "x": [p[0] for p in xy], "y": [p[1] for p in xy]}).astype({"x": float, "y": float})


def _land_use(rows: list[tuple[str, shapely.Geometry]]) -> pd.DataFrame:
    return pd.DataFrame({"polygon_id": [str(i) for i in range(len(rows))], "category": [r[0] for r in rows],
                         "geometry_wkt": [shapely.to_wkt(r[1]) for r in rows]})


def _environment(premises, land_use, venues) -> pd.DataFrame:
    # CRS units of one metre each, so distances read as given; the radius is 1,000 units.
    return build_cell_environment(CELLS, _points(premises, "premise_id", "address"), _land_use(land_use),
                                  _points(venues, "venue_id", "venue"), 500, 1000.0).set_index("cell_id")


def test_liquor_premises_counts_and_distances():
    # (550, 650) is 500 ft from the centre of 0_0 (a 300-400-500 triangle) and inside cell 1_1.
    env = _environment([(550.0, 650.0), (2200.0, 250.0)], [], [(250.0, 1250.0)])
    assert env.loc["0_0", "distance_to_liquor_m"] == pytest.approx(500.0)
    assert env.loc["1_1", "distance_to_liquor_m"] == pytest.approx(np.hypot(200, 100))
    assert env["liquor_premises_in_cell"].to_dict() == {"0_0": 0, "0_1": 0, "1_0": 0, "1_1": 1}
    # From 1_0's centre (750, 250) the far premise is 1,450 ft away: only the near one counts.
    assert env["liquor_premises_nearby"].to_dict() == {"0_0": 1, "0_1": 1, "1_0": 1, "1_1": 1}
    assert env.loc["0_1", "distance_to_venue_m"] == pytest.approx(500.0)


def test_the_nearby_radius_is_inclusive_and_counts_every_premise():
    env = _environment([(1250.0, 250.0), (250.0, 1250.1), (260.0, 260.0)], [], [(0.0, 0.0)])
    assert env.loc["0_0", "liquor_premises_nearby"] == 2  # exactly 1,000 ft and 14 ft away
    assert env.loc["0_0", "liquor_premises_in_cell"] == 1


def test_land_use_shares_of_the_cell_area():
    env = _environment([], [
        ("residential", shapely.box(0, 0, 250, 500)),        # half of 0_0
        ("Commercial", shapely.box(500, 0, 1000, 125)),      # a quarter of 1_0, category case ignored
        ("commercial", shapely.box(500, 0, 1000, 500)),      # overlaps the previous: capped at the whole cell
        ("recreational", shapely.box(-100, 900, 600, 1100)),  # a strip over 0_1 and 1_1
        ("industrial", shapely.box(0, 0, 1000, 1000)),       # not a tracked category
    ], [])
    assert env.loc["0_0", "residential_share"] == pytest.approx(0.5)
    assert env.loc["1_0", "commercial_share"] == pytest.approx(1.0)
    assert env.loc["0_1", "recreational_share"] == pytest.approx(0.2)
    assert env.loc["1_1", "recreational_share"] == pytest.approx(0.04)
    assert env.loc["1_1", ["residential_share", "commercial_share"]].tolist() == [0.0, 0.0]
    assert env["distance_to_venue_m"].isna().all() and env["distance_to_liquor_m"].isna().all()


def test_points_without_coordinates_are_refused():
    premises = _points([(1.0, 2.0)], "premise_id", "address")
    premises.loc[0, "x"] = np.nan
    with pytest.raises(ValueError, match="raw.liquor_premises: 1 rows have no x/y"):
        build_cell_environment(CELLS, premises, _land_use([]), _points([], "venue_id", "venue"), 500, 1000.0)


def test_absent_environment_feeds_leave_their_features_missing():
    """An agency without liquor, land-use or venue feeds: those columns are NULL (the model lacks them),
    never zeros that would claim 'no bar anywhere'."""
    env = build_cell_environment(CELLS, None, None, None, 500, 1000.0)
    assert list(env.columns) == ENVIRONMENT_COLUMNS and len(env) == len(CELLS)
    assert env.drop(columns="cell_id").isna().all().all()


def test_the_radius_and_distances_follow_the_crs_unit(sample_config):
    """Chicago's CRS is in US feet: liquor_radius '1000 ftUS' is 1,000 units, distances come out in metres."""
    assert sample_config.environment.liquor_radius == 1000.0
    env = build_cell_environment(CELLS, _points([(550.0, 650.0)], "premise_id", "address"), None, None, 500,
                                 sample_config.environment.liquor_radius, 0.3048006096012192)
    assert env.set_index("cell_id").loc["0_0", "distance_to_liquor_m"] == pytest.approx(152.4003, abs=1e-3)


def test_sample_environment_is_deterministic_and_consistent(sample_config):
    layers = layers_from_files(sample_config)
    cells = build_cells(layers["districts"], layers["beats"], 500, sample_config.districts)
    tables = []
    with duckdb.connect() as con:
        con.execute("create schema raw")
        for name, frame in {**{k: v for k, v in layers.items() if v is not None}, "cells": cells}.items():
            con.register("layer", frame)
            con.execute(f"create table raw.{name} as select * from layer")
            con.unregister("layer")
        for _ in range(2):
            write_cell_environment(con, sample_config)
            tables.append(con.execute("select * from raw.cell_environment").df())
    pd.testing.assert_frame_equal(*tables)
    env = tables[0]
    assert list(env.columns) == ENVIRONMENT_COLUMNS and len(env) == len(cells)
    # Every premise inside a jurisdiction cell is counted in exactly one cell.
    from beatwise.geography.grid import cell_of
    _, _, ids = cell_of(layers["liquor_premises"]["x"], layers["liquor_premises"]["y"], 500)
    assert env["liquor_premises_in_cell"].sum() == pd.Series(ids).isin(cells["cell_id"]).sum() > 100
    assert (env["liquor_premises_nearby"] >= 0).all() and env["distance_to_liquor_m"].max() < 3_000
    shares = env[["residential_share", "commercial_share", "recreational_share"]]
    assert shares.sum(axis=1).max() <= 1.0 + 1e-9 and env["residential_share"].mean() > 0.3


def test_holidays_cover_the_history_and_two_years_ahead(sample_config):
    calendar = holiday_calendar(sample_config)
    assert calendar["date"].min() == date(2015, 1, 1) and calendar["date"].max() == date(2018, 12, 25)
    named = dict(zip(calendar["date"], calendar["holiday"], strict=True))
    assert named[date(2016, 7, 4)] == "Independence Day"
    assert named[date(2016, 3, 7)] == "Casimir Pulaski Day"  # Illinois only
    assert calendar["date"].is_unique and calendar["date"].is_monotonic_increasing


def test_holidays_refuse_an_unknown_country(sample_config):
    agency = sample_config.agency.model_copy(update={"country": "XX"})
    config = sample_config.model_copy(update={"agency": agency})
    with pytest.raises(ValueError, match="agency.country"):
        holiday_calendar(config)
