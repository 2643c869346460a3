"""`beatwise forecast`: train on incidents up to a day, then forecast every cell for many shifts.

Honest by construction: the champion of each crime type is chosen on a backtest that ends on
`train_until`, the serving forecasters are refitted on incidents up to `train_until` only, and the
forecast for a shift sees only incidents that occurred before that shift's start, whatever the files
hold. Features are computed in memory (models/forecasting/features.py, the twin of the dbt feature
macro) so that hundreds of shifts of a whole city take minutes, without a warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from beatwise.config.schema import AgencyConfig
from models.forecasting.baselines import Forecaster, baselines_for
from models.forecasting.candidates import AugmentedCounts, Blend
from models.forecasting.cells import cells_from_files
from models.forecasting.champion import AUGMENTED, BLEND, CANDIDATE
from models.forecasting.evaluate import Backtest, event_trainer, format_table, run_backtest
from models.forecasting.events import read_incident_files
from models.forecasting.features import load_calendar
from models.forecasting.gbm import fit_models
from models.forecasting.history import EventHistory
from models.forecasting.shifts import shift_starts

OUTPUT_COLUMNS = [
    "shift_start",
    "crime_type",
    "cell_id",
    "x_min",
    "y_min",
    "x_max",
    "y_max",
    "expected_count",
    "method",
]


@dataclass
class ForecastRun:
    out: Path
    rows: int
    shifts: int
    methods: dict[str, str]
    backtest: Backtest | None
    seconds: dict[str, float] = field(default_factory=dict)


def serving_forecasters(
    history: EventHistory,
    config: AgencyConfig,
    crime_types: Sequence[str],
    train_until: date,
    methods: dict[str, str],
    backtest: Backtest | None = None,
) -> dict[str, Forecaster]:
    """The chosen method of each crime type, fitted on incidents up to `train_until` (a blend: its model and
    partner refitted, mixed with the weight the backtest chose; the augmented count with its chosen weight)."""
    calendar = load_calendar(config)
    model_types = [t for t in crime_types if methods[t] in (CANDIDATE, BLEND)]
    models = fit_models(history, config, calendar, model_types, train_until, config.forecasting.seed)

    def baseline(t: str, method: str) -> Forecaster:
        if method == AUGMENTED and backtest is not None:
            return AugmentedCounts(t, backtest.augment_weights[t]).fit(history, config, train_until)
        return next(b for b in baselines_for(t, config) if b.method == method).fit(history, config, train_until)

    serving: dict[str, Forecaster] = {}
    for t in crime_types:
        if methods[t] == BLEND and t in models and backtest is not None:
            partner = backtest.blend_partners.get(t, backtest.decisions[t].best_baseline)
            serving[t] = Blend(t, models[t], baseline(t, partner), backtest.blend_weights[t])
        elif methods[t] == AUGMENTED and backtest is not None:
            serving[t] = baseline(t, AUGMENTED)
        elif t in models and methods[t] == CANDIDATE:
            serving[t] = models[t]
        else:
            serving[t] = baseline(t, methods[t] if methods[t] not in (CANDIDATE, BLEND) else "prior_364d")
    return serving


def run_forecast(
    config: AgencyConfig,
    train_until: date,
    start: date,
    end: date,
    out: Path,
    every_days: int = 1,
    incidents: Sequence[str | Path] | None = None,
    method: str = "champion",
    refit: bool = True,
    echo: Callable[[str], None] = lambda _: None,
) -> ForecastRun:
    """Train, gate, and write one row per shift, crime type and cell of the jurisdiction to `out`.

    With `refit` (the default) the winners are refitted on every incident up to `train_until`; without,
    the very forecasters the gate evaluated serve (trained up to the backtest's origin): one training
    instead of two.
    """
    if start <= train_until:
        raise ValueError(
            f"--start {start} must be after --train-until {train_until}: a forecast for a shift "
            "the model has trained on is not a forecast"
        )
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    events = read_incident_files(config, incidents, signal=True)
    cells = cells_from_files(config)
    crime_types = config.modelled_crime_types()
    history = EventHistory(events, cells, crime_types=crime_types)
    calendar = load_calendar(config)
    seconds["load"] = time.perf_counter() - clock
    echo(f"{len(events):,} incidents of {len(crime_types)} crime types; {len(cells):,} cells")

    backtest = None
    clock = time.perf_counter()
    if method == "champion":
        origin = train_until - timedelta(days=config.forecasting.backtest_days - 1)
        trainer = event_trainer(history, config, calendar, config.forecasting.seed)
        backtest = run_backtest(
            history,
            config,
            crime_types,
            [origin],
            train_until,
            trainer,
            config.forecasting.backtest_every_days,
        )
        methods = {t: d.champion for t, d in backtest.decisions.items()}
        echo(f"champion gate on {len(backtest.shifts)} shifts from {origin}:\n{format_table(backtest)}")
    else:
        methods = {t: method for t in crime_types}
    seconds["gate"] = time.perf_counter() - clock

    clock = time.perf_counter()
    if refit or backtest is None:
        serving = serving_forecasters(history, config, crime_types, train_until, methods, backtest)
    else:  # serve exactly the forecasters that passed the gate (trained up to the backtest's origin)
        serving = {t: next(f for f in backtest.fitted[t] if f.method == methods[t]) for t in crime_types}
    seconds["train"] = time.perf_counter() - clock

    clock = time.perf_counter()
    shifts = shift_starts(config, start, end, every_days)
    rows = write_forecasts(history, serving, shifts, out)
    seconds["forecast"] = time.perf_counter() - clock
    echo(f"wrote {rows:,} rows ({len(shifts)} shifts) to {out}")
    return ForecastRun(out, rows, len(shifts), {t: f.method for t, f in serving.items()}, backtest, seconds)


def write_forecasts(history: EventHistory, serving: dict[str, Forecaster], shifts, out: Path) -> int:
    """Stream every shift's surfaces into one Parquet file (cell ids dictionary-encoded)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cells = history.cells
    n = len(cells)
    cell_ids = pa.DictionaryArray.from_arrays(
        pa.array(np.arange(n, dtype=np.int32)), pa.array(cells["cell_id"])
    )
    bounds = {c: pa.array(cells[c].to_numpy(dtype=float)) for c in ("x_min", "y_min", "x_max", "y_max")}
    schema = pa.schema(
        [
            ("shift_start", pa.timestamp("us")),
            ("crime_type", pa.dictionary(pa.int8(), pa.string())),
            ("cell_id", cell_ids.type),
            ("x_min", pa.float64()),
            ("y_min", pa.float64()),
            ("x_max", pa.float64()),
            ("y_max", pa.float64()),
            ("expected_count", pa.float64()),
            ("method", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    types, methods = list(serving), [f.method for f in serving.values()]
    k = len(types)
    # One row group per shift, every crime type in it: a few hundred large writes, not thousands of small.
    crime_type = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(k, dtype=np.int8), n)), pa.array(types)
    )
    method = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(k, dtype=np.int8), n)), pa.array(methods)
    )
    cell_id = pa.DictionaryArray.from_arrays(
        pa.array(np.tile(np.arange(n, dtype=np.int32), k)), cell_ids.dictionary
    )
    tiled = {c: pa.array(np.tile(v.to_numpy(), k)) for c, v in bounds.items()}
    rows = 0
    tmp = out.with_suffix(out.suffix + ".part")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for shift_start in shifts:
            expected = np.concatenate([serving[t].predict(history, shift_start) for t in types])
            stamp = pa.array(np.full(k * n, np.datetime64(pd.Timestamp(shift_start).to_datetime64(), "us")))
            columns = {
                "shift_start": stamp,
                "crime_type": crime_type,
                "cell_id": cell_id,
                **tiled,
                "expected_count": pa.array(expected, pa.float64()),
                "method": method,
            }
            writer.write_table(pa.table(columns, schema=schema))
            rows += k * n
    tmp.replace(out)
    return rows
