"""Split request rows into InvokeEndpoint payloads below the 6 MB limit and a row cap."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

MAX_PAYLOAD_BYTES = 5 * 1024 * 1024  # below SageMaker's 6 MB, leaving room for headers
MAX_ROWS = 1000  # bounded so one request stays well inside the 60 s invocation timeout


def batches(
    rows: Sequence[str], max_bytes: int = MAX_PAYLOAD_BYTES, max_rows: int = MAX_ROWS
) -> Iterator[tuple[int, bytes]]:
    """(number of rows, payload) per request: newline-terminated CSV lines."""
    chunk: list[bytes] = []
    size = 0
    for row in rows:
        line = row.encode("utf-8") + b"\n"
        if len(line) > max_bytes:
            raise ValueError(
                f"one test row is {len(line)} bytes, more than a request may carry ({max_bytes})"
            )
        if chunk and (size + len(line) > max_bytes or len(chunk) >= max_rows):
            yield len(chunk), b"".join(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield len(chunk), b"".join(chunk)
