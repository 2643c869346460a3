"""The beatwise dashboards: `streamlit run dashboards/app.py` (or `beatwise ui`).

Without a session the app has one page, the login. The page scripts live in `views/`, not `pages/`: a
`pages/` folder beside the app switches Streamlit to its old folder-based navigation, which runs a deep
link's page file before the app's login and navigation. After login, the navigation lists the pages the
user's role may open; every page also checks the role itself (auth.guard).
"""

from __future__ import annotations

import streamlit as st

from beatwise import paths
from dashboards import auth, data
from dashboards.catalog import OPERATIONS_PAGES, PAGES, SIMULATED

st.set_page_config(page_title="beatwise", page_icon=":material/local_police:", layout="wide")

try:
    authenticator = auth.authenticator(data.login_is_demo())
except auth.CookieKeyRefused as exc:
    st.error(str(exc))
    st.stop()
st.session_state["_authenticator"] = authenticator
user = auth.current_user()

if user is None:
    # Every page's address leads to the login, so a deep link lands where it points once signed in.
    login = [st.Page(auth.login_page, title="Log in", icon=":material/login:", default=True)]
    login += [st.Page(auth.login_page, title=title, url_path=stem) for stem, (_, title, _) in PAGES.items()]
    st.navigation(login, position="hidden").run()
else:
    if data.deployment_file() is not None:  # many agencies: the user opens one of theirs, never another's
        theirs = [a.slug for a in data.user_agencies(user.username)]
        if not theirs:
            st.error(f"{user.name} belongs to no agency of this deployment (user store: `agencies`).")
            st.stop()
        if st.session_state.get("agency") not in theirs:
            st.session_state["agency"] = theirs[0]
        if len(theirs) > 1:
            st.sidebar.selectbox("Agency", theirs, key="agency")
        # Every path of this run (snapshot, briefings, override inbox, keys) is the open agency's.
        paths.set_context_home(data.current_agency().home)
    sections: dict[str, list[st.Page]] = {}
    for stem in auth.allowed_pages(user):
        section, title, icon = PAGES[stem]
        sections.setdefault(section, []).append(
            st.Page(f"views/{stem}.py", title=title, icon=icon, url_path=stem)
        )
    page = st.navigation(sections, expanded=True)  # every page listed: collapsed, the menu hides those past ten
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        if data.deployment_file() is not None:
            st.caption(f"Agency: **{data.agency_config().agency.name}**")
        authenticator.logout("Log out", location="sidebar", key="logout")
    # By title: the default page's url_path is "" (titles are unique in the catalogue).
    stem = next(stem for stem, (_, title, _) in PAGES.items() if title == page.title)
    if stem in OPERATIONS_PAGES and data.simulated_operations():
        st.warning(SIMULATED, icon=":material/science:")
    page.run()
