"""The user store (config/users.yaml, or $BEATWISE_USERS): who the dashboard users are, their roles and, in a
deployment serving many agencies, the agencies each belongs to (`agencies: [slug, ...]`).

The dashboards log users in against it, and the planner checks every override's user and role against it
when it applies one, whatever path the override came by. Who may do what is decided here, in one place.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import bcrypt
import yaml

from beatwise import paths

ROLES = ("analyst", "supervisor", "auditor", "admin")
# Only these may add or suppress missions; auditors read everything and change nothing.
OVERRIDE_ROLES = frozenset({"analyst", "supervisor"})
# Where the config requires approval, these approve analysts' overrides.
APPROVER_ROLES = frozenset({"supervisor"})


class UserStoreError(ValueError):
    """The user store is missing or malformed."""


def users_file() -> Path:
    """$BEATWISE_USERS, else the default install's config/users.yaml."""
    return Path(os.environ.get("BEATWISE_USERS") or paths.PROJECT_ROOT / "config" / "users.yaml")


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> dict:
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        users = config["credentials"]["usernames"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise UserStoreError(f"{path}: not a readable user store (credentials.usernames): {exc}") from exc
    for username, user in users.items():
        roles = (user or {}).get("roles") or []
        if len(roles) != 1 or roles[0] not in ROLES:
            raise UserStoreError(f"{path}: user {username!r} must have exactly one role of {', '.join(ROLES)}")
        agencies = (user or {}).get("agencies", [])
        if not isinstance(agencies, list) or not all(isinstance(a, str) and a for a in agencies):
            raise UserStoreError(f"{path}: user {username!r}: agencies must be a list of agency slugs")
    return config


def store() -> dict:
    """The parsed user store (streamlit-authenticator's format), re-read when the file changes."""
    path = users_file()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise UserStoreError(f"{path}: the user store does not exist") from exc
    return _load(path, mtime)


def role_of(username: str) -> str | None:
    """The stored role of `username`, or None for a user the store does not know."""
    user = store()["credentials"]["usernames"].get(username)
    return user["roles"][0] if user else None


def agencies_of(username: str) -> tuple[str, ...]:
    """The agencies (slugs) whose dashboards `username` may open in a deployment; empty for a user the store
    does not know or who belongs to none."""
    user = store()["credentials"]["usernames"].get(username)
    return tuple((user or {}).get("agencies") or ())


def check_password(username: str, password: str) -> bool:
    user = store()["credentials"]["usernames"].get(username)
    if not user or not password:
        return False
    return bcrypt.checkpw(password.encode("utf-8"), str(user["password"]).encode("utf-8"))
