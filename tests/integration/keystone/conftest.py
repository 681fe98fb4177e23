"""A real Keystone and a real `octavia-api` with `auth_strategy = keystone`, on loopback.

Keystone (the PyPI `keystone` package) lives in its own virtualenv, installed on first
use: its dependency pins are not the service's. It runs with SQLite and Fernet tokens
(`db_sync`, `fernet_setup`, `bootstrap`), served by wsgiref on a free port. The API runs
as a separate process with keystonemiddleware configured from `[keystone_authtoken]`,
validating tokens with a service user, as in a cloud.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent
KEYSTONE_VENV = Path(os.environ.get("OCTAVIA_KEYSTONE_VENV", "/tmp/octavia-keystone-venv"))
INSTALLED_MARK = KEYSTONE_VENV / ".octavia-installed"
BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex[:8]
SERVICE_PASSWORD = "octavia-" + uuid.uuid4().hex[:8]
USER_PASSWORD = "user-" + uuid.uuid4().hex[:8]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url}: server exited {proc.returncode}\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not up after {timeout}s\n{_tail(log)}")


@pytest.fixture(scope="session")
def keystone_python() -> Path:
    """Keystone's interpreter, installing the `keystone` package into its venv once."""
    KEYSTONE_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{KEYSTONE_VENV}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not INSTALLED_MARK.exists():
            steps = [[sys.executable, "-m", "venv", "--clear", str(KEYSTONE_VENV)],
                     [str(KEYSTONE_VENV / "bin" / "pip"), "install", "-q", "keystone"]]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True, timeout=1500)
                if done.returncode != 0:
                    pytest.skip(f"Keystone cannot be installed here ({' '.join(step[-2:])}): "
                                f"{done.stderr.strip()[-500:]}")
            INSTALLED_MARK.write_text("keystone\n")
    return KEYSTONE_VENV / "bin" / "python"


@dataclass
class Keystone:
    url: str
    users: dict[str, str] = field(default_factory=dict)  # persona -> user id
    projects: dict[str, str] = field(default_factory=dict)  # name -> id

    def token(self, user: str, project: str | None = "owner", system: bool = False) -> str:
        """A real token: password auth, scoped to a project (by name) or to the system."""
        scope: dict[str, Any] = ({"system": {"all": True}} if system else
                                 {"project": {"name": project, "domain": {"id": "default"}}})
        password = ADMIN_PASSWORD if user == "admin" else USER_PASSWORD
        resp = httpx.post(f"{self.url}/v3/auth/tokens", timeout=60, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": scope}})
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Subject-Token"]

    def _admin(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        resp = httpx.request(method, f"{self.url}/v3{path}", json=body, timeout=60,
                             headers={"X-Auth-Token": token})
        assert resp.status_code in (200, 201, 204), resp.text
        return resp.json() if resp.content else None

    def populate(self, grants: dict[str, tuple[str, str]], extra_roles: list[str]) -> None:
        """Projects, roles and users: `grants` maps a user name to (project, role)."""
        token = self.token("admin", project="admin")
        roles = {r["name"]: r["id"] for r in self._admin("GET", "/roles", token)["roles"]}
        for name in extra_roles:
            roles[name] = self._admin("POST", "/roles", token, {"role": {"name": name}})["role"]["id"]
        for project in sorted({p for p, _ in grants.values()}):
            self.projects[project] = self._admin("POST", "/projects", token, {"project": {
                "name": project, "domain_id": "default"}})["project"]["id"]
        for user, (project, role) in grants.items():
            password = SERVICE_PASSWORD if user == "octavia" else USER_PASSWORD
            uid = self._admin("POST", "/users", token, {"user": {
                "name": user, "domain_id": "default", "password": password}})["user"]["id"]
            self.users[user] = uid
            self._admin("PUT", f"/projects/{self.projects[project]}/users/{uid}/roles/{roles[role]}", token)


@pytest.fixture(scope="module")
def keystone(keystone_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystone]:
    work = tmp_path_factory.mktemp("keystone")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    for sub in ("fernet", "receipts", "credential"):
        (work / sub).mkdir()
    conf = work / "keystone.conf"
    conf.write_text(
        f"[DEFAULT]\nlog_file = {work}/keystone.log\n"
        f"[database]\nconnection = sqlite:///{work}/keystone.sqlite\n"
        "[identity]\npassword_hash_rounds = 4\n"
        "[token]\nprovider = fernet\n"
        f"[fernet_tokens]\nkey_repository = {work}/fernet\n"
        f"[fernet_receipts]\nkey_repository = {work}/receipts\n"
        f"[credential]\nkey_repository = {work}/credential\n"
    )
    manage = [str(keystone_python.parent / "keystone-manage"), "--config-file", str(conf)]
    owner = ["--keystone-user", "root", "--keystone-group", "root"]
    # db_sync and the Fernet keys are independent: prepare both at once.
    prep = [subprocess.Popen(manage + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for args in (["db_sync"], ["fernet_setup", *owner])]
    for proc in prep:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    boot = subprocess.run(manage + [
        "bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", "RegionOne",
        "--bootstrap-admin-url", f"{url}/v3", "--bootstrap-public-url", f"{url}/v3",
        "--bootstrap-internal-url", f"{url}/v3"], capture_output=True, text=True, timeout=300)
    assert boot.returncode == 0, boot.stderr[-2000:]
    log = work / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(keystone_python), str(HERE / "serve_keystone.py"), str(port)],
                                env={**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(conf)},
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"{url}/v3", proc, log)
        yield Keystone(url)
    finally:
        _stop(proc)


@dataclass
class Octavia:
    url: str
    log: Path


@pytest.fixture(scope="module")
def octavia_api(keystone: Keystone, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Octavia]:
    """`octavia-api` with auth_strategy = keystone; the `octavia` service user validates tokens."""
    work = tmp_path_factory.mktemp("octavia")
    port = _free_port()
    conf = work / "octavia.conf"
    conf.write_text(
        f"[DEFAULT]\nstate_path = {work}\n"
        f"[api_settings]\nbind_host = 127.0.0.1\nbind_port = {port}\nauth_strategy = keystone\n"
        "default_provider_driver = noop_driver\nhealthcheck_enabled = true\n"
        "[controller_worker]\nnetwork_driver = network_noop_driver\n"
        f"[keystone_authtoken]\nwww_authenticate_uri = {keystone.url}\nauth_url = {keystone.url}\n"
        "auth_type = password\nusername = octavia\n"
        f"password = {SERVICE_PASSWORD}\nproject_name = service\n"
        "user_domain_id = default\nproject_domain_id = default\n"
    )
    migrate = subprocess.run([str(BIN / "octavia-db-manage"), "--config-file", str(conf), "upgrade", "head"],
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    log = work / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "octavia-api"), "--config-file", str(conf)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/", proc, log)
        yield Octavia(url, log)
    finally:
        _stop(proc)
