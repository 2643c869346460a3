"""Ingest: feed files -> policy guard -> canonical columns -> validation -> raw.<feed> + raw.quarantine.

`load_feed(con, config, feed)` loads every file the config names for a feed, then whatever has landed in
BEATWISE_HOME/landing/<feed>/. Each file is one transaction with one raw.load_log row and one audit
record; a refused file (FeedError) loads nothing and is logged and audited. A refused configured file
raises the error after the feed's other files are loaded (the config names a file it cannot use); a
refused landing file does not stop the run: it is kept in `FeedLoad.refused` and the run moves on.
Incidents and offence codes once loaded, the crime-type policy is checked again against the codes.
The files of the feed's last run that a load would not change are skipped (`beatwise.ingest.skip`) unless
`reload` is asked for.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from beatwise import audit, paths, policy
from beatwise.config import AgencyConfig, Feed
from beatwise.contracts import CONTRACTS
from beatwise.ingest import canonical, read, skip, upsert, validate
from beatwise.ingest.formats import POLYGON_FORMATS, format_of
from beatwise.ingest.loaded_policy import PolicyBreach, check_loaded_policy
from beatwise.ingest.read import FeedError
from beatwise.warehouse import table_exists

__all__ = [
    "FeedError", "FeedLoad", "FileLoad", "MappedFile", "PolicyBreach", "feed_files", "load_feed", "load_file",
    "read_mapped",
]


@dataclass
class FileLoad:
    """What one file load did."""

    load_id: str
    feed: str
    file: str
    sha256: str
    status: str = "loaded"
    error: str | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_removed: int = 0
    rows_quarantined: int = 0
    rows_merged: int = 0  # parts of one shape joined into its first row
    identical_rows: int = 0  # rows alike in every column of a digested id (distinct or copies, per config)
    unknown_offence_codes: int = 0
    districts_from_beat: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_id: str | None = None  # one load_feed call; its files in `position` order
    position: int | None = None
    settings_sha256: str | None = None  # beatwise.ingest.skip.settings_digest
    table_digest: str | None = None  # raw.<feed> as this load left it
    future_from: datetime | None = None  # the earliest row held back as dated in the future
    same_as: str | None = None  # an `unchanged` file: the load it repeats
    unknown_offence_code_list: str | None = None  # JSON {code: rows}

    @property
    def rows_loaded(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_unchanged


@dataclass
class FeedLoad:
    feed: str
    files: list[FileLoad] = field(default_factory=list)
    unknown_offence_codes: dict[str, int] = field(default_factory=dict)
    refused: list[FeedError] = field(default_factory=list)  # landing files refused (the run went on)

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def feed_files(config: AgencyConfig, feed: str) -> list[tuple[Path, Feed]]:
    """The feed's configured files, then its landing files (format by suffix, the config's column mapping)."""
    spec = config.feeds.get(feed) or Feed()
    found = [(path, spec) for path in (config.feed_files(feed) if feed in config.feeds else [])]
    landing = paths.landing_dir() / feed
    for path in sorted(landing.glob("*")) if landing.is_dir() else []:
        fmt = format_of(path)
        if fmt and path.is_file():
            found.append((path, spec.model_copy(update={"format": fmt})))
    return found


def _landed(path: Path, feed: str) -> bool:
    return path.parent == paths.landing_dir() / feed


def _root(config: AgencyConfig, feed: str, path: Path) -> Path:
    """The folder a feed file must stay inside: the feed's landing folder, or data_root."""
    return paths.landing_dir() / feed if _landed(path, feed) else config.data_path()


def _outside(path: Path, root: Path | None, feed: str) -> FeedError | None:
    """A file that resolves (through a link) outside its folder is never read, nor digested."""
    if root is None or path.resolve().is_relative_to(root.resolve()):
        return None
    return FeedError(feed, path, f"resolves outside {root.name}/ (a link?): feed files are read from inside "
                     "data_root and the landing folder only", "ingest.paths_inside_data_root")


