"""`beatwise forecast` on slices of the embedded sample: its output shape, CSV input, and honesty."""

from datetime import date

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from models.forecasting.cli import forecast
from models.forecasting.forecast_command import OUTPUT_COLUMNS, run_forecast

ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "config" / "chicago_sample.yaml"


def portal_csv(config, path, before: str) -> str:
    """Sample incidents before a time, written back as the portal's CSV export (12-hour timestamps)."""
    source = config.feed_files("incidents")[0]
    with duckdb.connect() as con:
        con.execute(f"""copy (select * replace (strftime("Date", '%m/%d/%Y %I:%M:%S %p') as "Date")
                              from read_parquet('{source}') where "Date" < timestamp '{before}')
                        to '{path}' (header, delimiter ',')""")
    return str(path)


def test_the_command_writes_every_cell_of_every_shift_and_crime_type(tmp_path, sample_config, sample_cells):
    incidents = portal_csv(sample_config, tmp_path / "incidents.csv", "2016-07-01")
    out = tmp_path / "forecast.parquet"
    result = CliRunner().invoke(
        forecast,
        [
            "--config",
            str(SAMPLE),
            "--train-until",
            "2016-04-30",
            "--start",
            "2016-05-02",
            "--end",
            "2016-05-30",
            "--every-days",
            "14",
            "--incidents",
            incidents,
            "--method",
            "prior_28d",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert list(frame.columns) == OUTPUT_COLUMNS
    shifts = sorted(frame["shift_start"].unique())
    assert [pd.Timestamp(s).strftime("%m-%d %H") for s in shifts] == [
        f"05-{d:02d} {h:02d}" for d in (2, 16, 30) for h in (6, 14, 22)
    ]
    assert len(frame) == 9 * 6 * len(sample_cells)
    assert set(frame["cell_id"]) == set(sample_cells["cell_id"])
    assert ((frame["x_max"] - frame["x_min"]) == 500).all() and (frame["expected_count"] > 0).all()
    assert set(frame["method"]) == {"prior_28d"}


def test_the_command_refuses_to_forecast_what_it_trained_on(tmp_path):
    result = CliRunner().invoke(
        forecast,
        [
            "--config",
            str(SAMPLE),
            "--train-until",
            "2016-04-30",
            "--start",
            "2016-04-30",
            "--end",
            "2016-05-30",
            "--out",
            str(tmp_path / "f.parquet"),
        ],
    )
    assert result.exit_code != 0 and "must be after --train-until" in result.output


@pytest.mark.timeout(300)
def test_later_incidents_in_the_files_do_not_change_a_forecast(tmp_path, small_config):
    everything = portal_csv(small_config, tmp_path / "all.csv", "2017-01-01")
    before_first_shift = portal_csv(small_config, tmp_path / "before.csv", "2016-04-04 06:00")
    runs = [
        run_forecast(
            small_config,
            date(2016, 3, 31),
            date(2016, 4, 4),
            date(2016, 4, 4),
            tmp_path / f"{i}.parquet",
            incidents=[files],
        )
        for i, files in enumerate((everything, before_first_shift))
    ]
    first, second = (pd.read_parquet(run.out) for run in runs)
    assert runs[0].methods == runs[1].methods
    morning = first["shift_start"] == pd.Timestamp("2016-04-04 06:00")
    assert morning.sum() == (second["shift_start"] == pd.Timestamp("2016-04-04 06:00")).sum() > 0
    pd.testing.assert_frame_equal(
        first[morning].reset_index(drop=True),
        second[second["shift_start"] == pd.Timestamp("2016-04-04 06:00")].reset_index(drop=True),
    )
