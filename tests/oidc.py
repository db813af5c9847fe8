"""End-to-end sign-in harness: Streamlit's built-in OpenID Connect login (`st.login()`,
`st.user`, `st.logout()`) against a local OpenID provider, oidc-provider-mock (PyPI).

    with oidc_provider() as issuer:
        port = free_port()
        secrets = write_secrets(tmp_path, issuer, port)
        process = start_streamlit(script, port, secrets, [], None, tmp_path / "app.log")
        try:
            page.goto(app_url(port))
            sign_in(page, app_url(port), "cara@example.com", ["ar-collectors"], "Cara")
            ...
            sign_out(page)
        finally:
            stop(process)

How the mock works (oidc_provider_mock 0.3): any client id and secret are accepted (no
registration unless `require_client_registration=True`); its authorization page is a form with
one field, `sub`, and an "Authorize" button. A user's claims are whatever was last `PUT
/users/<sub>` (a JSON object); a `sub` never put gets just `{"email": sub}`. Standard claims
(`email`, `name`, ...) reach the ID token only under their scope (`email`, `profile`); any
other claim (`groups`) always does. Streamlit's `st.user` is the ID token's claims.

The app must be opened at `app_url(port)` (host `localhost`, the host of `redirect_uri`):
Streamlit sets its auth cookies for the host the browser used and accepts them only when the
page's origin equals the origin of `redirect_uri`.
"""

from __future__ import annotations

import os
import secrets as random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

APP_HOST = "localhost"  # the host in redirect_uri; open the app under this host, nothing else
CLIENT_ID = "arlens-tests"
CLIENT_SECRET = "arlens-tests-secret"  # the mock accepts any id and secret
STREAMLIT = Path(sys.executable).with_name("streamlit")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_url(port: int) -> str:
    """The app's base URL, under the host `write_secrets` puts in redirect_uri."""
    return f"http://{APP_HOST}:{port}"


@contextmanager
def oidc_provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 (a free port) in a background thread; yields its issuer
    URL (no trailing slash). Stops the server when the block ends.

    Under Authlib 1.9 each token it issues warns "get_jwt_config(self, grant) is deprecated"
    (from the server thread); tests silence it with
    `pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")`."""
    import authlib.deprecate  # noqa: F401  (sets its warnings to "always" when imported)
    import werkzeug.serving

    with warnings.catch_warnings():  # it imports authlib.jose, deprecated since Authlib 1.7
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

    # Port 0: the kernel picks the port while binding, so no other process can take it first.
    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def write_secrets(folder: Path, issuer: str, app_port: int) -> Path:
    """`folder/secrets.toml` with the `[auth]` section for `st.login()` against `issuer`."""
    path = Path(folder) / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{app_url(app_port)}/oauth2callback"\n'
        f'cookie_secret = "{random.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        # `email` and `profile` release email and name; the mock puts non-standard claims such
        # as `groups` in the ID token under any scope (a real provider may want a `groups` scope
        # or a claim mapping, and would reject a scope it does not know).
        'client_kwargs = { scope = "openid profile email" }\n'
    )
    return path


def start_streamlit(
    script: Path,
    port: int,
    secrets: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 60,
) -> subprocess.Popen:
    """`streamlit run script` on 127.0.0.1:`port` with `secrets` as its only secrets file
    (`--secrets.files`), `args` after `--`, `env` over os.environ, output to `log`; returns once
    /_stcore/health answers (raises with the log's tail if the process dies or times out)."""
    command = [
        str(STREAMLIT), "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--secrets.files", str(secrets),
        "--", *args,
    ]  # fmt: skip
    log = Path(log) if log else Path(secrets).with_name(f"streamlit-{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,  # as `make run`; --secrets.files replaces ./.streamlit/secrets.toml
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"streamlit did not come up:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """The script has run to the end (Streamlit's own run-state marker)."""
    selector = "[data-testid='stApp'][data-test-script-state='notRunning']"
    page.wait_for_selector(selector, timeout=timeout_ms)


def sign_in(
    page,
    base_url: str,
    email: str,
    groups: Sequence[str] = (),
    name: str | None = None,
    claims: dict | None = None,
    timeout_ms: int = 30_000,
) -> None:
    """On an app page showing a "Sign in" button (that calls `st.login()`): click it, give the
    provider's user `sub` = `email` the claims email, name, groups (plus `claims`), authorize,
    and wait until the app has run again, signed in. Streamlit sends the browser back to the
    app's root (`base_url/`), whatever page or query string it started from."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize?**", timeout=timeout_ms)
    issuer = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    user = {"email": email, "groups": list(groups), **({"name": name} if name else {})}
    response = page.request.put(
        f"{issuer}/users/{quote(email, safe='@')}", data={**user, **(claims or {})}
    )
    assert response.ok, f"PUT /users/{email}: {response.status} {response.text()}"
    page.locator("input[name='sub']").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: url.startswith(base_url), timeout=timeout_ms)
    wait_for_app(page, timeout_ms)
    page.get_by_role("button", name="Sign in").wait_for(state="detached", timeout=timeout_ms)


def sign_out(page, button: str = "Sign out", timeout_ms: int = 30_000) -> None:
    """Click `button` (which calls `st.logout()`), confirm the provider's "End session" page
    (Streamlit sends the browser to the provider's end_session_endpoint), and wait until the
    app has run again, signed out (its "Sign in" button is back)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/oauth2/end_session?**", timeout=timeout_ms)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(lambda url: url.startswith(origin), timeout=timeout_ms)
    wait_for_app(page, timeout_ms)
    page.get_by_role("button", name="Sign in").wait_for(timeout=timeout_ms)