def load_feed(
    con: duckdb.DuckDBPyConnection, config: AgencyConfig, feed: str, actor: str = "ingest", reload: bool = False
) -> FeedLoad:
    """Load every file of `feed`; its table exists afterwards even when no file has arrived yet.

    The files of the feed's last run that loading again would not change are logged as `unchanged` and not
    read, unless `reload`."""
    contract = CONTRACTS[feed]
    upsert.ensure_tables(con, contract)
    result, refused = FeedLoad(feed), []
    files = feed_files(config, feed)
    run = {"run_id": uuid.uuid4().hex, "settings_sha256": skip.settings_digest(con, config, feed)}
    digests = [_digest(path, _root(config, feed, path), feed) for path, _ in files]
    done = [] if reload else skip.skippable(
        con, feed, [(path.name, sha) for (path, _), sha in zip(files, digests, strict=True)],
        run["settings_sha256"], _now())
    for position, previous in enumerate(done):
        result.files.append(_unchanged(con, feed, previous, actor, run, position, result.unknown_offence_codes))
    for position, (path, spec) in list(enumerate(files))[len(done):]:
        try:
            result.files.append(
                load_file(con, config, feed, path, spec, actor=actor, unknown=result.unknown_offence_codes,
                          root=_root(config, feed, path), run={**run, "position": position},
                          sha256=digests[position])
            )
        except FeedError as exc:
            (result.refused if _landed(path, feed) else refused).append(exc)
    if contract.replace_whole and result.files and not refused:
        # A geometry feed is whatever its current files hold: drop what came from files no longer listed.
        names = [f.file for f in result.files]
        removed = con.execute(
            f"delete from raw.{feed} where _source_file not in ({', '.join('?' * len(names))})", names
        ).fetchall()[0][0]
        if removed:  # the run's last file records the table as the run leaves it
            last = result.files[-1]
            last.table_digest = skip.table_digest(con, feed)
            con.execute("update raw.load_log set table_digest = ? where load_id = ?",
                        [last.table_digest, last.load_id])
    if refused:
        raise (
            refused[0]
            if len(refused) == 1
            else FeedError(feed, refused[0].file, "; ".join(map(str, refused)))
        )
    if feed in ("incidents", "offence_codes"):
        check_loaded_policy(con, config, feed)
    return result


def _digest(path: Path, root: Path | None, feed: str) -> str:
    """sha256 of a feed file's bytes; '' for a file that is missing or resolves outside its folder (never
    read, nor digested)."""
    if not path.is_file() or _outside(path, root, feed):
        return ""
    return audit.file_digest(path)


def _unchanged(con, feed: str, previous: skip.Previous, actor: str, run: dict, position: int,
               unknown: dict[str, int]) -> FileLoad:
    """Log a file of the last run left as it is, with the counts a reload would have given (its unknown
    offence codes added to `unknown`)."""
    now, codes = _now(), json.loads(previous.unknown_offence_code_list or "{}")
    load = FileLoad(
        uuid.uuid4().hex, feed, previous.file, previous.sha256, status="unchanged",
        rows_read=previous.rows_read, rows_unchanged=previous.rows_loaded,
        unknown_offence_codes=sum(codes.values()), started_at=now, finished_at=now,
        position=position, table_digest=previous.table_digest, future_from=previous.future_from,
        same_as=previous.load_id, unknown_offence_code_list=previous.unknown_offence_code_list, **run,
    )
    con.execute("begin")
    upsert.log_load(con, asdict(load))
    audit.append(con, "feed_load", actor, f"raw.{feed}", _audit_payload(load, codes))
    con.execute("commit")
    for code, n in codes.items():
        unknown[code] = unknown.get(code, 0) + n
    return load


