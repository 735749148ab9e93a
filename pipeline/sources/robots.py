"""robots.txt, fetched once per host with our own client and read per RFC 9309 by protego.

protego implements what government sites write and urllib.robotparser gets wrong: `*` and `$` in
paths, the longest matching rule winning (Allow over Disallow on a tie), and `Crawl-delay`.
RFC 9309: a 4xx answer, or redirects that cannot be followed, mean "unavailable" (allow all);
a 5xx answer or no answer means "unreachable" (disallow all).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from protego import Protego

# (status, body) of GET /robots.txt; status 0 when the host could not be reached.
FetchRobots = Callable[[str], tuple[int, bytes]]

_ALLOW_ALL = Protego.parse("")
_DISALLOW_ALL = Protego.parse("User-agent: *\nDisallow: /\n")


class Robots:
    """Answers "may we fetch this URL?" and "how long between requests?" for one user agent,
    one robots.txt per scheme and host."""

    def __init__(self, fetch: FetchRobots, user_agent: str) -> None:
        self._fetch = fetch
        self._agent = user_agent
        self._parsers: dict[tuple[str, str], Protego] = {}

    def allowed(self, url: str) -> bool:
        parser = self._parser(url)
        return parser is None or parser.can_fetch(url, self._agent)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay (seconds) robots.txt asks of us on this URL's host, if any."""
        parser = self._parser(url)
        delay = parser.crawl_delay(self._agent) if parser is not None else None
        return float(delay) if delay is not None and delay >= 0 else None

    def _parser(self, url: str) -> Protego | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        key = (parts.scheme, parts.netloc)
        if key not in self._parsers:
            self._parsers[key] = self._load(f"{parts.scheme}://{parts.netloc}/robots.txt")
        return self._parsers[key]

    def _load(self, robots_url: str) -> Protego:
        status, body = self._fetch(robots_url)
        if 200 <= status < 300:
            return Protego.parse(body.decode("utf-8", errors="replace"))
        if 300 <= status < 500 and status != 429:
            return _ALLOW_ALL
        return _DISALLOW_ALL  # 5xx, 429 after retries, unreachable
