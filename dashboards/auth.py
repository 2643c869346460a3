"""Login and roles: streamlit-authenticator over a YAML file of users with bcrypt-hashed passwords.

Every page calls `guard()` first: without a session only the login page exists, and a page whose roles
exclude the user stops with a message. Who may do what is decided here, in one table.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth

from beatwise.users import APPROVER_ROLES, OVERRIDE_ROLES, ROLES, store

ALL = frozenset(ROLES)
# The cookie key of the demo's users file: accepted only when the configured agency is the demo.
DEMO_COOKIE_KEY = "change-me-beatwise-demo-cookie-key"

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

    @property
    def can_approve(self) -> bool:
        return self.role in APPROVER_ROLES


class CookieKeyRefused(RuntimeError):
    """Outside the demo, the session cookie must be signed with a key of the agency's own."""


def cookie_key(cookie: dict, is_demo: bool) -> str:
    """$BEATWISE_COOKIE_KEY, else the users file's key; the demo's published key only in the demo."""
    key = os.environ.get("BEATWISE_COOKIE_KEY") or cookie.get("key") or ""
    if key == DEMO_COOKIE_KEY and not is_demo:
        raise CookieKeyRefused(
            "refusing the demo's cookie key outside the demo (anyone can forge a session with it): "
            "set BEATWISE_COOKIE_KEY to a long random secret, e.g. `python -c \"import secrets; "
            "print(secrets.token_urlsafe(32))\"`")
    if len(key) < 16:
        raise CookieKeyRefused("the cookie key (BEATWISE_COOKIE_KEY or cookie.key) must be at least 16 characters")
    return key


def authenticator(is_demo: bool) -> stauth.Authenticate:
    """The authenticator for this run of the script (it renders the cookie component, so once per run)."""
    config = copy.deepcopy(store())
    cookie = config["cookie"]
    # A dict, not the path: given a path, the library writes login state back into the users file.
    return stauth.Authenticate(
        config["credentials"],
        cookie["name"],
        cookie_key(cookie, is_demo),
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
