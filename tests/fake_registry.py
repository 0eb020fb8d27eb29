"""A fake npm registry on loopback, for what only npmjs serves.

2FA modes in profiles, collaborators, `_npmUser.trustedPublisher` and `approver`,
`dist.attestations`, npm's token list shape, a package's publishing access, a version's
status: Verdaccio has none of these. Every JSON
document registered as a successful reply is validated against the schema npm-guard
ships for that endpoint, so the fake cannot drift from what the audit accepts; hostile
replies (malformed JSON, schema mismatches, resets, hangs) are registered raw.
"""

from __future__ import annotations

import datetime
import json
import socket
import struct
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from npm_guard.audit.registry_schemas import schema_problem
from npm_guard.secrets import base62

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    # "respond"; "hang" (never answer); "reset" (TCP RST); "drip" (the headers, then
    # the body one byte per `interval`); "drip-headers" (everything one byte at a time)
    action: str = "respond"
    interval: float = 0.05


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: Mapping[str, str]


def json_reply(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    merged = {"Content-Type": "application/json", **(headers or {})}
    return Reply(status, json.dumps(body).encode(), merged)


class InFlight:
    """Counts the requests the server holds at once, and holds the first `expect` of them.

    The first requests wait until `expect` are in (or `patience` runs out), then a moment
    longer (`settle`) in which a client that allowed more than `expect` would send one
    more; after that every request passes at once. A request counts from its arrival
    until its reply starts, so a client's next request can never overlap its last one.
    """

    def __init__(self, expect: int, *, settle: float = 0.2, patience: float = 10.0) -> None:
        self.expect = expect
        self.settle = settle
        self.patience = patience
        self.current = 0
        self.peak = 0
        self._open = False
        self._cond = threading.Condition()

    def hold(self) -> None:
        with self._cond:
            self.current += 1
            self.peak = max(self.peak, self.current)
            self._cond.notify_all()
            if not self._open:
                self._cond.wait_for(
                    lambda: self._open or self.current >= self.expect, self.patience
                )
                self._cond.wait_for(lambda: self._open or self.current > self.expect, self.settle)
                self._open = True
                self._cond.notify_all()
            self.current -= 1


class FakeRegistry:
    """A threaded HTTP server; `routes` maps a path (with query) to a list of replies.

    Replies are served in order; the last one repeats. Unknown paths get npm's 404.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Recorded] = []
        self.in_flight: InFlight | None = None  # set to count (and hold) concurrent requests
        self.fallback: Reply | None = None  # the reply to unknown paths (None: npm's 404)
        self._lock = threading.Lock()
        self._release = threading.Event()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                registry._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Registration.

    def reply(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def serve_json(self, path: str, body: object, kind: str, **extra: Any) -> None:
        """A successful JSON reply, checked against npm-guard's schema for `kind`."""
        problem = schema_problem(kind, body)
        assert problem is None, f"fake {kind} for {path} breaks the shipped schema: {problem}"
        self.reply(path, json_reply(body, **extra))

    def packument(self, doc: Mapping[str, Any]) -> None:
        self.serve_json("/" + str(doc["name"]).replace("/", "%2f", 1), doc, "packument")

    def profile(self, doc: Mapping[str, Any]) -> None:
        self.serve_json("/-/npm/v1/user", doc, "profile")

    def collaborators(self, name: str, doc: Mapping[str, str]) -> None:
        path = f"/-/package/{name.replace('/', '%2f', 1)}/collaborators"
        self.serve_json(path, doc, "collaborators")

    def access(self, name: str, doc: Mapping[str, Any]) -> None:
        """The package's publishing access (undocumented GET, as pnpm reads it)."""
        self.serve_json(f"/-/package/{name.replace('/', '%2f', 1)}/access", doc, "access")

    def version_status(self, name: str, version: str, status: str) -> None:
        path = f"/-/package/{name.replace('/', '%2f', 1)}/version/{version}/status"
        body = {"packageName": name, "version": version, "status": status}
        self.serve_json(path, body, "version-status")

    def token_pages(self, entries: Sequence[Mapping[str, Any]], per_page: int = 10) -> None:
        """npm's paginated token list: `urls.next` until the last page."""
        pages = [entries[i : i + per_page] for i in range(0, len(entries), per_page)] or [[]]
        for number, page in enumerate(pages):
            path = "/-/npm/v1/tokens" if number == 0 else f"/-/npm/v1/tokens?page={number}"
            urls: dict[str, str] = {}
            if number + 1 < len(pages):
                urls["next"] = f"{self.url}-/npm/v1/tokens?page={number + 1}"
            if number:
                urls["prev"] = f"{self.url}-/npm/v1/tokens?page={number - 1}"
            body = {"objects": list(page), "total": len(entries), "urls": urls}
            self.serve_json(path, body, "tokens")

    # Inspection.

    def hits(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def authorized(self) -> list[Recorded]:
        return [r for r in self.requests if "authorization" in r.headers]

    # Serving.

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        # The raw request target, as sent: npm sends `@scope%2fname`, and so must the
        # audit, so `%2F` is neither recorded as `%2f` nor routed like it.
        path = handler.path
        with self._lock:
            self.requests.append(Recorded("GET", path, headers))
            queue = self.routes.get(path) or self.routes.get(path.split("?")[0])
            if queue is None:
                reply = self.fallback or json_reply({"error": "Not found"}, 404)
            else:
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if self.in_flight is not None:
            self.in_flight.hold()
        if reply.action == "hang":
            self._release.wait(30)
            handler.close_connection = True
            return
        if reply.action == "reset":
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        if reply.action in ("drip", "drip-headers"):
            self._drip(handler, reply)
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _drip(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        """Each byte well inside any read timeout, the whole far beyond any deadline."""
        head = f"HTTP/1.1 {reply.status} OK\r\n"
        for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            head += f"{name}: {value}\r\n"
        data = head.encode() + b"\r\n" + reply.body
        handler.close_connection = True
        start = 0
        if reply.action == "drip":
            start = len(head) + 2
            handler.wfile.write(data[:start])
            handler.wfile.flush()
        for i in range(start, len(data)):
            if self._release.wait(reply.interval):
                return
            try:
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
            except OSError:  # the client gave up: the point of the exercise
                return


# Documents shaped like npmjs's.


def person(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name}@example.com"}


def version_doc(
    name: str,
    version: str,
    *,
    publisher: str | None = None,
    trusted: str | None = None,
    approver: str | None = None,
    provenance: bool = False,
) -> dict[str, Any]:
    """One version document; `trusted` ("github") makes it a trusted publish."""
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "dist": {
            "integrity": "sha512-AAAA",
            "tarball": f"https://registry.npmjs.org/{name}/-/x-{version}.tgz",
        },
    }
    if trusted:
        user: dict[str, Any] = {
            "name": "GitHub Actions",
            "email": "npm-oidc-no-reply@github.com",
            "trustedPublisher": {"id": trusted, "oidcConfigId": "oidc:2f1e0000"},
        }
    elif publisher:
        user = person(publisher)
    else:
        user = {}
    if approver:
        user["approver"] = person(approver)
    if user:
        doc["_npmUser"] = user
    if provenance:
        escaped = name.replace("/", "%2f", 1)
        doc["dist"]["attestations"] = {
            "url": f"https://registry.npmjs.org/-/npm/v1/attestations/{escaped}@{version}",
            "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
        }
    return doc


def packument_doc(
    name: str, maintainers: Iterable[str], versions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A full packument; versions are published one day apart, in the order given."""
    times = {"created": T0.isoformat().replace("+00:00", "Z")}
    for day, doc in enumerate(versions, start=1):
        stamp = T0 + datetime.timedelta(days=day)
        times[doc["version"]] = stamp.isoformat().replace("+00:00", "Z")
    times["modified"] = times[versions[-1]["version"]] if versions else times["created"]
    return {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": versions[-1]["version"]} if versions else {},
        "maintainers": [person(m) for m in maintainers],
        "time": times,
        "versions": {doc["version"]: dict(doc) for doc in versions},
    }


def profile_doc(name: str, tfa: object) -> dict[str, Any]:
    return {
        "name": name,
        "tfa": tfa,
        "email": f"{name}@example.com",
        "email_verified": True,
        "cidr_whitelist": None,
        "created": "2019-01-01T00:00:00.000Z",
        "updated": "2026-08-01T00:00:00.000Z",
    }


def npm_token(seed: str) -> str:
    """A well-formed npm token (valid CRC32 checksum) derived from `seed`."""
    body = (seed * 30)[:30] if seed.isalnum() else "x" * 30
    body = "".join(c if c.isalnum() else "x" for c in body)
    return "npm_" + body + base62(zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF)


def token_entry(
    token: str,
    *,
    key: str,
    readonly: bool = True,
    cidr: Sequence[str] | None = ("192.0.2.0/24",),
    bypass_2fa: bool = False,
    expiry_days: int | None = 30,
    created: datetime.datetime = T0,
    cidr_field: str = "cidr",
    publish_policy: str | None = None,
) -> dict[str, Any]:
    """A token list entry in npm's OpenAPI shape, redacted as npm redacts; with
    `publish_policy` ("stage_only") as the registry records a stage-only token."""
    expiry = (
        (created + datetime.timedelta(days=expiry_days)).isoformat().replace("+00:00", "Z")
        if expiry_days is not None
        else None
    )
    entry: dict[str, Any] = {
        "key": key,
        "token": f"{token[:8]}...{token[-4:]}",
        "name": f"token-{key[:8]}",
        "description": None,
        "expiry": expiry,
        "readonly": readonly,
        "bypass_2fa": bypass_2fa,
        cidr_field: list(cidr) if cidr is not None else None,
        "revoked": None,
        "created": created.isoformat().replace("+00:00", "Z"),
        "updated": created.isoformat().replace("+00:00", "Z"),
        "accessed": None,
        "permissions": [{"name": "package", "action": "read" if readonly else "write"}],
        "scopes": [{"type": "package", "name": "*"}],
    }
    if publish_policy is not None:
        entry["publish_policy"] = publish_policy
    return entry
