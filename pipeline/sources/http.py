"""A polite fetcher: what httpx leaves to us (PITFALLS.md, Crawling), done once for every request.

One request at a time per host with a randomised delay (never shorter than the host's robots.txt
Crawl-delay); retries with exponential backoff and jitter
on 429, 5xx, timeouts and connection errors, honouring Retry-After; redirects followed by hand so that
every hop passes the caller's guard (allowed domains, robots.txt); a byte cap counted while streaming,
and an overall deadline per download (a server dripping bytes just inside the read timeout cannot hold
one request for ever);
file:// URLs read from disk through the same interface (no delay: nobody's server is involved).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

USER_AGENT = "xxgk/0.1 (+https://github.com/xxgk; government report research crawler)"
MAX_BYTES = 50 * 1024 * 1024
MAX_RETRIES = 3
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 1.0
DOWNLOAD_DEADLINE = 120.0  # seconds one response may take from request to last byte
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';\s]+)""", re.IGNORECASE)

# A reason to refuse a URL (out of domain, disallowed by robots.txt), or None to allow it.
Guard = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Response:
    """The outcome of one fetch: the final URL after redirects, and `error` set unless 200 or 304."""

    url: str
    status: int  # 0 when there was no HTTP answer (refused, timeout, connection error)
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=httpx.Headers)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304


def http_charset(headers: Mapping[str, str]) -> str | None:
    """The charset parameter of the Content-Type header, as sent."""
    match = _CHARSET.search(headers.get("content-type", ""))
    return match.group(1) if match else None


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def read_file(url: str, max_bytes: int) -> Response:
    """A file:// URL read from disk, answered like HTTP (200, or 404 when missing)."""
    path = Path(url2pathname(urlsplit(url).path))
    try:
        if not path.is_file():
            return Response(url, 404, error="file not found")
        if path.stat().st_size > max_bytes:
            return Response(url, 200, error=f"response exceeds {max_bytes} bytes")
        return Response(url, 200, path.read_bytes())
    except OSError as exc:
        return Response(url, 0, error=f"cannot read {path}: {exc}")


class Fetcher:
    """GETs with politeness, retries, manual redirects and a size cap; never raises for network trouble."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        delay: float,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = MAX_BYTES,
        deadline: float = DOWNLOAD_DEADLINE,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._log = log or (lambda _msg: None)
        self._delay = delay
        self._sleep = sleep
        self.max_bytes = max_bytes
        self.deadline = deadline
        self._rng = rng or random.Random()
        self._clock = clock
        self._last: dict[str, float] = {}  # host → when its last request ended
        self._floor: dict[str, float] = {}  # host → its robots.txt Crawl-delay

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        """A host's Crawl-delay: the pause before each of its requests is at least this long."""
        self._floor[host] = seconds

    def get(self, url: str, headers: Mapping[str, str] | None = None, guard: Guard | None = None) -> Response:
        """Fetch `url`, following up to MAX_REDIRECTS redirects; `guard` vets every hop."""
        if guard is not None and (reason := guard(url)):
            return Response(url, 0, error=f"refused: {reason}")
        if urlsplit(url).scheme == "file":
            return read_file(url, self.max_bytes)
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._request(current, headers or {})
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            target = urldefrag(urljoin(current, location)).url
            reason = "not an http(s) URL" if urlsplit(target).scheme not in ("http", "https") else None
            if reason is None and guard is not None:
                reason = guard(target)
            if reason:
                return Response(current, response.status, error=f"redirect to {target} refused: {reason}")
            current = target
        return Response(current, response.status, error=f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: Mapping[str, str]) -> Response:
        """One URL, no redirects: retried on 429, 5xx, timeouts and connection errors."""
        host = urlsplit(url).hostname or ""
        pause, attempt = 0.0, 0
        while True:
            self._wait(host, pause)
            try:
                response = self._send(url, headers)
                retriable = response.status == 429 or response.status >= 500
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                response, retriable = Response(url, 0, error=f"{type(exc).__name__}: {exc}"), True
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                response, retriable = Response(url, 0, error=f"{type(exc).__name__}: {exc}"), False
            finally:
                self._last[host] = self._clock()
            if not retriable or attempt == MAX_RETRIES:
                return response
            pause = retry_after(response.headers.get("retry-after"))
            if pause is None:
                pause = BACKOFF_BASE * 2**attempt * self._rng.uniform(0.5, 1.5)
            attempt += 1
            self._log(f"GET {url}: {response.error}; retry {attempt}/{MAX_RETRIES} in {pause:.1f} s")

    def _send(self, url: str, headers: Mapping[str, str]) -> Response:
        """One GET, streamed: the body is read only for 200, cut off past max_bytes or the deadline."""
        request_headers = {**headers, "User-Agent": USER_AGENT}
        started = self._clock()
        with self._client.stream("GET", url, headers=request_headers, follow_redirects=False) as r:
            status = r.status_code
            if status != 200:
                expected = status == 304 or (status in _REDIRECTS and "location" in r.headers)
                return Response(url, status, headers=r.headers, error=None if expected else f"HTTP {status}")
            too_big = Response(
                url, status, headers=r.headers, error=f"response exceeds {self.max_bytes} bytes"
            )
            declared = r.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                return too_big
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    return too_big
                if self._clock() - started > self.deadline:
                    error = f"download exceeded {self.deadline:g} s ({size} bytes received)"
                    return Response(url, status, headers=r.headers, error=error)
                chunks.append(chunk)
            return Response(url, status, b"".join(chunks), r.headers)

    def _wait(self, host: str, minimum: float) -> None:
        """Sleep for the longer of `minimum` (backoff) and what is left of this host's pause: the
        randomised delay, or its Crawl-delay when that is longer."""
        polite = 0.0
        if host in self._last:
            pause = max(self._delay * self._rng.uniform(0.5, 1.5), self._floor.get(host, 0.0))
            polite = pause - (self._clock() - self._last[host])
        pause = max(minimum, polite)
        if pause > 0:
            self._sleep(pause)