def load_file(
    con: duckdb.DuckDBPyConnection,
    config: AgencyConfig,
    feed: str,
    path: Path,
    spec: Feed | None = None,
    actor: str = "ingest",
    unknown: dict[str, int] | None = None,
    root: Path | None = None,
    run: dict | None = None,
    sha256: str | None = None,
) -> FileLoad:
    """Load one file of `feed` (in one transaction); raise FeedError, after logging it, if it is refused
    (also when it resolves outside `root`). `run`: the FileLoad fields of the load_feed call it is part of;
    `sha256`: the file's digest when the caller has it already."""
    contract = CONTRACTS[feed]
    spec = spec or config.feeds[feed]  # type: ignore[index]
    path = Path(path)
    upsert.ensure_tables(con, contract)
    load = FileLoad(
        uuid.uuid4().hex, feed, path.name, _digest(path, root, feed) if sha256 is None else sha256,
        started_at=_now(), **(run or {}),
    )
    try:
        outside = _outside(path, root, feed)
        if outside:
            raise outside
        rows = _read_and_check(con, config, feed, path, spec, load)
    except FeedError as exc:
        if not exc.file:
            exc = FeedError(feed, path, exc.message, exc.rule)
        load.status, load.error, load.finished_at = "refused", str(exc), _now()
        con.execute("begin")
        upsert.log_load(con, asdict(load))
        audit.append(con, "feed_load", actor, f"raw.{feed}", _audit_payload(load))
        con.execute("commit")
        raise exc from None
    frame, quarantined, codes = rows
    con.execute("begin")
    try:
        counts = upsert.upsert(con, contract, frame, path.name, pd.Timestamp(load.started_at))
        if counts.superseded:
            extra = _quarantine_rows(load, contract, frame.set_index("_row"), dict(counts.superseded), None)
            quarantined = pd.concat([quarantined, extra], ignore_index=True)
        load.rows_quarantined = upsert.quarantine(con, quarantined)
        load.rows_inserted, load.rows_updated = counts.inserted, counts.updated
        load.rows_unchanged, load.rows_removed = counts.unchanged, counts.removed
        load.unknown_offence_codes = sum(codes.values())
        load.unknown_offence_code_list = json.dumps(dict(sorted(codes.items()))) if codes else None
        load.table_digest = skip.table_digest(con, feed)
        load.finished_at = _now()
        upsert.log_load(con, asdict(load))
        audit.append(con, "feed_load", actor, f"raw.{feed}", _audit_payload(load, codes))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    if unknown is not None:
        for code, n in codes.items():
            unknown[code] = unknown.get(code, 0) + n
    return load


@dataclass
class MappedFile:
    """One file read through the config's mapping: source columns as read, canonical rows, their rejections."""

    source: pd.DataFrame
    frame: pd.DataFrame
    rejections: validate.Rejections
    malformed: dict[int, str] = field(default_factory=dict)  # rows the reader could not read, and why


def read_mapped(
    config: AgencyConfig,
    feed: str,
    path: Path,
    spec: Feed | None = None,
    limit: int | None = None,
    fields: list[str] | None = None,
) -> MappedFile:
    """Read one file of `feed`, refuse personal data, and map it onto the contract's canonical columns.

    The one path from a file to canonical rows: ingest, `config check` (with `limit`), the forecast
    command and geography read every feed through it. `fields` reads only those canonical fields (and
    the position), the others left empty: the forecast command's incidents. Raises FeedError for a file
    refused whole."""
    contract = CONTRACTS[feed]
    spec = spec or config.feeds[feed]  # type: ignore[index]
    if fields is not None:
        keep = {*fields, *canonical.POSITION}
        spec = spec.model_copy(update={"columns": {k: v for k, v in spec.columns.items() if k in keep}})
    fmt = format_of(path) or spec.format or "csv"
    found = read.source_columns(path, fmt, feed, spec.encoding, spec.layer)
    forbidden = policy.forbidden_columns(found, spec.not_personal, places=feed in policy.PLACE_FEEDS)
    if forbidden and spec.on_personal_data == "refuse":
        column, rule = next(iter(forbidden.items()))
        others = f" (also: {', '.join(list(forbidden)[1:])})" if len(forbidden) > 1 else ""
        raise FeedError(
            feed,
            path,
            f"column {column!r} is personal or protected data and may not be stored"
            f"{others}; set on_personal_data: drop to load the file without it",
            rule,
        )
    allowed = [c for c in found if c not in forbidden]
    try:
        needed = canonical.required_source_columns(feed, spec, contract, allowed)
    except read.FeedError as exc:  # name the file the columns are missing from
        raise read.FeedError(feed, path, exc.message, exc.rule) from None
    polygons = fmt in POLYGON_FORMATS
    if polygons:
        needed.append(read.GEOMETRY)
    source = read.read_source(
        path, fmt, feed, spec.encoding, columns=None if polygons else needed, layer=spec.layer, limit=limit
    )
    malformed = source.attrs.get("malformed", {})
    source = source[[c for c in source.columns if c in needed]]  # forbidden columns never go further
    source = source.drop(index=list(malformed))  # row numbers stay those of the file
    rejections = validate.Rejections()
    frame = canonical.to_canonical(source, feed, spec, contract, config, path, rejections)
    return MappedFile(source, frame, rejections, malformed)


