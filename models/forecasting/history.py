"""The event history on a dense grid: fast counts of events in any time window, for every cell at once.

Everything that looks at the past (baselines, features) asks `counts(crime_type, start, end)` with
`end` = the shift start, so nothing at or after a shift's start can reach its forecast.
Times are integer minutes since the epoch; the grid spans the jurisdiction's bounding box, so that
neighbourhoods at its edge still see events just outside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import ndimage

from models.forecasting.cells import ENVIRONMENT

ALL = "_all"  # the pooled history of every modelled crime type
SIGNAL = "_signal"  # the config's signal offences: community-reported, counted as features, never modelled
# Records of the agency's other reporting feeds, counted as features where the config declares the feed.
FEED_SIGNALS = {"calls_for_service": "_calls", "gunfire_detections": "_detections"}
NOT_MODELLED = frozenset({SIGNAL, *FEED_SIGNALS.values()})  # series that features count and nothing models
MINUTES_PER_DAY = 1440


_EPOCH = datetime(1970, 1, 1)


def to_minutes(when) -> np.ndarray | int:
    """Timestamps (scalar or array-like) as integer minutes since the epoch."""
    if isinstance(when, datetime) and when.tzinfo is None:
        return int((when - _EPOCH).total_seconds()) // 60
    values = np.asarray(pd.to_datetime(when)).astype("datetime64[m]").astype(np.int64)
    return int(values) if values.ndim == 0 else values


def shift_of_day_of(minutes: np.ndarray, start_hours: Sequence[int]) -> np.ndarray:
    """Index of the shift each minute falls in (`start_hours` in increasing order, as the config holds them);
    before the first start of the day is the previous day's last shift."""
    hours = np.asarray(start_hours) * 60
    index = np.searchsorted(hours, np.asarray(minutes) % MINUTES_PER_DAY, side="right") - 1
    return np.where(index < 0, len(hours) - 1, index)


