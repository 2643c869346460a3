"""Login and roles: streamlit-authenticator over a YAML file of users with bcrypt-hashed passwords.

Every page calls `guard()` first: without a session only the login page exists, and a page whose roles
exclude the user stops with a message. Who may do what is decided here, in one table.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
import yaml

from beatwise import paths

ROLES = ("analyst", "supervisor", "auditor", "admin")
ALL = frozenset(ROLES)
# Only these may add or suppress missions; auditors read everything and change nothing.
OVERRIDE_ROLES = frozenset({"analyst", "supervisor"})

# Page file stem -> roles that may open it.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "missions": ALL,
    "risk_map": ALL,
    "briefings": ALL,
    "shift_report": ALL,
    "tactic_report": ALL,
    "officer_report": ALL,
    "crime_type_report": ALL,
    "crime_dosage": ALL,
    "commander_summary": ALL,
    "model_performance": ALL,
    "exposure": ALL,
    "audit_log": frozenset({"supervisor", "auditor", "admin"}),
    "data_health": ALL,
}


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str

    @property
    def can_override(self) -> bool:
        return self.role in OVERRIDE_ROLES


def users_file() -> Path:
    """$BEATWISE_USERS, else the default install's config/users.yaml."""
    return Path(os.environ.get("BEATWISE_USERS") or paths.PROJECT_ROOT / "config" / "users.yaml")


@lru_cache(maxsize=4)
def _users(path: Path, mtime_ns: int) -> dict:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for username, user in config["credentials"]["usernames"].items():
        roles = user.get("roles") or []
        if len(roles) != 1 or roles[0] not in ROLES:
            raise ValueError(f"{path}: user {username!r} must have exactly one role of {', '.join(ROLES)}")
    return config


def authenticator() -> stauth.Authenticate:
    """The authenticator for this run of the script (it renders the cookie component, so once per run)."""
    path = users_file()
    config = copy.deepcopy(_users(path, path.stat().st_mtime_ns))
    cookie = config["cookie"]
    # A dict, not the path: given a path, the library writes login state back into the users file.
    return stauth.Authenticate(
        config["credentials"],
        cookie["name"],
        os.environ.get("BEATWISE_COOKIE_KEY") or cookie["key"],
        float(cookie.get("expiry_days", 1)),
        auto_hash=False,
    )


def current_user() -> User | None:
    """The logged-in user of this session, or None."""
    state = st.session_state
    if not state.get("authentication_status") or not state.get("username"):
        return None
    roles = state.get("roles") or []
    role = roles[0] if roles and roles[0] in ROLES else None
    if role is None:
        return None
    return User(state["username"], state.get("name") or state["username"], role)


def login_page() -> None:
    """The only page without a session."""
    st.title("beatwise")
    st.caption("Directed-patrol planning: sign in to see the shift's missions, risk maps and reports.")
    st.session_state["_authenticator"].login(location="main", key="login")
    if st.session_state.get("authentication_status") is False:
        st.error("Username or password is incorrect.")
    elif current_user() is not None:
        st.rerun()


def guard(page_file: str) -> User:
    """Stop the page unless a user is logged in and their role may open it; return the user."""
    user = current_user()
    if user is None:
        st.warning("Please log in.")
        st.stop()
    allowed = PAGE_ROLES.get(Path(page_file).stem, frozenset())
    if user.role not in allowed:
        st.error(f"The {user.role} role may not open this page.")
        st.stop()
    return user


def allowed_pages(user: User) -> list[str]:
    """Page stems this user may open, in catalogue order."""
    return [stem for stem, roles in PAGE_ROLES.items() if user.role in roles]
