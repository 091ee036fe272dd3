"""Talk to a test host's JupyterHub as a person would: its login page, then its REST API."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import requests
import websocket  # websocket-client, which selenium brings
from requests.adapters import HTTPAdapter
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def container_address(name: str) -> str:
    """The test host's address on the machine's Docker bridge."""
    return subprocess.run(
        ["docker", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


class _ServerNameAdapter(HTTPAdapter):
    """HTTPS to an address, with the TLS name (SNI and certificate check) of the site, as a resolver would give it."""

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs.update(server_hostname=self.server_name, assert_hostname=self.server_name)
        super().init_poolmanager(*args, **kwargs)


class Hub:
    def __init__(self, base_url: str, server_name: str | None = None, ca_file: str | None = None) -> None:
        """base_url's host is an address; with HTTPS, server_name is the certificate's name and ca_file its root."""
        self.base_url = base_url.rstrip("/")
        self.server_name, self.ca_file = server_name, ca_file

    def session(self) -> requests.Session:
        """A new client, as a new browser would be."""
        session = requests.Session()
        if self.ca_file:
            # Not the machine's bundle from REQUESTS_CA_BUNDLE, which requests would prefer to session.verify.
            session.trust_env = False
            session.verify = self.ca_file
        if self.server_name:
            session.mount("https://", _ServerNameAdapter(self.server_name))
        return session

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.session().get(f"{self.base_url}/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.base_url} did not answer within {timeout} s")
            time.sleep(1)

    def login(self, username: str, password: str) -> tuple[requests.Session, requests.Response]:
        """Fill in the hub's login form. Returns the browser-like session and the form's answer."""
        session = self.session()
        page = session.get(f"{self.base_url}/hub/login", timeout=30)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        answer = session.post(
            f"{self.base_url}/hub/login",
            data={"username": username, "password": password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=30,
        )
        return session, answer

    def browser_login(self, browser, username: str, password: str) -> None:
        """Log in through the hub's login form in a browser (selenium), as a person types it."""
        browser.get(f"{self.base_url}/hub/login")
        browser.find_element(By.ID, "username_input").send_keys(username)
        browser.find_element(By.ID, "password_input").send_keys(password)
        browser.find_element(By.ID, "login_submit").click()
        WebDriverWait(browser, 60).until(lambda page: "/hub/login" not in page.current_url)  # the form's answer arrived

    def token(self, username: str, password: str) -> str:
        """Log in, then ask the REST API for a token, as a user does on the hub's token page."""
        session, answer = self.login(username, password)
        assert answer.status_code == 302, f"login of {username} failed: {answer.status_code}"
        response = session.post(
            f"{self.base_url}/hub/api/users/{username}/tokens",
            json={"note": "tests", "expires_in": 3600},
            headers={"X-XSRFToken": session.cookies.get("_xsrf", path="/hub/") or session.cookies.get("_xsrf")},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def api(self, token: str) -> requests.Session:
        session = self.session()
        session.headers["Authorization"] = f"token {token}"
        return session


class UserServer:
    """One user's server, driven through the hub's REST API with that user's token."""

    def __init__(self, hub: Hub, username: str, token: str, server_name: str = "") -> None:
        """server_name: a named server ('' is the user's default server)."""
        self.hub, self.username, self.server_name = hub, username, server_name
        self.session = hub.api(token)
        self.api = f"{hub.base_url}/hub/api/users/{username}"
        self.server_api = f"{self.api}/servers/{server_name}" if server_name else f"{self.api}/server"
        self.url = f"{hub.base_url}/user/{username}/{server_name + '/' if server_name else ''}"

    def model(self) -> dict | None:
        """The hub's model of this server, None when there is none."""
        return self.session.get(self.api, timeout=30).json()["servers"].get(self.server_name)

    def start(self, environment: str | None, timeout: float = 180) -> requests.Response:
        """Ask for a server (with the display name of an environment); wait until it is ready."""
        response = self.request_start(environment)
        if response.status_code not in (201, 202):
            return response
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.model()
            if server and server["ready"]:
                return response
            if not server or not server.get("pending"):
                raise AssertionError(f"{self.username}'s server stopped while starting: {self.progress()}")
            time.sleep(1)
        raise TimeoutError(f"{self.username}'s server was not ready within {timeout} s")

    def request_start(self, environment: str | None) -> requests.Response:
        """The start request alone (with the display name of an environment)."""
        body = {"image": environment} if environment is not None else {}
        # The hub answers within its slow_spawn_timeout (10 s) on a quiet host; on a CI machine running three test hosts
        # on two cores it once took over 60 s (the quota tests' first start, cause not found).
        return self.session.post(self.server_api, json=body, timeout=120)

    def start_following_progress(self, environment: str | None, timeout: float = 600) -> tuple[requests.Response, list[str]]:
        """Ask for a server and follow its progress events until it is ready, as the spawn page does (one open
        request instead of polling); the start request's answer and the messages shown. A failed start raises
        AssertionError with its last message."""
        response = self.request_start(environment)
        if response.status_code != 202:  # 201: ready already; anything else: refused
            return response, []
        messages = []
        with self.session.get(f"{self.server_api}/progress", stream=True, timeout=timeout) as events:
            for line in events.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                event = json.loads(line[len("data:") :])
                messages.append(event.get("message", ""))
                if event.get("ready"):
                    return response, messages
                if event.get("failed"):
                    raise AssertionError(f"{self.username}'s server failed to start: {messages[-1]}")
        raise AssertionError(f"{self.username}'s progress ended before the server was ready: {messages[-1:]}")

    def progress(self) -> str:
        """The hub's progress events of the last start: where a failed start says why."""
        response = self.session.get(f"{self.server_api}/progress", stream=True, timeout=30)
        return response.text

    def stop(self, timeout: float = 60) -> None:
        self.session.delete(self.server_api, timeout=60)
        deadline = time.monotonic() + timeout
        # Until the hub lists it no longer (it lists running and pending servers only; a user removed from
        # the hub has none: 403 or 404).
        while (user := self.session.get(self.api, timeout=30)).status_code == 200 and self.server_name in user.json()["servers"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.username}'s server did not stop within {timeout} s")
            time.sleep(1)

    def run_python(self, code: str, timeout: float = 60) -> str:
        """Run code in a new kernel of this server (a process of the user's, as a notebook's would be)
        and return what it printed; an exception in the code fails with its traceback."""
        kernel = self.session.post(f"{self.url}api/kernels", json={}, timeout=30)
        kernel.raise_for_status()
        kernel_url = f"{self.url}api/kernels/{kernel.json()['id']}"
        channels = websocket.create_connection(
            kernel_url.replace("http", "ws", 1) + "/channels",
            header=[f"Authorization: {self.session.headers['Authorization']}"],
            timeout=timeout,
        )
        request_id = uuid.uuid4().hex
        header = {"msg_id": request_id, "msg_type": "execute_request", "username": self.username, "session": uuid.uuid4().hex, "date": "", "version": "5.3"}
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        printed, error = [], None
        try:
            channels.send(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}))
            while True:
                message = json.loads(channels.recv())
                if message["parent_header"].get("msg_id") != request_id:
                    continue
                kind = message["header"]["msg_type"]
                if kind == "stream":
                    printed.append(message["content"]["text"])
                elif kind == "error":
                    error = "\n".join(message["content"]["traceback"])
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    break
        finally:
            channels.close()
            self.session.delete(kernel_url, timeout=30)
        if error is not None:
            raise AssertionError(f"{self.username}'s code failed:\n{error}")
        return "".join(printed)

    def contents(self, path: str = "") -> requests.Response:
        return self.session.get(f"{self.url}api/contents/{path}", timeout=30)

    def save(self, path: str, text: str) -> requests.Response:
        return self.session.put(
            f"{self.url}api/contents/{path}",
            json={"type": "file", "format": "text", "content": text},
            timeout=30,
        )


