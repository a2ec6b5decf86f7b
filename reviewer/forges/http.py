"""One small HTTP client for forge REST APIs: auth header, JSON, pagination, rate limits.

- Secondary rate limits (403 or 429 with ``Retry-After``) and exhausted primary limits
  (``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``, or GitLab's ``RateLimit-Reset``) are
  waited out, but only while the total wait stays within ``max_wait`` seconds; past that the run
  stops with a clear error instead of hanging a CI job.
- Server errors (5xx) and dropped connections are retried a few times for reads and edits; a
  create (POST) is not repeated after a 5xx, since the forge may have done it already.
- The token lives in one header and never in a message: every error text is scrubbed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reviewer import __version__
from reviewer.errors import EXIT_BACKEND, ReviewerError
from reviewer.forges.scrub import Scrubber

_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class ForgeError(ReviewerError):
    """The forge's API failed or refused (exit 3), with its own message."""

    exit_code = EXIT_BACKEND

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class Forbidden(ForgeError):
    """403 without rate-limit signs: the token may not do this (a read-only token, as on forks)."""


class Rejected(ForgeError):
    """422 (GitHub) or 400 (GitLab): the request was understood and refused, e.g. a bad anchor."""


class RateLimited(ForgeError):
    """A rate limit that would take longer than the allowed wait."""


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    data: Any
    text: str


Sleeper = Callable[[float], None]


class ApiClient:
    def __init__(
        self,
        base_url: str,
        auth_headers: dict[str, str],
        *,
        scrub: Scrubber,
        max_wait: float = 120.0,
        timeout: float = 30.0,
        extra_headers: dict[str, str] | None = None,
        sleep: Sleeper = time.sleep,
        retries: int = 3,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.scrub = scrub
        for v in auth_headers.values():
            scrub.add(v.split(" ", 1)[-1])
        self.max_wait = max_wait
        self.waited = 0.0
        self.requests = 0
        self.rate_limit_waits = 0
        self._sleep = sleep
        self._retries = retries
        headers = {"User-Agent": f"reviewer/{__version__}", **(extra_headers or {}), **auth_headers}
        self._http = httpx.Client(headers=headers, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:  # never show headers
        return f"ApiClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    # -- requests --------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                accept: str | None = None) -> Response:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        if not url.startswith(self.base_url):
            # a pagination link pointing elsewhere would carry our token to another host
            raise ForgeError(f"refusing to follow a link outside {self.base_url}")
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                resp = self._http.request(
                    method, url, params=params,
                    content=None if json_body is None else json.dumps(json_body).encode(),
                    headers={"Content-Type": "application/json"} | ({"Accept": accept} if accept else {}),
                )
            except httpx.HTTPError as exc:
                if attempt <= self._retries and method != "POST":
                    self._wait(min(2.0 ** attempt, 10.0), f"{method} {_short(path)}: {type(exc).__name__}")
                    continue
                raise ForgeError(self.scrub(f"{method} {_short(path)} failed: {type(exc).__name__}: {exc}")) from None
            wait = self._rate_limit_wait(resp)
            if wait is not None:
                self.rate_limit_waits += 1
                self._wait(wait, f"{method} {_short(path)}: rate limited ({resp.status_code})")
                continue
            if resp.status_code >= 500 and method != "POST" and attempt <= self._retries:
                self._wait(min(2.0 ** attempt, 10.0), f"{method} {_short(path)}: {resp.status_code}")
                continue
            return self._finish(method, path, resp)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).data

    def paginate(self, path: str, params: dict[str, Any] | None = None, *, limit: int = 5000) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` (GitHub) or
        ``X-Next-Page`` (GitLab)."""
        base = {"per_page": 100, **(params or {})}
        url: str | None = path
        query: dict[str, Any] | None = base
        seen = 0
        while url:
            resp = self.request("GET", url, params=query)
            items = resp.data if isinstance(resp.data, list) else []
            for item in items:
                yield item
                seen += 1
                if seen >= limit:
                    return
            nxt = _LINK_NEXT.search(resp.headers.get("link", ""))
            next_page = resp.headers.get("x-next-page", "")
            if nxt:
                url, query = nxt.group(1), None
            elif next_page.isdigit() and items:
                url, query = path, {**base, "page": next_page}
            else:
                url = None

    # -- internals -------------------------------------------------------------------------
    def _wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        if self.waited + seconds > self.max_wait:
            raise RateLimited(
                self.scrub(f"{why}: waiting {seconds:.0f}s more would pass the {self.max_wait:.0f}s limit"),
                hint="run again later, or raise --max-wait",
            )
        self.waited += seconds
        self._sleep(seconds)

    def _rate_limit_wait(self, resp: httpx.Response) -> float | None:
        if resp.status_code not in (403, 429):
            return None
        h = resp.headers
        retry_after = h.get("retry-after")
        if retry_after is not None:
            return _seconds(retry_after)
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset"):
            try:
                return max(0.0, float(h["x-ratelimit-reset"]) - time.time()) + 1.0
            except ValueError:
                return 60.0
        if h.get("ratelimit-remaining") == "0" and h.get("ratelimit-reset"):
            try:
                return max(0.0, float(h["ratelimit-reset"]) - time.time()) + 1.0
            except ValueError:
                return 60.0
        if resp.status_code == 429 or "secondary rate limit" in resp.text.lower():
            return 60.0  # GitHub: wait at least a minute when it gives no time
        return None

    def _finish(self, method: str, path: str, resp: httpx.Response) -> Response:
        text = resp.text
        try:
            data = resp.json() if text and "json" in resp.headers.get("content-type", "") else None
        except ValueError:
            data = None
        if resp.status_code < 400:
            return Response(resp.status_code, resp.headers, data if data is not None else text, text)
        message = _message(data, text)
        where = f"{method} {_short(path)}"
        msg = self.scrub(f"{where}: {resp.status_code} {message}".strip())
        if resp.status_code == 401:
            raise ForgeError(msg, status=401, hint="the token is missing, expired or not valid for this API")
        if resp.status_code == 403:
            raise Forbidden(msg, status=403)
        if resp.status_code == 404:
            raise ForgeError(msg, status=404, hint="check the repository and number, and that the token can see them")
        if resp.status_code in (400, 422):
            raise Rejected(msg, status=resp.status_code)
        raise ForgeError(msg, status=resp.status_code)


def _message(data: Any, text: str) -> str:
    if isinstance(data, dict):
        parts = [str(data.get("message") or data.get("error") or "")]
        errors = data.get("errors")
        if isinstance(errors, list):
            parts += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:3]]
        return " ".join(p for p in parts if p)[:500]
    return " ".join(text.split())[:200]


def _short(path: str) -> str:
    return re.sub(r"^https?://[^/]+", "", path).split("?")[0]


def _seconds(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 60.0
    return max(0.0, when.timestamp() - time.time())
