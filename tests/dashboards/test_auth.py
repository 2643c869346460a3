"""Login and roles: nothing but the login page without a session; each role sees and does what it may."""

from __future__ import annotations

import bcrypt
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboards import auth, overrides
from tests.dashboards.conftest import APP, PASSWORDS, logged_in


def test_default_users_have_hashed_passwords_and_one_role_each():
    config = yaml.safe_load(auth.users_file().read_text())
    users = config["credentials"]["usernames"]
    assert {u["roles"][0] for u in users.values()} == set(auth.ROLES)
    for name, user in users.items():
        assert user["password"].startswith("$2b$")
        assert bcrypt.checkpw(PASSWORDS[name].encode(), user["password"].encode())


def test_without_a_session_only_the_login_page_runs(serving_snapshot):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert [t.value for t in at.title] == ["beatwise"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    # Without a session the navigation registers the login page only: no other page can be reached.
    with pytest.raises(ValueError, match=r"Known pages: \['Log in'\]"):
        at.switch_page("pages/missions.py")


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
        logged_in("analyst").switch_page("pages/audit_log.py")
    # Run the page directly, as if reached some other way, with an analyst's session.
    page = AppTest.from_file(str(APP.parent / "pages" / "audit_log.py"), default_timeout=60)
    page.session_state["authentication_status"] = True
    page.session_state["username"] = "analyst"
    page.session_state["roles"] = ["analyst"]
    page.run()
    assert [e.value for e in page.error] == ["The analyst role may not open this page."]
    assert not page.title
    page.session_state["authentication_status"] = None
    page.run()
    assert [w.value for w in page.warning] == ["Please log in."]


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_only_analysts_and_supervisors_may_override(role, tmp_path):
    user = auth.User(role, role, role)
    with pytest.raises(overrides.OverrideRefused, match=role):
        overrides.submit(user, "suppress", "looks wrong", mission_id="m1")
    assert auth.User("a", "a", "analyst").can_override and auth.User("s", "s", "supervisor").can_override
