"""Mappings that describe real exports: fields built by rules, every file format through one reader,
text ids, distances with units, a renamed boundary file, a jurisdiction derived from incidents."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from beatwise.config import ConfigError, parse_config
from beatwise.config.units import distance_in_crs_units, metres_per_unit
from beatwise.contracts import normalise_code
from beatwise.geography.cells import build_cells, cells_for, derived_jurisdiction
from beatwise.ingest import load_feed, read_mapped
from beatwise.ingest.geopackage import read_layer, write_layer
from beatwise.ingest.read import FeedError

CONFIG = """\
agency: {{name: Test, slug: test, timezone: America/Toronto, country: CA}}
crs: EPSG:32617
data_root: {root}
grid: {{cell_size: 100 m}}
feeds:
  incidents:
    files: [{file}]
    columns:
      occurred_at: {occurred}
      incident_id: {{digest: [DAY, HOUR, WHAT, LON, LAT]}}
      offence_name: WHAT
      longitude: LON
      latitude: LAT
    identical_rows: {identical}
  districts:
    files: [areas.gpkg]
    columns: {{district: NAME}}
crime_types:
  theft: {{offences: [{{field: offence_name, values: [Theft]}}], severity: 1}}
"""
ROWS = pd.DataFrame({
    "DAY": ["31/12/2016", "31/12/2016", "31/12/2016", "01/01/2017"],
    "HOUR": ["23", "23", "0", "7"],
    "TIME": ["23:15", "23:15", "0005", "07:30:00"],
    "WHAT": ["Theft", "Theft", "Theft", "Robbery"],
    "LON": ["-79.38", "-79.38", "-79.381", "-79.382"],
    "LAT": ["43.65", "43.65", "43.651", "43.652"],
})


def _city(tmp_path: Path, file: str, occurred: str = "{date: DAY, hour: HOUR, date_format: '%d/%m/%Y'}",
          identical: str = "distinct"):
    to_utm = __import__("pyproj").Transformer.from_crs("EPSG:4326", "EPSG:32617", always_xy=True)
    x, y = to_utm.transform([-79.39, -79.37], [43.64, 43.66])
    write_layer(tmp_path / "areas.gpkg", "areas", pd.DataFrame({"NAME": ["Ward 7"]}),
                [shapely.box(x[0], y[0], x[1], y[1])], 32617)
    text = CONFIG.format(root=tmp_path, file=file, occurred=occurred, identical=identical)
    return parse_config(text, "test.yaml", tmp_path)


def _write(tmp_path: Path, name: str) -> Path:
    csv = ROWS.to_csv(index=False).encode()
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(csv))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("export/occurrences.csv", csv)
    elif name.endswith(".parquet"):
        ROWS.to_parquet(path)
    else:
        path.write_bytes(csv)
    return path


@pytest.mark.parametrize("name", ["occ.csv", "occ.csv.gz", "occ.zip", "occ.parquet"])
def test_every_format_reads_through_one_mapping(tmp_path, name):
    config = _city(tmp_path, name)
    mapped = read_mapped(config, "incidents", _write(tmp_path, name))
    frame = mapped.frame
    assert not mapped.rejections.rows
    assert frame["occurred_at"].tolist() == [pd.Timestamp("2016-12-31 23:00")] * 2 + [
        pd.Timestamp("2016-12-31 00:00"), pd.Timestamp("2017-01-01 07:00")]
    # lon/lat projected once, into UTM metres.
    assert 600_000 < frame["x"].min() < frame["x"].max() < 700_000 and 4_800_000 < frame["y"].min()
    # Identical rows (the first two) are two incidents: two ids, counted.
    assert frame["incident_id"].nunique() == 4 and frame.attrs["identical_rows"] == 1


def test_identical_rows_as_duplicates_load_once(tmp_path, fresh_home):
    config = _city(tmp_path, "occ.csv", identical="duplicates")
    _write(tmp_path, "occ.csv")
    with duckdb.connect() as con:
        load_feed(con, config, "districts")
        from beatwise.geography.cells import write_cells

        write_cells(con, config)
        (load,) = load_feed(con, config, "incidents").files
        reasons = [r[0] for r in con.execute("select reason from raw.quarantine").fetchall()]
        logged = con.execute("select identical_rows from raw.load_log where feed = 'incidents'").fetchall()
    assert load.rows_inserted == 3 and load.identical_rows == 1 and logged == [(1,)]
    assert reasons == ["duplicate of row 1 (same content)"]


def test_a_time_column_and_a_zip_of_several_csvs(tmp_path):
    config = _city(tmp_path, "occ.csv", occurred="{date: DAY, time: TIME, date_format: '%d/%m/%Y'}")
    frame = read_mapped(config, "incidents", _write(tmp_path, "occ.csv")).frame
    assert frame["occurred_at"].dt.strftime("%H:%M").tolist() == ["23:15", "23:15", "00:05", "07:30"]
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "x\n2\n")
    with pytest.raises(FeedError, match="the zip holds 2 CSV files"):
        read_mapped(config, "incidents", tmp_path / "two.zip")


def test_unreadable_hours_are_rejected_with_the_value(tmp_path):
    config = _city(tmp_path, "occ.csv")
    path = tmp_path / "occ.csv"
    ROWS.assign(HOUR=["23", "24", "x", "7"]).to_csv(path, index=False)
    mapped = read_mapped(config, "incidents", path)
    assert [mapped.rejections.reason(i) for i in mapped.rejections.rows] == [
        "hour in occurred_at (HOUR) is not 0-23: '24'", "hour in occurred_at (HOUR) is not 0-23: 'x'"]


def test_local_dates_from_utc_midnights(tmp_path):
    from beatwise.config.schema import Derived
    from beatwise.ingest.canonical import _built
    from beatwise.ingest.validate import Rejections

    source = pd.DataFrame({"D": ["2016-01-01T05:00:00Z", "2016-07-01T04:00:00", "2016-03-05"]})
    dates = _built(Derived(local_date="D"), source, "date", None, "America/Toronto", Rejections())
    assert dates.dt.strftime("%Y-%m-%d").tolist() == ["2016-01-01", "2016-07-01", "2016-03-05"]


def test_geopackage_layers_round_trip_without_gdal(tmp_path):
    path = write_layer(tmp_path / "a.gpkg", "zones", pd.DataFrame({"NAME": ["A", "B"], "N": [1, 2]}),
                       [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], 32617)
    attributes, geometries, crs = read_layer(path)
    assert attributes.to_dict("list") == {"NAME": ["A", "B"], "N": [1, 2]} and crs == "EPSG:32617"
    assert [g.area for g in geometries] == [1.0, 1.0]
    with pytest.raises(ValueError, match="has no layer 'other'; its layers: zones"):
        read_layer(path, "other")


def test_text_ids_are_never_cut_to_digits():
    assert [normalise_code(v) for v in ("011", "11", 11.0, " Ward 7 ", "11TH", "D-1", "0", "")] == [
        "11", "11", "11", "Ward 7", "11TH", "D-1", "0", None]


def test_distances_convert_with_the_crs_unit():
    assert distance_in_crs_units("500 ftUS", "EPSG:3435") == 500.0  # the CRS's own unit: exact
    assert distance_in_crs_units("500 ft", "EPSG:3435") == pytest.approx(499.999, abs=1e-6)
    assert distance_in_crs_units("150 m", "EPSG:3435") == pytest.approx(492.125, abs=1e-3)
    assert distance_in_crs_units("500 ft", "EPSG:32617") == pytest.approx(152.4)
    assert metres_per_unit("EPSG:32617") == 1.0


def test_a_bare_number_distance_is_refused_with_its_line(tmp_path):
    text = CONFIG.format(root=tmp_path, file="occ.csv", occurred="OCC", identical="distinct")
    with pytest.raises(ConfigError, match=r"line 4, grid.cell_size: .*a distance needs its unit"):
        parse_config(text.replace("cell_size: 100 m", "cell_size: 100"), "t.yaml", tmp_path)


def test_a_renamed_boundary_file_with_the_same_content_keeps_its_rows(tmp_path, fresh_home):
    config = _city(tmp_path, "occ.csv")
    with duckdb.connect() as con:
        load_feed(con, config, "districts")
        shutil.copy(tmp_path / "areas.gpkg", tmp_path / "areas_2017.gpkg")
        renamed = config.model_copy(update={"feeds": {**config.feeds, "districts": config.feeds["districts"]
                                                      .model_copy(update={"files": ["areas_2017.gpkg"]})}})
        load_feed(con, renamed, "districts")
        rows = con.execute("select district, _source_file from raw.districts").fetchall()
    assert rows == [("Ward 7", "areas_2017.gpkg")]


def test_without_any_polygon_the_jurisdiction_is_derived_from_incidents(tmp_path, caplog):
    config = _city(tmp_path, "occ.csv")
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1000, 500), rng.uniform(0, 800, 500)
    x[0], y[0] = 90_000, 90_000  # a geocoding error far away is left out
    cells = cells_for(config, {}, lambda: (x, y))
    assert "derived from the incidents" in caplog.text
    assert cells["x_max"].max() <= 1200 and cells["y_max"].max() <= 1000 and len(cells) > 60
    assert set(cells["district"]) == {"test"}  # no districts layer: one district, the agency's slug
    hull = derived_jurisdiction(x, y, 100)
    assert shapely.from_wkt(hull["geometry_wkt"][0]).contains(shapely.Point(500, 400))


def test_only_a_jurisdiction_outline_and_neighbourhoods(tmp_path):
    outline = pd.DataFrame({"part_id": ["a"], "name": ["city"],
                            "geometry_wkt": ["POLYGON ((0 0, 400 0, 400 200, 0 200, 0 0))"]})
    places = pd.DataFrame({"neighbourhood": ["West", "East"], "geometry_wkt": [
        "POLYGON ((0 0, 200 0, 200 200, 0 200, 0 0))", "POLYGON ((200 0, 400 0, 400 200, 200 200, 200 0))"]})
    cells = build_cells(None, None, 100, jurisdiction=outline, neighbourhoods=places, single_district="city")
    assert len(cells) == 8 and set(cells["district"]) == {"city"} and cells["beat"].isna().all()
    assert cells.set_index("cell_id")["neighbourhood"].to_dict()["0_0"] == "West"
    assert cells.set_index("cell_id")["neighbourhood"].to_dict()["3_1"] == "East"
