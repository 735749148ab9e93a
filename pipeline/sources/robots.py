"""robots.txt, fetched once per host with our own client (urllib.robotparser.read() would use urllib).

RFC 9309: a 4xx answer, or redirects that cannot be followed, mean "unavailable" (allow all);
a 5xx answer or no answer means "unreachable" (disallow all).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# (status, body) of GET /robots.txt; status 0 when the host could not be reached.
FetchRobots = Callable[[str], tuple[int, bytes]]


class Robots:
    """Answers "may we fetch this URL?" for one user agent, one robots.txt per scheme and host."""

    def __init__(self, fetch: FetchRobots, user_agent: str) -> None:
        self._fetch = fetch
        self._agent = user_agent
        self._parsers: dict[tuple[str, str], RobotFileParser] = {}

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return True
        key = (parts.scheme, parts.netloc)
        if key not in self._parsers:
            self._parsers[key] = self._load(f"{parts.scheme}://{parts.netloc}/robots.txt")
        return self._parsers[key].can_fetch(self._agent, url)

    def _load(self, robots_url: str) -> RobotFileParser:
        status, body = self._fetch(robots_url)
        parser = RobotFileParser(robots_url)
        if 200 <= status < 300:
            parser.parse(body.decode("utf-8", errors="replace").splitlines())
        elif 300 <= status < 500 and status != 429:
            parser.allow_all = True
        else:  # 5xx, 429 after retries, unreachable
            parser.disallow_all = True
        return parser
