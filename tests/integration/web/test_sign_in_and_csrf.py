"""Signing in, the session, CSRF: a page needs a signed-in user, a wrong password says nothing of which part
was wrong, a form without the session's token is refused and changes nothing, and roles gate actions."""

from __future__ import annotations

from tests.integration.web.conftest import PASSWORD

from onboardflow.web.security import SESSION_COOKIE

PAGES = ["/journeys", "/journeys/first-purchase-welcome", "/simulate", "/escalations", "/customers",
         "/settings"]


def test_every_page_sends_a_stranger_to_sign_in_and_back(web):
    for path in PAGES:
        answer = web.client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"


def test_a_wrong_password_or_unknown_email_is_refused_without_saying_which(web):
    wrong = web.sign_in(password="not the password")
    unknown = web.sign_in(email="nobody@shop.example")

    assert wrong.status_code == unknown.status_code == 400
    assert "do not match an enabled user" in wrong.text
    assert web.client.get("/journeys", follow_redirects=False).status_code == 303


def test_signing_in_opens_every_page_and_signing_out_closes_them(web):
    answer = web.sign_in()

    assert answer.status_code == 303 and answer.headers["location"] == "/journeys"
    assert answer.cookies.get(SESSION_COOKIE) or web.client.cookies.get(SESSION_COOKIE)
    for path in PAGES:
        page = web.client.get(path)
        assert page.status_code == 200, path
        assert "admin@shop.example" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in page.headers["content-security-policy"]
    assert web.post("/logout", follow_redirects=False).status_code == 303
    assert web.client.get("/journeys", follow_redirects=False).status_code == 303


def test_sign_in_goes_back_only_to_a_page_of_this_site(web):
    token = web.token()
    for target, landing in [("/escalations?status=open", "/escalations?status=open"),
                            ("//evil.example/", "/journeys"), ("https://evil.example/", "/journeys")]:
        web.client.cookies.clear()
        token = web.token()
        form = {"email": "admin@shop.example", "password": PASSWORD, "csrf_token": token, "next": target}
        answer = web.client.post("/login", data=form, follow_redirects=False)
        assert answer.headers["location"] == landing


def test_a_forged_form_without_the_session_token_is_refused_and_changes_nothing(signed_in):
    keys_before = signed_in.store.api_keys()

    forged = signed_in.client.post("/settings/keys", data={"name": "evil", "scopes": "admin"})
    wrong = signed_in.client.post("/settings/keys",
                                  data={"name": "evil", "scopes": "admin", "csrf_token": "x" * 43})
    header = signed_in.client.post("/settings/keys", data={"name": "evil"}, headers={"X-CSRF-Token": "nope"})

    assert forged.status_code == wrong.status_code == header.status_code == 403
    assert "reload the page" in forged.text
    assert signed_in.store.api_keys() == keys_before


def test_the_token_in_the_htmx_header_is_taken(signed_in):
    token = signed_in.token("/journeys")

    answer = signed_in.client.post("/settings/keys", data={"name": "storefront", "scopes": "ingest"},
                                   headers={"X-CSRF-Token": token, "HX-Request": "true"})

    assert answer.status_code == 200
    assert [key.name for key in signed_in.store.api_keys()] == ["storefront"]


def test_sign_in_itself_needs_the_token_of_the_login_page(web):
    answer = web.client.post("/login", data={"email": "admin@shop.example", "password": PASSWORD})

    assert answer.status_code == 403
    assert web.client.get("/journeys", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_signed_out_at_their_next_page(signed_in):
    from onboardflow.governance.people import set_disabled

    set_disabled(store=signed_in.store, email="admin@shop.example", disabled=True)

    assert signed_in.client.get("/journeys", follow_redirects=False).status_code == 303


def test_an_action_needs_its_role(web):
    web.sign_in("author@shop.example")

    refused = web.post("/settings/keys", {"name": "storefront", "scopes": "ingest"})
    pause = web.post("/journeys/first-purchase-welcome/pause")

    assert refused.status_code == pause.status_code == 403
    assert "needs the 'admin' role" in refused.text
    assert web.store.api_keys() == []
    assert not web.store.journeys()[0].is_paused
