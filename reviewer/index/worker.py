"""A worker process for ``reviewer.index.batch.WorkerPool``: ``python -m reviewer.index.worker``.

It reads length-prefixed pickled frames on stdin and answers on stdout: each frame names a
function (``module:function`` inside the ``reviewer`` package) and a chunk of argument tuples;
the answer holds the results in the same order. ``None`` stops it. Frames only ever travel
between this tool's own processes over pipes it created. Plain subprocesses rather than
``multiprocessing``, which would re-import the caller's ``__main__`` in every worker.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import sys
from collections.abc import Callable
from typing import IO, Any

_HEADER = struct.Struct("<Q")


def write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("worker stream closed")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("worker stream truncated")
    return pickle.loads(data)  # our own process, on a pipe we created


def function_name(fn: Callable[..., Any]) -> str:
    module, name = getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")
    if not module.startswith("reviewer.") or "." in name or "<" in name:
        raise ValueError("worker functions must be module-level functions of the reviewer package")
    return f"{module}:{name}"


def resolve(name: str) -> Callable[..., Any]:
    module, _, attr = name.partition(":")
    if not module.startswith("reviewer.") or not attr or "." in attr:
        raise ValueError(f"not a reviewer function: {name}")
    return getattr(importlib.import_module(module), attr)


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    functions: dict[str, Callable[..., Any]] = {}
    while True:
        frame = read_frame(stdin)
        if frame is None:
            # every answer is written and flushed: leave at once, without the interpreter's
            # tidying up (freeing a loaded tokenizer alone takes a tenth of a second or more)
            os._exit(0)
        name, chunk = frame
        fn = functions.get(name) or functions.setdefault(name, resolve(name))
        write_frame(stdout, [fn(*args) for args in chunk])


if __name__ == "__main__":
    sys.exit(main())
