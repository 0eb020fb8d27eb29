"""The registry client: the only module of npm-guard that touches the network.

One `requests.Session` for the whole audit. Every GET has a connect and a read
timeout, and each resource one deadline for all its attempts, waits and redirects (a
registry that drips bytes just inside the read timeout is cut off, and a request cut
at the deadline is never asked again), as well as the whole audit's deadline when it
has one. It is retried with exponential back-off on 429, 5xx, timeouts and dropped
connections (honouring `Retry-After` up to a bound, never past the deadline), and is
never retried on any other 4xx. Redirects are followed by hand so that the token goes
only to the registry it belongs to, over HTTPS (plain HTTP only on loopback). Every
body is parsed and checked against its schema before anyone sees it; anything that
goes wrong comes back as a `FetchFailure` with a reason a human can act on, never as
an exception and never as data. Each URL is fetched at most once per client, however
many threads ask for it.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Union
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.poolmanager

from npm_guard import __version__
from npm_guard._record import dataclass
from npm_guard.audit.registry_schemas import schema_problem
from npm_guard.audit.registry_urls import normalise_registry, npm_request_target, origin
from npm_guard.constants import NPMJS_REGISTRY
from npm_guard.errors import NpmGuardError
from npm_guard.hosts import is_loopback
from npm_guard.secrets import scrub

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_MAX_BODY = 64 * 1024 * 1024  # the largest packuments on npmjs are tens of MB


@dataclass(frozen=True)
class Fetched:
    """A response that parsed as JSON and matched its schema."""

    endpoint: str
    data: Any


@dataclass(frozen=True)
class FetchFailure:
    """Why a resource could not be used; `reason` is safe to print (no credential)."""

    endpoint: str
    reason: str
    status: int | None = None
    out_of_time: bool = False  # not asked, or cut, because the whole audit's time ran out

    @property
    def refused(self) -> bool:
        """The registry answered, and said no (401, 403 or 404)."""
        return self.status in (401, 403, 404)


FetchResult = Union[Fetched, FetchFailure]


# The overall deadline of one exchange. Timeouts in requests are per socket operation,
# so a server that sends a byte every few seconds keeps a request alive for ever; a
# watchdog timer per exchange shuts the socket down when the deadline passes. The
# exchange is handed to the connection through a thread-local (requests calls the
# connection on the calling thread), and a connection back in the pool, or taken by
# another thread's exchange, is never cut.
_exchange_lock = threading.Lock()
_current = threading.local()


class _Exchange:
    """One request's whole life (connect, headers, body) and the deadline it must meet."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.connection: _NpmHTTPConnection | _NpmHTTPSConnection | None = None
        self.finished = False
        self.was_cut = False
        self._timer = threading.Timer(limit, self._cut)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        return self.was_cut or time.monotonic() >= self.deadline

    def _cut(self) -> None:
        with _exchange_lock:
            connection = self.connection
            if self.finished or connection is None or connection.exchange is not self:
                return
            self.was_cut = True
            sock = connection.sock
            if sock is not None:
                # The plain socket's shutdown, also under TLS: a blocked recv returns.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def finish(self) -> None:
        with _exchange_lock:
            self.finished = True
        self._timer.cancel()


def _claim(connection: _NpmHTTPConnection | _NpmHTTPSConnection) -> None:
    """`connection` now serves the calling thread's exchange (called as a request starts)."""
    exchange = getattr(_current, "exchange", None)
    with _exchange_lock:
        connection.exchange = exchange
        if exchange is not None:
            exchange.connection = connection


class _NpmHTTPConnection(urllib3.connection.HTTPConnection):
    exchange: _Exchange | None = None

    def putrequest(
        self,
        method: str,
        url: str,
        skip_host: bool = False,
        skip_accept_encoding: bool = False,
    ) -> None:
        _claim(self)
        super().putrequest(
            method,
            npm_request_target(url),
            skip_host=skip_host,
            skip_accept_encoding=skip_accept_encoding,
        )


