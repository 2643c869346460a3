"""Row rules of every feed: the pandera contract plus what a schema cannot say on its own.

Future dates, locations outside the jurisdiction and conflicting duplicate ids are rejected here;
unknown offence codes are only counted (the incident is real even if the lookup is behind). Every check
is vectorised: a Chicago-sized file has 1.8M rows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely

from beatwise.contracts import CONTRACTS, Contract
from beatwise.geography.grid import cell_index
from beatwise.ingest.read import excerpt
from beatwise.warehouse import table_exists


class Rejections:
    """Reasons why rows of one file are rejected, by row index (several reasons per row are kept)."""

    def __init__(self) -> None:
        self._reasons: dict[int, list[str]] = defaultdict(list)

    def add(self, index: Iterable, reasons: str | Iterable[str]) -> None:
        index = list(index)
        reasons = [reasons] * len(index) if isinstance(reasons, str) else list(reasons)
        for i, reason in zip(index, reasons, strict=True):
            if reason not in self._reasons[int(i)]:
                self._reasons[int(i)].append(reason)

    @property
    def rows(self) -> list[int]:
        return sorted(self._reasons)

    def reason(self, row: int) -> str:
        return "; ".join(self._reasons[row])

    def __len__(self) -> int:
        return len(self._reasons)


@functools.cache
def _row_schema(feed: str) -> pa.DataFrameSchema:
    """The contract with text columns checked by dtype only: pandera tests every value of a `str` column
    in Python (14 s on 1.8M incidents); `text_columns_are_text` does that in one vectorised pass."""
    schema = CONTRACTS[feed].schema
    return schema.update_columns(
        {n: {"dtype": object} for n, c in schema.columns.items() if str(c.dtype) == "str"}
    )


def text_columns_are_text(frame: pd.DataFrame, contract: Contract) -> list[str]:
    """The contract's text columns that hold something other than text (and missing values)."""
    return [
        n
        for n, c in contract.schema.columns.items()
        if str(c.dtype) == "str"
        and pd.api.types.infer_dtype(frame[n], skipna=True) not in ("string", "empty")
    ]


def check_contract(frame: pd.DataFrame, contract: Contract, rejections: Rejections) -> None:
    """Run the pandera schema lazily; each failing row is rejected with the column and the check."""
    wrong = text_columns_are_text(frame, contract)
    if wrong:
        raise ValueError(f"{contract.feed}: columns {wrong} should hold text")
    try:
        _row_schema(contract.feed).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        whole = cases[cases["index"].isna()]
        # pandera reports failures in no fixed order; list a row's reasons in the contract's column order.
        order = {column: i for i, column in enumerate(contract.columns)}
        rows = cases[cases["index"].notna()]
        rows = rows.assign(_order=rows["column"].map(order)).sort_values(["_order", "check"], kind="stable")
        if not whole.empty and rows.empty:
            raise ValueError(
                f"{contract.feed}: {whole[['column', 'check']].drop_duplicates().to_dict('records')}"
            ) from exc
        reasons = [
            _describe(c, k, v)
            for c, k, v in zip(rows["column"], rows["check"], rows["failure_case"], strict=True)
        ]
        rejections.add(rows["index"].astype(int), reasons)


def _describe(column: object, check: object, value: object) -> str:
    check = str(check)
    if check == "not_nullable":
        return f"missing {column}"
    return f"{column} fails {check!r}: {excerpt(value)}" if column is not None else f"fails {check!r}"


def check_dates(
    frame: pd.DataFrame, contract: Contract, loaded_at: datetime, earliest: date, rejections: Rejections
) -> datetime | None:
    """An event dated after the load cannot have happened yet; one before `earliest` (the config's
    records_start) is a placeholder such as 1900-01-01, not a record of when it happened. Returns the
    earliest of the future dates (when a reload would take that row), or None."""
    if contract.event_time is None:
        return None
    when = frame[contract.event_time]
    future = when > pd.Timestamp(loaded_at)
    rejections.add(
        frame.index[future], [f"{contract.event_time} is in the future: {t}" for t in when[future]]
    )
    early = when < pd.Timestamp(earliest)
    rejections.add(
        frame.index[early],
        [f"{contract.event_time} {t} is before records_start ({earliest}): not a plausible date" for t in when[early]],
    )
    return when[future].min().to_pydatetime() if future.any() else None


