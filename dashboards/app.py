"""The beatwise dashboards: `streamlit run dashboards/app.py` (or `beatwise ui`).

Without a session the app has one page, the login. After login, the navigation lists the pages the
user's role may open; every page also checks the role itself (auth.guard).
"""

from __future__ import annotations

import streamlit as st

from dashboards import auth

st.set_page_config(page_title="beatwise", page_icon=":material/local_police:", layout="wide")

# Page file stem -> (section, title, icon). The roles for each are in auth.PAGE_ROLES.
PAGES = {
    "missions": ("Shift", "Missions", ":material/flag:"),
    "risk_map": ("Shift", "Risk map", ":material/map:"),
    "briefings": ("Shift", "Briefings", ":material/description:"),
    "shift_report": ("Reports", "Shift report", ":material/schedule:"),
    "tactic_report": ("Reports", "Tactic report", ":material/directions_walk:"),
    "officer_report": ("Reports", "Officer report", ":material/badge:"),
    "crime_type_report": ("Reports", "Crime type report", ":material/category:"),
    "crime_dosage": ("Reports", "Crime & dosage", ":material/insights:"),
    "commander_summary": ("Reports", "Commander's summary", ":material/summarize:"),
    "model_performance": ("Oversight", "Model performance", ":material/monitoring:"),
    "exposure": ("Oversight", "Exposure and fairness", ":material/balance:"),
    "audit_log": ("Oversight", "Audit log", ":material/verified:"),
    "data_health": ("Oversight", "Data health", ":material/health_and_safety:"),
}

st.session_state["_authenticator"] = authenticator = auth.authenticator()
user = auth.current_user()

if user is None:
    st.navigation([st.Page(auth.login_page, title="Log in", icon=":material/login:")]).run()
else:
    sections: dict[str, list[st.Page]] = {}
    for stem in auth.allowed_pages(user):
        section, title, icon = PAGES[stem]
        sections.setdefault(section, []).append(
            st.Page(f"pages/{stem}.py", title=title, icon=icon, url_path=stem)
        )
    page = st.navigation(sections)
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        authenticator.logout("Log out", location="sidebar", key="logout")
    page.run()
