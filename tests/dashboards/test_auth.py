"""Login and roles: nothing but the login page without a session; each role sees and does what it may."""

from __future__ import annotations

import bcrypt
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from beatwise import users as user_store
from dashboards import auth
from tests.dashboards.conftest import APP, PASSWORDS, logged_in


def test_default_users_have_hashed_passwords_and_one_role_each():
    config = yaml.safe_load(user_store.users_file().read_text())
    users = config["credentials"]["usernames"]
    assert {u["roles"][0] for u in users.values()} == set(user_store.ROLES)
    for name, user in users.items():
        assert user["password"].startswith("$2b$")
        assert bcrypt.checkpw(PASSWORDS[name].encode(), user["password"].encode())


def test_without_a_session_only_the_login_page_runs(serving_snapshot):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert [t.value for t in at.title] == ["beatwise"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    # Without a session every address shows the login; no page file can be reached.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/missions.py")


def test_a_wrong_password_is_refused(serving_snapshot):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input[0].input("analyst")
    at.text_input[1].input("not-the-password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert auth.current_user() is None or at.session_state["authentication_status"] is False


def test_login_shows_the_user_and_role(serving_snapshot):
    at = logged_in("supervisor")
    assert any("Demo Supervisor" in c.value and "(supervisor)" in c.value for c in at.sidebar.caption)


def test_pages_outside_a_role_are_not_listed_and_check_the_role_themselves(serving_snapshot):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        logged_in("analyst").switch_page("views/audit_log.py")
    # Run the page directly, as if reached some other way, with an analyst's session.
    page = AppTest.from_file(str(APP.parent / "views" / "audit_log.py"), default_timeout=60)
    page.session_state["authentication_status"] = True
    page.session_state["username"] = "analyst"
    page.session_state["roles"] = ["analyst"]
    page.run()
    assert [e.value for e in page.error] == ["The analyst role may not open this page."]
    assert not page.title
    page.session_state["authentication_status"] = None
    page.run()
    assert [w.value for w in page.warning] == ["Please log in."]


def test_only_analysts_and_supervisors_may_override():
    # The dashboard signs what the user asks; the planner refuses other roles (tests/models/planning/
    # test_override_roles.py runs every path and role through it).
    assert auth.User("a", "a", "analyst").can_override and auth.User("s", "s", "supervisor").can_override
    assert not auth.User("x", "x", "auditor").can_override and not auth.User("x", "x", "admin").can_override
    assert auth.User("s", "s", "supervisor").can_approve and not auth.User("a", "a", "analyst").can_approve


def test_the_demo_cookie_key_is_refused_outside_the_demo(monkeypatch):
    monkeypatch.delenv("BEATWISE_COOKIE_KEY", raising=False)
    demo = {"name": "beatwise_session", "key": auth.DEMO_COOKIE_KEY}
    assert auth.cookie_key(demo, is_demo=True) == auth.DEMO_COOKIE_KEY
    with pytest.raises(auth.CookieKeyRefused, match="BEATWISE_COOKIE_KEY"):
        auth.cookie_key(demo, is_demo=False)
    monkeypatch.setenv("BEATWISE_COOKIE_KEY", "an-agency-secret-of-some-length")
    assert auth.cookie_key(demo, is_demo=False) == "an-agency-secret-of-some-length"


def test_the_app_refuses_to_start_for_a_real_agency_with_the_demo_key(serving_snapshot, monkeypatch):
    monkeypatch.delenv("BEATWISE_COOKIE_KEY", raising=False)
    monkeypatch.setenv("BEATWISE_CONFIG", str(APP.parents[1] / "config" / "chicago.yaml"))  # no demo: block
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert any("refusing the demo's cookie key outside the demo" in e.value for e in at.error)
    assert not at.text_input  # no login form

