"""A limit on how many bytes of a model server's answer are read off the wire.

The model server is not trusted to be small: a broken or hostile one can answer with megabytes
the tool would read, parse and keep. ``capped_http_client`` is the openai SDK's own default HTTP
client (of whichever HTTP library the SDK is built on: httpx, or httpx2 for openai 3.x) with a
response hook that counts each answer's bytes as they are read and raises ``AnswerTooLarge``
past the limit, whether the answer is streamed or not.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from typing import Any

import openai


class AnswerTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit:,} bytes")
        self.limit = limit


@functools.cache
def _http_library() -> Any:
    for cls in openai.DefaultHttpxClient.__mro__:
        root = cls.__module__.split(".")[0]
        if root.startswith("httpx"):
            return importlib.import_module(root)
    raise RuntimeError("the openai SDK's HTTP library was not found")  # pragma: no cover


@functools.cache
def _capped_stream_class() -> type:
    base = _http_library().SyncByteStream

    class CappedStream(base):  # type: ignore[misc, valid-type]
        def __init__(self, inner: Any, limit: int) -> None:
            self.inner = inner
            self.limit = limit

        def __iter__(self) -> Iterator[bytes]:
            seen = 0
            for chunk in self.inner:
                seen += len(chunk)
                if seen > self.limit:
                    raise AnswerTooLarge(self.limit)
                yield chunk

        def close(self) -> None:
            self.inner.close()

    return CappedStream


def capped_http_client(limit: int, **kwargs: Any) -> Any:
    """The SDK's default HTTP client, reading at most ``limit`` bytes of any answer."""
    stream_class = _capped_stream_class()

    def cap(response: Any) -> None:
        response.stream = stream_class(response.stream, limit)

    return openai.DefaultHttpxClient(event_hooks={"response": [cap]}, **kwargs)


def too_large(exc: BaseException) -> AnswerTooLarge | None:
    """The ``AnswerTooLarge`` behind ``exc`` (the SDK wraps errors met while it reads), or None."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, AnswerTooLarge):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
