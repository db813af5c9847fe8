"""The sign-in harness (tests/oidc.py) end to end: oidc-provider-mock, a tiny st.login() app
(tests/artifacts/oidc_demo_app.py), headless Chromium; sign in with a group, sign out."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from oidc import (
    app_url,
    free_port,
    oidc_provider,
    sign_in,
    sign_out,
    start_streamlit,
    stop,
    write_secrets,
)

CHROMIUM = os.environ.get("ARLENS_CHROMIUM", "/usr/bin/chromium")
DEMO_APP = Path(__file__).parent / "artifacts" / "oidc_demo_app.py"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),  # the mock, Authlib 1.9
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(
        importlib.util.find_spec("oidc_provider_mock") is None,
        reason="oidc-provider-mock is not installed (requirements-test.txt)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("authlib") is None,
        reason="Authlib is not installed (st.login needs it; requirements.txt)",
    ),
    pytest.mark.skipif(not DEMO_APP.exists(), reason=f"no demo app at {DEMO_APP}"),
]


def test_sign_in_with_groups_then_sign_out(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with oidc_provider() as issuer:
        port = free_port()
        secrets = write_secrets(tmp_path, issuer, port)
        process = start_streamlit(DEMO_APP, port, secrets, [], None, tmp_path / "app.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking"],
                )  # fmt: skip
                page = browser.new_page()
                base = app_url(port)
                page.goto(base)
                sign_in(page, base, "cara@example.com", ["ar-collectors"], name="Cara Collector")

                main = page.locator("[data-testid=stMain]")
                expect(main).to_contain_text("Signed in as cara@example.com")
                expect(main).to_contain_text("Groups: ar-collectors")
                user = json.loads(page.locator("[data-testid=stCode] code").inner_text())
                assert user["email"] == user["sub"] == "cara@example.com"
                assert user["name"] == "Cara Collector"
                assert user["groups"] == ["ar-collectors"]
                assert user["iss"] == issuer and user["is_logged_in"] is True

                sign_out(page)
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                expect(main).not_to_contain_text("cara@example.com")
                browser.close()
        finally:
            stop(process)