def _read_and_check(con, config: AgencyConfig, feed: str, path: Path, spec: Feed, load: FileLoad):
    """Read, guard, map and validate one file: (rows to upsert, rows to quarantine, unknown offence codes)."""
    contract = CONTRACTS[feed]
    mapped = read_mapped(config, feed, path, spec)
    source, frame, rejections = mapped.source, mapped.frame, mapped.rejections
    load.rows_read = len(source) + len(mapped.malformed)
    load.identical_rows = frame.attrs.get("identical_rows", 0)
    if feed == "incidents" and table_exists(con, "raw", "beats"):
        beats = con.execute("select vintage, beat, district, valid_from, valid_to from raw.beats").df()
        load.districts_from_beat = canonical.fill_district_from_beats(frame, beats)
    merged = validate.merge_geometry_parts(frame, contract)
    frame = frame.drop(index=merged)
    load.rows_merged = len(merged)
    validate.check_contract(frame, contract, rejections)
    load.future_from = validate.check_dates(frame, contract, load.started_at, config.records_start, rejections)
    cells = validate.jurisdiction_cells(con) if contract.located else None
    validate.check_jurisdiction(frame, contract, cells, config.grid.cell_size, rejections)
    validate.check_duplicates(frame, contract, rejections)
    good = frame.drop(index=rejections.rows)
    codes = validate.unknown_offence_codes(good, con) if feed == "incidents" else {}
    quarantined = _quarantine_rows(
        load,
        contract,
        frame,
        {i: rejections.reason(i) for i in rejections.rows},
        source.drop(columns=[read.GEOMETRY], errors="ignore"),
    )
    if mapped.malformed:
        quarantined = pd.concat([_unreadable_rows(load, mapped.malformed), quarantined], ignore_index=True)
    return good.assign(_row=good.index), quarantined, codes


def _unreadable_rows(load: FileLoad, malformed: dict[int, str]) -> pd.DataFrame:
    """raw.quarantine rows for rows the reader could not read: the reason holds a short excerpt only."""
    return pd.DataFrame(
        {
            "load_id": load.load_id,
            "feed": load.feed,
            "source_file": load.file,
            "row_number": [i + 1 for i in malformed],
            "natural_key": None,
            "reason": list(malformed.values()),
            "record": "{}",
            "quarantined_at": load.started_at,
        }
    )


def _quarantine_rows(
    load: FileLoad, contract, frame: pd.DataFrame, reasons: dict[int, str], source: pd.DataFrame | None
) -> pd.DataFrame:
    """raw.quarantine rows: the record as the source had it (or canonical), with its 1-based row number."""
    index = list(reasons)
    records = (source if source is not None else frame[contract.columns]).loc[index]
    records = records.astype(object).where(records.notna(), None)  # missing is JSON null, not NaN
    keys = frame.loc[index, list(contract.natural_key)].astype(str).agg("|".join, axis=1) if index else []
    return pd.DataFrame(
        {
            "load_id": load.load_id,
            "feed": load.feed,
            "source_file": load.file,
            "row_number": [i + 1 for i in index],
            "natural_key": list(keys),
            "reason": [reasons[i] for i in index],
            "record": [audit.canonical_json(r) for r in records.to_dict("records")],
            "quarantined_at": load.started_at,
        }
    )


def _audit_payload(load: FileLoad, codes: dict[str, int] | None = None) -> dict:
    skipped = ("started_at", "finished_at", "unknown_offence_code_list")
    payload = {k: v for k, v in asdict(load).items() if k not in skipped}
    if codes:
        payload["unknown_offence_code_list"] = dict(sorted(codes.items()))
    return payload