@dataclass(frozen=True)
class Grid:
    col0: int
    row0: int
    ncols: int
    nrows: int

    @property
    def size(self) -> int:
        return self.ncols * self.nrows

    def index(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Dense index of each (col, row); -1 outside the grid."""
        c, r = np.asarray(cols) - self.col0, np.asarray(rows) - self.row0
        inside = (c >= 0) & (c < self.ncols) & (r >= 0) & (r < self.nrows)
        return np.where(inside, c * self.nrows + r, -1)

    def neighbourhood_sum(self, values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """Kernel-weighted sum over each cell's neighbourhood, for the whole grid."""
        plane = values.reshape(self.ncols, self.nrows)
        return ndimage.convolve(plane, kernel, mode="constant", cval=0.0).ravel()

    @property
    def block_offsets(self) -> np.ndarray:
        """Dense-index offsets of the 3x3 block around a cell (itself included)."""
        return np.array([dc * self.nrows + dr for dc in (-1, 0, 1) for dr in (-1, 0, 1)])

    def block_sum(self, values: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Sum over the 3x3 block around each of `cells` (dense indexes at least one cell from the edge)."""
        return values[cells[:, None] + self.block_offsets[None, :]].sum(axis=1)


class EventHistory:
    """Events per crime type, time-sorted, over the grid spanning the jurisdiction's cells."""

    def __init__(
        self,
        events: pd.DataFrame,
        cells: pd.DataFrame,
        margin: int = 3,
        environment_columns: Sequence[str] = ENVIRONMENT,
        crime_types: Sequence[str] = (),
    ):
        self.cells = cells.reset_index(drop=True)
        self.grid = Grid(
            int(cells["cell_col"].min()) - margin,
            int(cells["cell_row"].min()) - margin,
            int(cells["cell_col"].max() - cells["cell_col"].min()) + 1 + 2 * margin,
            int(cells["cell_row"].max() - cells["cell_row"].min()) + 1 + 2 * margin,
        )
        # Static per-cell features (environment), in `cells` order; absent columns are missing values.
        self.environment = (
            np.column_stack(
                [
                    pd.to_numeric(self.cells[c], errors="coerce").to_numpy(dtype=float)
                    if c in self.cells
                    else np.full(len(self.cells), np.nan)
                    for c in environment_columns
                ]
            )
            if environment_columns
            else np.empty((len(self.cells), 0))
        )
        self.cell_index = self.grid.index(self.cells["cell_col"].to_numpy(), self.cells["cell_row"].to_numpy())
        index = self.grid.index(events["cell_col"].to_numpy(), events["cell_row"].to_numpy())
        minutes = to_minutes(events["occurred_at"].to_numpy())
        kinds = events["crime_type"].to_numpy()
        keep = index >= 0
        # Crime types named but without events get an empty history (their forecasts are all baseline floors).
        self.crime_types = sorted((set(kinds) | set(crime_types)) - NOT_MODELLED)
        self._times: dict[str, np.ndarray] = {}
        self._where: dict[str, np.ndarray] = {}
        self._keys: dict[str, np.ndarray] = {}
        modelled = ~np.isin(kinds, list(NOT_MODELLED))
        for crime_type in [*self.crime_types, ALL, *sorted(NOT_MODELLED)]:
            mask = keep & modelled if crime_type == ALL else keep & (kinds == crime_type)
            order = np.argsort(minutes[mask], kind="stable")
            self._times[crime_type] = minutes[mask][order]
            self._where[crime_type] = index[mask][order].astype(np.int64)

    @property
    def first_minute(self) -> int:
        times = self._times[ALL]
        return int(times[0]) if len(times) else 0

    def __len__(self) -> int:
        return len(self._times[ALL])

    def window(self, crime_type: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(minutes, grid index) of the events with start <= time < end."""
        times = self._times[crime_type]
        lo, hi = np.searchsorted(times, [start, end], side="left")
        return times[lo:hi], self._where[crime_type][lo:hi]

    def counts(self, crime_type: str, start: int, end: int, weights=None) -> np.ndarray:
        """Events per grid cell in [start, end) (weighted by `weights(minutes)` when given)."""
        times, where = self.window(crime_type, start, end)
        w = None if weights is None else weights(times)
        return np.bincount(where, weights=w, minlength=self.grid.size)

    def keyed(self, crime_type: str) -> np.ndarray:
        """Events sorted by (grid cell, minute) as one int64 key each: cell << 32 | minute."""
        if crime_type not in self._keys:
            self._keys[crime_type] = np.sort((self._where[crime_type] << 32) | self._times[crime_type])
        return self._keys[crime_type]

    def counts_at(self, crime_type: str, where: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Events in grid cells `where` during [start, end), one query per element (vectorised)."""
        keys = self.keyed(crime_type)
        return (np.searchsorted(keys, (where << 32) | end) - np.searchsorted(keys, (where << 32) | start)).astype(float)

    def block_counts_at(self, crime_type: str, where: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Events in the 3x3 block around each of grid cells `where` during [start, end) (vectorised)."""
        offsets = self.grid.block_offsets
        block = (where[:, None] + offsets[None, :]).ravel()
        counts = self.counts_at(crime_type, block, np.repeat(start, len(offsets)), np.repeat(end, len(offsets)))
        return counts.reshape(-1, len(offsets)).sum(axis=1)

    def last_time_at(self, crime_type: str, where: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Minute of the last event in grid cells `where` before `end`; -1 where there is none."""
        keys = self.keyed(crime_type)
        if len(keys) == 0:  # a crime type without any event (yet): no last time anywhere
            return np.full(len(where), -1, dtype=np.int64)
        i = np.searchsorted(keys, (where << 32) | end) - 1
        found = keys[np.maximum(i, 0)]
        return np.where((i >= 0) & ((found >> 32) == where), found & 0xFFFFFFFF, -1)

    def in_shift_of_day(self, crime_type: str, start_hours: Sequence[int], k: int) -> str:
        """Name of the series of `crime_type`'s events that fell in the k-th shift of their day (shifts start on
        the hour at `start_hours`, in increasing order; the last runs past midnight), split off on first use."""
        names = [f"{crime_type}@{'-'.join(map(str, start_hours))}#{j}" for j in range(len(start_hours))]
        if names[k] not in self._times:
            times, where = self._times[crime_type], self._where[crime_type]
            labels = shift_of_day_of(times, start_hours)
            for j, name in enumerate(names):
                self._times[name], self._where[name] = times[labels == j], where[labels == j]
        return names[k]

    def observed(self, crime_type: str, shift_start: int, shift_minutes: int) -> np.ndarray:
        """What happened during the shift, per jurisdiction cell."""
        return self.counts(crime_type, shift_start, shift_start + shift_minutes)[self.cell_index]

    def last_time(self, crime_type: str, start: int, end: int) -> np.ndarray:
        """Minute of each cell's last event in [start, end); -1 where there is none."""
        times, where = self.window(crime_type, start, end)
        last = np.full(self.grid.size, -1, dtype=np.int64)
        np.maximum.at(last, where, times)
        return last

    def span(self) -> tuple[int, int]:
        times = self._times[ALL]
        return (int(times[0]), int(times[-1])) if len(times) else (0, 0)