class _NpmHTTPSConnection(_NpmHTTPConnection, urllib3.connection.HTTPSConnection):
    """TLS, with the request target and exchange of `_NpmHTTPConnection` (its `putrequest`
    comes first in the method order, then urllib3's HTTPS connection)."""


class _NpmHTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _NpmHTTPConnection


class _NpmHTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _NpmHTTPSConnection


def _use_npm_pools(manager: Any) -> Any:
    """Give a pool manager npm's request targets, unless it is a SOCKS one (its own pools)."""
    if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = {
            "http": _NpmHTTPConnectionPool,
            "https": _NpmHTTPSConnectionPool,
        }
    return manager


class _NpmAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with connections that send request targets as npm does."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_npm_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _use_npm_pools(super().proxy_manager_for(proxy, **proxy_kwargs))


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class RegistryClient:
    """GETs JSON from npm registries, validated, retried, cached, token-safe."""

    def __init__(
        self,
        *,
        token: str | None = None,
        token_registry: str = NPMJS_REGISTRY,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        total_timeout: float = 120.0,
        max_body: int = _MAX_BODY,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        trace: Callable[[str], None] | None = None,
        deadline: float | None = None,
    ) -> None:
        """`total_timeout` bounds one resource's fetch, every attempt, wait and redirect
        together; `deadline` (a `time.monotonic()` value) bounds the whole audit, every
        fetch: no attempt starts, and no retry waits, past either."""
        self.token_registry = normalise_registry(token_registry)
        scheme, host, _ = origin(self.token_registry)
        if token and scheme != "https" and not is_loopback(host):
            raise NpmGuardError(
                f"refusing to send the token to {self.token_registry} over plain http: "
                f"use an https:// registry (plain http is allowed on loopback only)"
            )
        self._token = token or None
        self.timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout  # for one resource: attempts, waits, redirects
        self.deadline = deadline  # for the whole audit (monotonic), if it has one
        self.max_body = max_body
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._trace = trace
        self.session = requests.Session()
        # No ~/.netrc, no environment CA/auth surprises; proxies are read per request.
        self.session.trust_env = False
        self.session.headers.update(
            {"User-Agent": f"npm-guard/{__version__}", "Accept": "application/json"}
        )
        adapter = _NpmAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._cache: dict[str, FetchResult] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.sent: list[str] = []  # every request that went out, in order (for tests)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def authenticates(self, url: str) -> bool:
        """True when a request to `url` carries the token: same origin as its registry."""
        if self._token is None:
            return False
        scheme, host, port = origin(url)
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            return False
        return (scheme, host, port) == origin(self.token_registry)

    def get_json(self, url: str, kind: str) -> FetchResult:
        """GET `url`, parse JSON, validate against schema `kind`; cached per URL."""
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:
            cached = self._cache.get(url)
            if cached is None:
                cached = self._fetch(url, kind)
                self._cache[url] = cached
            return cached

    # The rest is one request's life: retries, redirects, body, JSON, schema.

    def _endpoint(self, url: str) -> str:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"GET {parts.scheme}://{parts.netloc}{parts.path}{query}"

    def _log(self, line: str) -> None:
        if self._trace is not None:
            secrets = [self._token] if self._token else []
            self._trace(scrub(line, secrets))

    def _fetch(self, url: str, kind: str) -> FetchResult:
        ends = time.monotonic() + self.total_timeout
        _current.overall = self.deadline is not None and self.deadline <= ends
        _current.ends = self.deadline if _current.overall else ends
        try:
            return self._fetch_within_deadline(url, kind)
        finally:
            _finish_exchange()

    def _deadline_failure(self, endpoint: str) -> FetchFailure:
        if getattr(_current, "overall", False):
            return FetchFailure(
                endpoint,
                "not finished when the audit's time ran out; not asked again",
                out_of_time=True,
            )
        return FetchFailure(
            endpoint,
            f"took longer than {self.total_timeout:g} s in all (the limit for one request); "
            f"the registry may be sending the response a few bytes at a time",
        )

    @staticmethod
    def _time_left() -> float:
        """Seconds until this fetch's deadline (its own, or the audit's if sooner)."""
        ends: float = getattr(_current, "ends", math.inf)
        return ends - time.monotonic()

    def _fetch_within_deadline(self, url: str, kind: str) -> FetchResult:
        endpoint = self._endpoint(url)
        response = self._get_following_redirects(url, endpoint)
        if isinstance(response, FetchFailure):
            return response
        try:
            body = self._read_body(response)
        except (requests.RequestException, OSError) as error:
            if _exchange_expired():
                return self._deadline_failure(endpoint)
            return FetchFailure(
                endpoint, f"the connection failed while reading the body ({_kind_of(error)})"
            )
        finally:
            response.close()
        if _exchange_expired():
            return self._deadline_failure(endpoint)
        if body is None:
            return FetchFailure(endpoint, f"the response is larger than {_size(self.max_body)}")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return FetchFailure(endpoint, "the response is not valid JSON", response.status_code)
        except RecursionError:
            return FetchFailure(
                endpoint, "the response is nested too deeply to decode", response.status_code
            )
        try:
            problem = schema_problem(kind, data)
        except RecursionError:
            problem = "$ is nested too deeply to check"
        if problem is not None:
            return FetchFailure(
                endpoint,
                f"the response does not match schema registry-{kind}: {problem}",
                response.status_code,
            )
        return Fetched(endpoint, data)

    def _read_body(self, response: requests.Response) -> bytes | None:
        """The body, or None once it is larger than `max_body`; stops at the deadline."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if _exchange_expired():
                break
        return b"".join(chunks)

    def _get_following_redirects(self, url: str, endpoint: str) -> requests.Response | FetchFailure:
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._get_with_retries(current, endpoint)
            if isinstance(response, FetchFailure):
                return response
            if response.status_code not in _REDIRECTS:
                return response
            location = response.headers.get("Location")
            response.close()
            if not location:
                return FetchFailure(endpoint, "a redirect without a Location", response.status_code)
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                return FetchFailure(endpoint, "a redirect to a non-http URL", response.status_code)
            if self.authenticates(current) and not self.authenticates(target):
                self._log(f"redirect from {current} to another origin: the token is withheld")
            current = target
        return FetchFailure(endpoint, f"more than {_MAX_REDIRECTS} redirects")

    def _get_with_retries(self, url: str, endpoint: str) -> requests.Response | FetchFailure:
        attempt = 0
        while True:
            outcome = self._get_once(url, endpoint)
            if isinstance(outcome, requests.Response):
                status = outcome.status_code
                if status < 400:
                    return outcome
                failure = self._status_failure(outcome, endpoint)
                wait_header = outcome.headers.get("Retry-After")
                outcome.close()
                if status != 429 and status < 500:
                    return failure  # other 4xx: asking again gives the same answer
            else:
                failure, wait_header = outcome, None
                if _exchange_expired():
                    return failure  # cut at the deadline: asking again cannot finish sooner
            if attempt >= self.retries:
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                return FetchFailure(failure.endpoint, f"{failure.reason} ({tries})", failure.status)
            wait = _retry_after(wait_header, self._clock())
            if wait is None:
                wait = self.backoff * (2**attempt)
            elif wait > self.max_wait:
                return FetchFailure(
                    endpoint,
                    f"{failure.reason}; the registry asked to retry after {wait:.0f} s, "
                    f"longer than the {self.max_wait:.0f} s this audit waits",
                    failure.status,
                )
            if wait >= self._time_left():
                return FetchFailure(
                    endpoint,
                    f"{failure.reason}; no time left to ask again "
                    f"({attempt + 1} attempt{'s' if attempt else ''})",
                    failure.status,
                    out_of_time=getattr(_current, "overall", False),
                )
            self._log(f"retrying {url} in {wait:.1f} s after: {failure.reason}")
            self._sleep(wait)
            attempt += 1

    def _get_once(self, url: str, endpoint: str) -> requests.Response | FetchFailure:
        headers: dict[str, str] = {}
        if self.authenticates(url) and self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        proxies = requests.utils.get_environ_proxies(url)
        _finish_exchange()  # the previous attempt's, or the redirect's
        left = self._time_left()
        if left <= 0:
            return self._deadline_failure(endpoint)
        started = time.monotonic()
        with self._guard:
            self.sent.append(url)
        # What is left of the fetch's time, never a fresh full limit for a retry.
        _current.exchange = _Exchange(left)
        # The watchdog cuts the socket at the deadline; a socket it could not cut (still
        # connecting when it fired) is bounded by its own timeouts, never beyond it.
        bound = left + 1.0
        timeout = (min(self.timeout[0], bound), min(self.timeout[1], bound))
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                proxies=proxies,
            )
        except (requests.RequestException, OSError) as error:
            if _exchange_expired():
                self._log(f"GET {url}: cut off at the deadline")
                return self._deadline_failure(endpoint)
            if isinstance(error, requests.Timeout):
                self._log(f"GET {url}: timed out")
                return FetchFailure(endpoint, f"timed out (limit {self.timeout[1]:g} s)")
            self._log(f"GET {url}: {_kind_of(error)}")
            return FetchFailure(endpoint, f"the connection failed ({_kind_of(error)})")
        elapsed = (time.monotonic() - started) * 1000
        auth = "with token" if headers else "anonymous"
        self._log(f"GET {url} ({auth}) -> {response.status_code} in {elapsed:.0f} ms")
        return response

    def _status_failure(self, response: requests.Response, endpoint: str) -> FetchFailure:
        status = response.status_code
        if status == 401:
            challenge = response.headers.get("WWW-Authenticate", "").lower()
            if "ipaddress" in challenge:
                reason = "refused (HTTP 401): the token's CIDR allow-list excludes this machine"
            elif "otp" in challenge:
                reason = "refused (HTTP 401): the registry wants a one-time password (2FA)"
            else:
                reason = "refused (HTTP 401): not authenticated, or the token is not accepted here"
        elif status == 403:
            reason = "refused (HTTP 403): forbidden for this token"
        elif status == 404:
            reason = "not found (HTTP 404), or not visible to this token"
        elif status == 429:
            reason = "rate limited (HTTP 429)"
        elif status >= 500:
            reason = f"registry error (HTTP {status})"
        else:
            reason = f"unexpected HTTP {status}"
        message = _error_message(response) if status < 500 else None
        if message:
            reason += f": {message}"
        return FetchFailure(endpoint, reason, status)


def _finish_exchange() -> None:
    exchange: _Exchange | None = getattr(_current, "exchange", None)
    if exchange is not None:
        exchange.finish()
        _current.exchange = None


def _exchange_expired() -> bool:
    exchange: _Exchange | None = getattr(_current, "exchange", None)
    return exchange is not None and exchange.expired


def _size(count: int) -> str:
    return f"{count // 2**20} MB" if count >= 2**20 else f"{count} bytes"


def _error_message(response: requests.Response) -> str | None:
    """The registry's own `error`/`message` text, short and scrubbed, if it sent one."""
    try:
        raw = response.raw.read(4096, decode_content=True) if response.raw else b""
        body = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, OSError, RecursionError, requests.RequestException):
        return None
    if not isinstance(body, dict):
        return None
    text = body.get("error") or body.get("message")
    if not isinstance(text, str) or not text.strip():
        return None
    text = " ".join(text.split())
    return scrub(text[:160] + ("…" if len(text) > 160 else ""))


def _kind_of(error: BaseException) -> str:
    """A short, credential-free description of a connection error."""
    text = str(error).lower()
    if "reset" in text:
        return "connection reset by peer"
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "resolve" in text:
        return "host name not found"
    if "ssl" in text or "certificate" in text:
        return "TLS error"
    if "remotedisconnected" in text or "aborted" in text or "closed" in text:
        return "connection closed by the registry"
    return type(error).__name__
