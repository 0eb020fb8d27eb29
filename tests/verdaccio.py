"""A real Verdaccio registry for the tests: started on a free loopback port, always stopped.

Verdaccio comes from the npm registry (pinned in tests/node/package.json, installed by
scripts/test). Users are created through the registry's CouchDB login endpoint, the
way `npm adduser` did; packages are published with the real `npm publish`, owners
added with the real `npm owner add`, tokens created through `/-/npm/v1/tokens`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import requests

NODE_DIR = Path(__file__).parent / "node"
VERDACCIO_BIN = NODE_DIR / "node_modules" / ".bin" / "verdaccio"

CONFIG = """\
storage: {storage}
auth:
  htpasswd:
    file: {htpasswd}
    max_users: 1000
uplinks: {{}}
packages:
  '@*/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
security:
  api:
    jwt:
      sign:
        expiresIn: 7d
log: {{type: stdout, format: json, level: warn}}
web:
  enable: false
max_body_size: 10mb
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Verdaccio:
    """One Verdaccio process with its own config and storage under `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}  # user → login (JWT) token
        self.passwords: dict[str, str] = {}
        self.session = requests.Session()
        self.session.trust_env = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> None:
        if not VERDACCIO_BIN.exists():
            raise RuntimeError(
                f"{VERDACCIO_BIN} is missing: run scripts/test (npm ci in tests/node)"
            )
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yaml"
        config.write_text(
            CONFIG.format(storage=storage, htpasswd=self.workdir / "htpasswd"), encoding="utf-8"
        )
        self.port = free_port()
        self.log = open(self.workdir / "verdaccio.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(VERDACCIO_BIN), "--config", str(config), "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=self._env(),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # poll readiness, no fixed sleep
            if self.process.poll() is not None:
                break
            try:
                if self.session.get(self.url + "-/ping", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        log = (self.workdir / "verdaccio.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"Verdaccio did not start on {self.url}:\n{log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self.session.close()
        if getattr(self, "log", None) is not None:
            self.log.close()

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.lower().startswith("npm_config_") and k not in ("NPM_TOKEN", "NODE_AUTH_TOKEN")
        }
        env.update(
            {
                "npm_config_cache": str(self.workdir / "npm-cache"),
                "npm_config_update_notifier": "false",
                "npm_config_audit": "false",
                "npm_config_fund": "false",
                "npm_config_loglevel": "error",
            }
        )
        return env

    # Users and tokens, through the registry's HTTP API.

    def add_user(self, name: str, password: str) -> str:
        body = {"name": name, "password": password, "email": f"{name}@example.com", "type": "user"}
        response = self.session.put(
            f"{self.url}-/user/org.couchdb.user:{name}", json=body, timeout=10
        )
        response.raise_for_status()
        token = str(response.json()["token"])
        self.tokens[name] = token
        self.passwords[name] = password
        return token

    def create_token(self, user: str, *, readonly: bool, cidr: list[str]) -> str:
        """A listed token (the classic request shape Verdaccio implements)."""
        response = self.session.post(
            f"{self.url}-/npm/v1/tokens",
            json={"password": self.passwords[user], "readonly": readonly, "cidr_whitelist": cidr},
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def userconfig(self, user: str) -> Path:
        path = self.workdir / f"{user}.npmrc"
        host = f"//127.0.0.1:{self.port}/"
        path.write_text(f"{host}:_authToken={self.tokens[user]}\nregistry={self.url}\n")
        return path

    # Real npm.

    def npm(self, user: str, *args: str, cwd: Path | None = None) -> str:
        npm = shutil.which("npm")
        assert npm is not None, "npm is not on PATH"
        proc = subprocess.run(
            [npm, *args, "--registry", self.url, "--userconfig", str(self.userconfig(user))],
            cwd=cwd or self.workdir,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"npm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def publish(self, user: str, name: str, version: str) -> None:
        directory = self.workdir / "src" / f"{name.replace('/', '__')}-{version}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "package.json").write_text(
            json.dumps({"name": name, "version": version, "license": "MIT"})
        )
        self.npm(user, "publish", cwd=directory)

    def owner_add(self, by: str, user: str, package: str) -> None:
        self.npm(by, "owner", "add", user, package)

    def publish_over_http(self, user: str, name: str, version: str) -> None:
        """The same PUT `npm publish` sends, without starting npm (for bulk set-ups)."""
        manifest = {"name": name, "version": version, "license": "MIT"}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("package/package.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tarball = buffer.getvalue()
        filename = f"{name.split('/')[-1]}-{version}.tgz"
        escaped = name.replace("/", "%2f")
        document: dict[str, Any] = {
            "_id": name,
            "name": name,
            "dist-tags": {"latest": version},
            "versions": {
                version: {
                    **manifest,
                    "_id": f"{name}@{version}",
                    "dist": {
                        "shasum": hashlib.sha1(tarball).hexdigest(),
                        "integrity": "sha512-"
                        + base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
                        "tarball": f"{self.url}{name}/-/{filename}",
                    },
                }
            },
            "_attachments": {
                filename: {
                    "content_type": "application/octet-stream",
                    "data": base64.b64encode(tarball).decode(),
                    "length": len(tarball),
                }
            },
        }
        response = self.session.put(
            f"{self.url}{escaped}",
            json=document,
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=30,
        )
        response.raise_for_status()