class RestorePage:
    """The restore page as a user's browser-like client sees it, logged in through the hub's OAuth."""

    def __init__(self, hub, user: str, password: str) -> None:
        self.base = f"{hub.base_url}/services/restore/"
        self.session, answer = hub.login(user, password)
        assert answer.status_code == 302, f"login of {user} failed"
        front = self.session.get(self.base, timeout=60)  # the OAuth round trip, then the page
        assert front.status_code == 200, front.text

    def browse(self, snapshot: str, path: str = "", folder: str = "home") -> requests.Response:
        return self.session.get(self.base + "browse", params={"snapshot": snapshot, "folder": folder, "path": path}, timeout=60)

    def restore(self, snapshot: str, path: str, folder: str = "home") -> requests.Response:
        """Ask for a restore; returns the answer (a redirect to the restore's page when it started)."""
        form = self.session.get(self.base + "browse", params={"snapshot": snapshot, "folder": folder}, timeout=60).text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form)
        data = {"snapshot": snapshot, "folder": folder, "path": path, "_xsrf": xsrf.group(1) if xsrf else ""}
        return self.session.post(self.base + "restore", data=data, allow_redirects=False, timeout=60)

    def job(self, location: str) -> str:
        return self.session.get(requests.compat.urljoin(self.base, location), timeout=60).text

    def finished(self, location: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while 'id="state" class="state-running"' in (page := self.job(location)):
            assert time.monotonic() < deadline, page
            time.sleep(0.5)
        return page
