"""Load and validate an agency configuration, reporting every problem with its place in the file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from beatwise.config.schema import AgencyConfig
from beatwise.policy import check_crime_type_mappings


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        place = f"line {self.line}, " if self.line else ""
        return f"{place}{self.path or '(top level)'}: {self.message}"


class ConfigError(ValueError):
    """A configuration that beatwise refuses; `problems` says what and where."""

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


def _line_index(node: yaml.Node, prefix: tuple = ()) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line number."""
    index = {prefix: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            index.update(_line_index(value, (*prefix, key.value)))
            index[(*prefix, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.update(_line_index(item, (*prefix, i)))
    return index


_ENV = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand_env(text: str) -> str:
    return _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), text)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(index: dict[tuple, int], path: tuple) -> int | None:
    while path:
        key = tuple(str(p) if not isinstance(p, int) else p for p in path)
        if key in index:
            return index[key]
        path = path[:-1]
    return index.get(())


def _offence_lookup(raw: dict, base_dir: Path) -> dict[str, str]:
    """Offence code -> name from the offence_codes feed, so that codes can be checked by policy."""
    from beatwise.contracts import normalise_offence_code
    from beatwise.ingest.read import FeedError, format_of, read_source

    feeds = raw.get("feeds")
    feed = (feeds.get("offence_codes") if isinstance(feeds, dict) else None) or {}
    if not isinstance(feed, dict):
        return {}  # the schema reports a malformed feed
    files, columns = feed.get("files") or [], feed.get("columns") or {}
    if not isinstance(files, list) or not isinstance(columns, dict):
        return {}
    code_col, name_col = columns.get("offence_code"), columns.get("offence_name")
    if not files or not isinstance(code_col, str) or not isinstance(name_col, str):
        return {}
    root = (base_dir / _expand_env(str(raw.get("data_root", ".")))).resolve()
    path = (root / str(files[0])).resolve()
    if not path.is_relative_to(root):
        return {}  # a path outside data_root is refused by the schema, never read
    try:
        rows = read_source(path, format_of(path) or "csv", "offence_codes", feed.get("encoding", "utf-8"))
    except FeedError:
        return {}  # config check reports an unreadable file on its own
    if code_col not in rows or name_col not in rows:
        return {}
    return {normalise_offence_code(c) or "": str(n or "") for c, n in zip(rows[code_col], rows[name_col],
                                                                          strict=True)}


def _valid_crs(raw: dict) -> str | None:
    from beatwise.config.units import projected_crs

    try:
        projected_crs(str(raw.get("crs")))
    except ValueError:
        return None
    return str(raw.get("crs"))


def _key_path(dotted: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", dotted) if p)


def config_line(path: str | os.PathLike, dotted: str) -> str:
    """'file:line' of a dotted key ('feeds.incidents.columns.x') in a config file, or in the file it
    extends when the key is not in the file itself; the nearest enclosing key's line when absent."""
    path = Path(path)
    files = [path]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(raw, dict) and raw.get("extends"):
            files.append(path.parent / str(raw["extends"]))
        key = _key_path(dotted)
        best = None
        for file in files:
            node = yaml.compose(file.read_text(encoding="utf-8"))
            if node is None:
                continue
            index = _line_index(node)
            for depth in range(len(key), 0, -1):
                found = index.get(tuple(str(p) if not isinstance(p, int) else p for p in key[:depth]))
                if found is not None and (best is None or depth > best[0]):
                    best = (depth, f"{file}:{found}")
                    break
        return best[1] if best else str(path)
    except (OSError, yaml.YAMLError):
        return str(path)


def parse_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> AgencyConfig:
    """Validate configuration text; raise ConfigError listing every problem with its line."""
    base_dir = base_dir or Path(".")
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = ConfigProblem("", mark.line + 1 if mark else None, f"not valid YAML: {exc}")
        raise ConfigError(source, [problem]) from exc
    if not isinstance(raw, dict) or node is None:
        raise ConfigError(source, [ConfigProblem("", 1, "the file must be a YAML mapping")])
    index = _line_index(node)

    problems: list[ConfigProblem] = []
    crime_types = raw.get("crime_types") if isinstance(raw.get("crime_types"), dict) else {}
    signal = raw.get("signal_offences") if isinstance(raw.get("signal_offences"), dict) else {}
    for violation in check_crime_type_mappings(crime_types, _offence_lookup(raw, base_dir), signal):
        path = _key_path(violation.where)
        problems.append(ConfigProblem(violation.where, _line_for(index, path),
                                      f"{violation.message} [{violation.rule}]"))

    config = None
    try:
        if "data_root" in raw:
            raw["data_root"] = _expand_env(str(raw["data_root"]))
        # Distances are converted with the CRS's unit; a file must state every distance's unit.
        config = AgencyConfig.model_validate({**raw, "base_dir": base_dir}, context={"crs": _valid_crs(raw)})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            # Policy problems about crime type names were reported above, more clearly.
            if loc[:1] == ("crime_types",) and err["type"] == "literal_error" and len(loc) >= 3:
                continue
            problems.append(ConfigProblem(_dotted(loc), _line_for(index, loc), err["msg"]))
    if problems:
        raise ConfigError(source, problems)
    assert config is not None
    return config


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _config_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [ConfigProblem("", None, f"not UTF-8 text (byte {exc.start})")]) from exc
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem("", None, f"cannot be read ({exc.strerror})")]) from exc


def load_config(path: str | os.PathLike) -> AgencyConfig:
    """Read and validate an agency configuration file.

    A file may start from another with `extends: other.yaml` (relative to it) and override any part;
    mappings merge key by key, anything else is replaced.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(str(path), [ConfigProblem("", None, "file not found")])
    text = _config_text(path)
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        raw = None  # parse_config reports it with its line
    if isinstance(raw, dict) and "extends" in raw:
        parent = path.parent / str(raw.pop("extends"))
        if not parent.is_file():
            raise ConfigError(str(path), [ConfigProblem("extends", 1, f"{parent} not found")])
        try:
            parent_raw = yaml.safe_load(_config_text(parent)) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(str(path), [ConfigProblem("extends", 1, f"{parent.name} is not valid YAML")]) from exc
        if not isinstance(parent_raw, dict):
            raise ConfigError(str(path), [ConfigProblem("extends", 1, f"{parent.name} is not a YAML mapping")])
        parent_raw.pop("extends", None)
        # Line numbers then refer to the merged document, so say which file each came from.
        text = yaml.safe_dump(_merge(parent_raw, raw), sort_keys=False)
        return parse_config(text, f"{path} (extending {parent.name})", path.parent.resolve())
    return parse_config(text, str(path), path.parent.resolve())
