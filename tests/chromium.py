"""Render an HTML file in headless Chromium: the DOM after load, and every request the page sent out.

Name resolution is mapped to nothing, so no request leaves the machine; Chromium's net log still
records each one the page started. The browser's own background requests (updates, time, sign-in)
carry no initiator ("not an origin") and are left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "chromium"
NOT_INSTALLED = (
    "chromium is not on PATH: `make setup` installs it (Debian's chromium package), "
    "and the HTML pages are checked in it"
)
BROWSER_INITIATOR = "not an origin"  # how the net log names a request of the browser's own
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
LINKING_ATTRIBUTES = ("src", "href", "xlink:href", "data", "action", "poster", "srcset", "background")


def chromium() -> str:
    """The chromium executable; fails the test, saying how to install it, when there is none."""
    path = shutil.which(CHROMIUM)
    if path is None:
        pytest.fail(NOT_INSTALLED, pytrace=False)
    return path


def headless_args(profile: Path) -> list[str]:
    """Flags for a headless run as root (CI) with a throw-away profile and no name resolution."""
    return [
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]


@dataclass(frozen=True)
class Rendered:
    """The serialized DOM after load, and the URLs the page requested (none of which were reached)."""

    dom: str
    requests: tuple[str, ...]

    def root(self) -> Element:
        """The DOM as a tree."""
        return parse(self.dom)

    def assert_self_contained(self) -> None:
        """The page fetched nothing, and has nothing that runs or links outside itself."""
        assert self.requests == ()
        elements = list(self.root().iter())
        assert not [e for e in elements if e.tag in ("script", "iframe", "object", "embed", "img", "link")]
        outside = [
            (e.tag, name, e.attrs[name])
            for e in elements
            for name in LINKING_ATTRIBUTES
            if name in e.attrs and not e.attrs[name].startswith("#")
        ]
        assert outside == []
        assert "url(" not in self.dom and "@import" not in self.dom


def render(page: Path, *, timeout: float = 120) -> Rendered:
    """Load `page` (a local file) in headless Chromium and return its DOM and its network requests."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-") as tmp:
        net_log = Path(tmp) / "net-log.json"
        result = subprocess.run(
            [
                binary,
                *headless_args(Path(tmp) / "profile"),
                f"--log-net-log={net_log}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0 or not result.stdout.strip():
            pytest.fail(f"chromium exited {result.returncode}:\n{result.stderr[-2000:]}", pytrace=False)
        return Rendered(result.stdout, page_requests(net_log))


def page_requests(net_log: Path) -> tuple[str, ...]:
    """URLs of the requests in a Chromium net log that a page started, in order."""
    text = net_log.read_text(encoding="utf-8")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit lacks its closing brackets
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params: dict[str, Any] = event.get("params") or {}
        if event["type"] == start and "url" in params and params.get("initiator") != BROWSER_INITIATOR:
            urls.append(str(params["url"]))
    return tuple(urls)


@dataclass
class Element:
    """One element of a parsed DOM: its tag, attributes, children and the text directly inside it."""

    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        """This element and every element under it, in document order."""
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> list[Element]:
        """Elements under (and including) this one with the tag, class token and attribute values given."""
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.attrs.get("class", "").split())
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def text(self) -> str:
        """All the text under this element."""
        return "".join(self.texts) + "".join(child.text() for child in self.children)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].texts.append(data)


def parse(html: str) -> Element:
    """Parse serialized HTML (as Chromium dumps it: every non-void element closed) into a tree."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