def jurisdiction_cells(con: duckdb.DuckDBPyConnection) -> np.ndarray | None:
    """Packed (col, row) of every cell of the jurisdiction, or None when raw.cells is not built yet."""
    exists = table_exists(con, "raw", "cells")
    if not exists:
        return None
    cols, rows = con.execute("select cell_col, cell_row from raw.cells").fetchnumpy().values()
    return np.unique(_pack(np.asarray(cols, dtype=np.int64), np.asarray(rows, dtype=np.int64)))


def _pack(cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return (cols << 32) + (rows & 0xFFFFFFFF)


def check_jurisdiction(
    frame: pd.DataFrame,
    contract: Contract,
    cells: np.ndarray | None,
    cell_size: float,
    rejections: Rejections,
) -> None:
    """A located row whose grid cell is not a jurisdiction cell is outside it."""
    if not contract.located or cells is None:
        return
    x, y = frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    known = np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
    col, row, _ = cell_index(x, y, cell_size)
    outside = known & ~np.isin(_pack(col, row), cells)
    rejections.add(
        frame.index[outside],
        [f"outside the jurisdiction: cell {c}_{r}" for c, r in zip(col[outside], row[outside], strict=True)],
    )


def check_duplicates(frame: pd.DataFrame, contract: Contract, rejections: Rejections) -> None:
    """Rows of one file sharing a natural key: an identical copy is redundant; differing content is
    resolved by the version column (the newest wins, the rest are superseded) or, with no order, refused."""
    key = list(contract.natural_key)
    alive = frame.drop(index=rejections.rows, errors="ignore")
    dup = alive[alive.duplicated(key, keep=False)]
    if dup.empty:
        return
    content = pd.util.hash_pandas_object(dup, index=False)
    version = contract.version_column
    for _, group in dup.assign(_content=content).groupby(key, sort=False, dropna=False):
        first = group.index[0]
        if group["_content"].nunique() == 1:
            rejections.add(group.index[1:], f"duplicate of row {first + 1} (same content)")
            continue
        versions = group[version] if version else None
        if versions is not None and versions.notna().any():
            newest = versions.max()
            winners = group.index[versions == newest]
            if len(set(group.loc[winners, "_content"])) == 1:
                keep = winners[0]
                rejections.add(
                    [i for i in group.index if i != keep],
                    f"superseded by row {keep + 1} (newer {version} {newest})",
                )
                continue
        # The key itself is in the quarantine row's natural_key; the reason stays groupable.
        rejections.add(
            group.index,
            f"conflicting duplicates of one {'/'.join(key)} with no order between them (rows "
            f"{', '.join(str(i + 1) for i in group.index)})",
        )


def unknown_offence_codes(frame: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Offence codes missing from raw.offence_codes, with their counts (empty if no lookup yet)."""
    exists = table_exists(con, "raw", "offence_codes")
    if not exists or "offence_code" not in frame:
        return {}
    known = {r[0] for r in con.execute("select offence_code from raw.offence_codes").fetchall()}
    if not known:
        return {}
    unknown = frame.loc[~frame["offence_code"].isin(known), "offence_code"]
    return {str(k): int(v) for k, v in unknown.value_counts().items()}


def merge_geometry_parts(frame: pd.DataFrame, contract: Contract) -> list[int]:
    """Features that share a key and every attribute are parts of one shape (Chicago draws beat 1654 and
    the airport beat 3100 in several pieces): their geometries are joined into the first row. Returns the
    rows merged away."""
    if "geometry_wkt" not in contract.columns:
        return []
    attributes = [c for c in contract.columns if c != "geometry_wkt"]
    parts = frame[frame.duplicated(attributes, keep=False) & frame["geometry_wkt"].notna()]
    merged: list[int] = []
    for _, group in parts.groupby(attributes, sort=False, dropna=False):
        shapes = shapely.from_wkt(group["geometry_wkt"].to_numpy())
        frame.loc[group.index[0], "geometry_wkt"] = shapely.to_wkt(
            shapely.union_all(shapes), rounding_precision=3
        )
        merged.extend(int(i) for i in group.index[1:])
    return merged
