"""The grid and the cells table, on hand-made squares and on the real sample geometry (districts 10-12)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from beatwise.geography import build_cells, cell_bounds, cell_of, jurisdiction_cells, neighbours, write_cells
from beatwise.geography.cells import current_beats
from beatwise.geography.layers import layers_from_files, polygons
from beatwise.paths import PROJECT_ROOT

STATIONS = PROJECT_ROOT.parent / "shared" / "data" / "chicago" / "police_stations.csv"


def _square_wkt(x0: float, y0: float, x1: float, y1: float) -> str:
    return shapely.to_wkt(shapely.box(x0, y0, x1, y1))


@pytest.fixture(scope="module")
def sample_layers(sample_config) -> dict[str, pd.DataFrame]:
    return layers_from_files(sample_config)


@pytest.fixture(scope="module")
def sample_cells(sample_layers, sample_config) -> pd.DataFrame:
    return build_cells(sample_layers["districts"], sample_layers["beats"], sample_config.grid.cell_size,
                       sample_config.districts)


def test_a_point_on_a_border_belongs_to_the_cell_to_its_upper_right():
    col, row, ids = cell_of([1000.0, 999.999, 1000.0], [1500.0, 1500.0, 1499.5], 500)
    assert ids.tolist() == ["2_3", "1_3", "2_2"]
    assert col.tolist() == [2, 1, 2] and row.tolist() == [3, 3, 2]


def test_negative_coordinates_floor_away_from_zero():
    _, _, ids = cell_of([-0.5, -500.0, -500.1, 0.0], [-1.0, 499.9, -1000.0, 0.0], 500)
    assert ids.tolist() == ["-1_-1", "-1_0", "-2_-2", "0_0"]


def test_points_without_coordinates_get_no_cell():
    col, _, ids = cell_of([np.nan, 10.0], [5.0, 10.0], 500)
    assert ids.tolist() == [None, "0_0"] and col[0] == -1


def test_cell_bounds_and_neighbours():
    assert [b.tolist() for b in cell_bounds([2, -1], [3, -1], 500)] == [[1000, -500], [1500, -500],
                                                                        [1500, 0], [2000, 0]]
    ring = neighbours("0_0")
    assert len(ring) == 8 and "0_0" not in ring and {"-1_-1", "1_1", "-1_0"} <= set(ring)
    assert len(neighbours("5_-3", rings=2)) == 24
    with pytest.raises(ValueError, match="not a cell id"):
        neighbours("12")


def test_jurisdiction_keeps_cells_that_overlap_and_drops_ones_that_only_touch():
    # A 1000 x 750 rectangle at the origin: 2 columns x 2 rows (the top row half inside).
    cells = jurisdiction_cells([shapely.box(0, 0, 1000, 750)], 500)
    assert cells["cell_id"].tolist() == ["0_0", "0_1", "1_0", "1_1"]
    assert cells.loc[0, ["x_center", "y_center", "x_max"]].tolist() == [250, 250, 500]


def test_each_cell_takes_the_district_and_beat_covering_most_of_it():
    districts = pd.DataFrame({"district": ["1", "2"], "district_label": ["1ST", "2ND"],
                              "geometry_wkt": [_square_wkt(0, 0, 700, 500), _square_wkt(700, 0, 1000, 500)]})
    beats = pd.DataFrame({
        "vintage": ["old", "new", "new"], "beat": ["0999", "0111", "0211"], "district": ["1", "1", "2"],
        "valid_from": pd.to_datetime([None, "2012-12-18", "2012-12-18"]), "valid_to": pd.NaT,
        "geometry_wkt": [_square_wkt(0, 0, 1000, 500), _square_wkt(0, 0, 400, 500),
                         _square_wkt(400, 0, 1000, 500)],
    })
    cells = build_cells(districts, beats, 500).set_index("cell_id")
    assert cells.loc["0_0", "district"] == "1" and cells.loc["1_0", "district"] == "2"  # 200 vs 300 ft wide
    assert cells.loc["0_0", "beat"] == "0111" and cells.loc["1_0", "beat"] == "0211"
    assert cells["area_share"].tolist() == [1.0, 1.0]
    assert current_beats(beats)["vintage"].unique().tolist() == ["new"]


def test_config_districts_must_exist():
    districts = pd.DataFrame({"district": ["1"], "district_label": [None],
                              "geometry_wkt": [_square_wkt(0, 0, 10, 10)]})
    beats = pd.DataFrame({"vintage": ["v"], "beat": ["0111"], "district": ["1"], "valid_from": pd.NaT,
                          "valid_to": pd.NaT, "geometry_wkt": [_square_wkt(0, 0, 10, 10)]})
    with pytest.raises(ValueError, match=r"config.districts lists \['7'\]"):
        build_cells(districts, beats, 500, ["7"])


def test_sample_jurisdiction_covers_its_incidents(sample_cells, sample_layers, sample_config):
    incidents = pd.read_parquet(PROJECT_ROOT / "data" / "chicago_sample" / "incidents.parquet",
                                columns=["X Coordinate", "Y Coordinate", "District"])
    located = incidents.dropna()
    located = located[(located["X Coordinate"] != 0) & located["District"].isin(["010", "011", "012"])]
    _, _, ids = cell_of(located["X Coordinate"], located["Y Coordinate"], sample_config.grid.cell_size)
    outside = ~pd.Series(ids).isin(sample_cells["cell_id"]).to_numpy()
    # The few left out are genuinely outside districts 10-12 (mis-coded or geocoded elsewhere).
    area = shapely.union_all(polygons(sample_layers["districts"], "districts"))
    strays = shapely.points(located[["X Coordinate", "Y Coordinate"]].to_numpy()[outside])
    assert (shapely.distance(area, strays) > 0).all()
    assert outside.sum() < 0.001 * len(located)
    assert len(located) > 80_000


def test_sample_cells_fall_in_districts_10_to_12(sample_cells):
    assert set(sample_cells["district"]) == {"10", "11", "12"}
    assert sample_cells["beat"].notna().all()
    assert (sample_cells["beat"].str[:2].astype(int) == sample_cells["district"].astype(int)).mean() > 0.97
    assert sample_cells["area_share"].between(0, 1, inclusive="right").all()
    assert (sample_cells["area_share"] == 1).mean() > 0.8
    assert sample_cells["cell_id"].is_unique


def test_district_stations_lie_in_their_districts_cells(sample_cells, sample_config):
    stations = pd.read_csv(STATIONS)
    stations = stations[stations["DISTRICT"].astype(str).isin(["10", "11", "12"])]
    _, _, ids = cell_of(stations["X COORDINATE"], stations["Y COORDINATE"], sample_config.grid.cell_size)
    by_id = sample_cells.set_index("cell_id")
    assert by_id.loc[ids, "district"].tolist() == stations["DISTRICT"].astype(str).tolist()
    # Harrison (11th) station, 3151 W Harrison St, sits in beat 1134.
    assert by_id.loc[ids[stations["DISTRICT"].astype(str).to_numpy() == "11"][0], "beat"] == "1134"


def test_write_cells_is_deterministic(sample_layers, sample_config):
    with duckdb.connect() as con:
        con.execute("create schema raw")
        for layer in ("districts", "beats"):
            con.register("layer", sample_layers[layer])
            con.execute(f"create table raw.{layer} as select * from layer")
        write_cells(con, sample_config)
        first = con.execute("select * from raw.cells").df()
        write_cells(con, sample_config)
        second = con.execute("select * from raw.cells").df()
    pd.testing.assert_frame_equal(first, second)
    assert first["cell_id"].tolist() == sorted(first["cell_id"])
    assert len(first) == 2773


def test_write_cells_names_the_missing_table(sample_config):
    with duckdb.connect() as con, pytest.raises(LookupError, match="raw.districts is missing"):
        write_cells(con, sample_config)
