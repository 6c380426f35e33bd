"""AWS's `pattern` constraints (java.util.regex syntax) as Python `re` patterns.

botocore copies each pattern verbatim from AWS's model, and AWS matches it against the whole value
(`Matcher.matches`), so callers use `fullmatch`. Most Java syntax is Python syntax too; what differs is
translated here:

- `\\p{..}`/`\\P{..}`: Unicode general categories (`L`, `Lu`, `N`, `Z`, ..., optionally `Is`-prefixed)
  and Java's POSIX classes (`Alnum`, `ASCII`, `Punct`, ...) become explicit ranges, inside or outside a
  character class. Categories come from Python's `unicodedata`, whose Unicode version can differ a
  little from the JVM's;
- a UTF-16 surrogate pair written `\\uD800\\uDC00` is the code point it encodes (U+10000);
- `.` excludes every Java line terminator (`\\n \\r \\u0085 \\u2028 \\u2029`), not only `\\n`;
- `\\d \\w \\s \\b` are ASCII-only in Java by default: patterns compile with `re.ASCII`;
- `\\h \\H \\v \\V \\R \\e \\z \\Z \\x{..} \\Q..\\E \\k<name>` and `(?<name>..)` get their Python spellings;
- an anchor with a quantifier (`${1,128}`, which Java accepts and Python does not) keeps the anchor,
  or drops it when the quantifier allows zero repetitions.

Possessive quantifiers (`a*+`) and atomic groups (`(?>..)`) need nothing: Python 3.11 has both.
Unsupported, raising ValueError: class unions and intersections (`[a-z[0-9]]`, `[a-z&&[^b]]`) and
other `\\p` names (scripts, blocks, `java*` properties); no SageMaker, Step Functions or Service Quotas
pattern uses them.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

Ranges = tuple[tuple[int, int], ...]

_LINE_TERMINATORS = "\\n\\r\\x85\\u2028\\u2029"
_HORIZONTAL = "\\t \\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VERTICAL = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
_ESCAPES_OUTSIDE = {
    "R": f"(?:\\r\\n|[{_VERTICAL}])",
    "z": "\\Z",
    "Z": f"(?=[{_LINE_TERMINATORS}]?\\Z)",
}
_CLASS_ESCAPES = {"h": _HORIZONTAL, "v": _VERTICAL, "e": "\\x1b"}
_NEGATED_CLASS_ESCAPES = {"H": _HORIZONTAL, "V": _VERTICAL}


def _span(low: str, high: str | None = None) -> Ranges:
    """One range of characters given as characters."""
    return ((ord(low), ord(high if high is not None else low)),)


_PUNCT: Ranges = ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E))
_ALPHA: Ranges = _span("A", "Z") + _span("a", "z")
_ALNUM: Ranges = _span("0", "9") + _ALPHA
# Java's POSIX classes: US-ASCII only unless UNICODE_CHARACTER_CLASS is set (AWS does not set it).
_POSIX: dict[str, Ranges] = {
    "Lower": _span("a", "z"),
    "Upper": _span("A", "Z"),
    "ASCII": ((0x00, 0x7F),),
    "Alpha": _ALPHA,
    "Digit": _span("0", "9"),
    "Alnum": _ALNUM,
    "Punct": _PUNCT,
    "Graph": _ALNUM + _PUNCT,
    "Print": ((0x20, 0x7E),),
    "Blank": _span(" ") + _span("\t"),
    "Cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "XDigit": _span("0", "9") + _span("a", "f") + _span("A", "F"),
    "Space": ((0x09, 0x0D), (0x20, 0x20)),
}


@cache
def _categories() -> dict[str, Ranges]:
    """Every two-letter Unicode general category as code point ranges (one pass, computed once)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    start, current = 0, unicodedata.category("\x00")
    for code in range(1, sys.maxunicode + 2):
        category = unicodedata.category(chr(code)) if code <= sys.maxunicode else ""
        if category != current:
            spans.setdefault(current, []).append((start, code - 1))
            start, current = code, category
    return {name: tuple(found) for name, found in spans.items()}


def _merge(ranges: list[tuple[int, int]]) -> Ranges:
    """Sorted, non-overlapping, non-adjacent ranges."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    """The code points not in `ranges`."""
    result: list[tuple[int, int]] = []
    next_free = 0
    for low, high in ranges:
        if low > next_free:
            result.append((next_free, low - 1))
        next_free = high + 1
    if next_free <= sys.maxunicode:
        result.append((next_free, sys.maxunicode))
    return tuple(result)


@cache
def _property(name: str) -> Ranges:
    """The code points of a `\\p{name}` Java accepts (POSIX class or general category)."""
    if name in _POSIX:
        return _merge(list(_POSIX[name]))
    category = name.removeprefix("Is")
    if 1 <= len(category) <= 2 and category.isalpha():
        found = [span for key, spans in _categories().items() if key.startswith(category) for span in spans]
        if found:
            return _merge(found)
    raise ValueError(f"unsupported Java character property \\p{{{name}}}")


def _class_body(ranges: Ranges) -> str:
    """Ranges as the inside of a Python character class."""
    return "".join(f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


class _Translator:
    """One left-to-right pass over a Java pattern, writing its Python equivalent."""

    def __init__(self, pattern: str) -> None:
        self.source = pattern
        self.at = 0
        self.out: list[str] = []
        self.in_class = False

    def run(self) -> str:
        """The whole translated pattern."""
        while self.at < len(self.source):
            self._step()
        if self.in_class:
            raise ValueError("unterminated character class")
        return "".join(self.out)

    def _peek(self, offset: int = 0) -> str:
        position = self.at + offset
        return self.source[position] if position < len(self.source) else ""

    def _step(self) -> None:
        char = self.source[self.at]
        self.at += 1
        if char == "\\":
            self._escape()
        elif self.in_class:
            self._class_char(char)
        else:
            self._plain_char(char)

    def _class_char(self, char: str) -> None:
        if char == "[":
            raise ValueError("nested character classes (unions) are not supported")
        if char == "&" and self._peek() == "&":
            raise ValueError("character class intersections are not supported")
        if char == "]":
            self.in_class = False
        self.out.append(char)

    def _plain_char(self, char: str) -> None:
        if char == "[":
            self.in_class = True
            negated = self._peek() == "^"
            self.out.append("[^" if negated else "[")
            self.at += int(negated)
        elif char == ".":
            self.out.append(f"[^{_LINE_TERMINATORS}]")
        elif char in "^$":
            self._anchor(char)
        elif char == "(" and self.source.startswith("?<", self.at) and self._peek(2) not in "=!":
            self.out.append("(?P<")
            self.at += 2
        else:
            self.out.append(char)

    def _anchor(self, char: str) -> None:
        """An anchor; its quantifier (legal in Java) is dropped, the anchor too if it may repeat 0 times."""
        quantifier = re.match(r"\{(\d*)(?:,\d*)?\}|[*?+]", self.source[self.at :])
        if quantifier is None:
            self.out.append(char)
            return
        self.at += quantifier.end()
        if self._peek() in ("+", "?") and self._peek():
            self.at += 1  # a lazy or possessive mark on the quantifier
        minimum = quantifier.group(1) if quantifier.group(0).startswith("{") else None
        optional = quantifier.group(0) in ("*", "?") or minimum in ("", "0")
        if not optional:
            self.out.append(char)

    def _escape(self) -> None:
        letter = self._peek()
        self.at += 1
        if letter in ("p", "P"):
            self._property(negated=letter == "P")
        elif letter == "u":
            self._code_point(self._utf16())
        elif letter == "x" and self._peek() == "{":
            end = self.source.index("}", self.at)
            self._code_point(int(self.source[self.at + 1 : end], 16))
            self.at = end + 1
        elif letter == "Q":
            self._quote()
        elif letter == "k" and self._peek() == "<":
            end = self.source.index(">", self.at)
            self.out.append(f"(?P={self.source[self.at + 1 : end]})")
            self.at = end + 1
        else:
            self.out.append(self._simple_escape(letter))

    def _simple_escape(self, letter: str) -> str:
        if letter in _CLASS_ESCAPES:
            body = _CLASS_ESCAPES[letter]
            return body if self.in_class or letter == "e" else f"[{body}]"
        if letter in _NEGATED_CLASS_ESCAPES:
            if self.in_class:
                raise ValueError(f"\\{letter} inside a character class is not supported")
            return f"[^{_NEGATED_CLASS_ESCAPES[letter]}]"
        if letter in _ESCAPES_OUTSIDE and not self.in_class:
            return _ESCAPES_OUTSIDE[letter]
        if letter == "c":
            control = chr(ord(self._peek()) ^ 0x40)
            self.at += 1
            return f"\\x{ord(control):02x}"
        return "\\" + letter

    def _property(self, *, negated: bool) -> None:
        if self._peek() == "{":
            end = self.source.index("}", self.at)
            name, self.at = self.source[self.at + 1 : end], end + 1
        else:
            name, self.at = self._peek(), self.at + 1
        ranges = _property(name)
        body = _class_body(_complement(ranges) if negated else ranges)
        self.out.append(body if self.in_class else f"[{body}]")

    def _utf16(self) -> int:
        """A `\\uXXXX` escape's code point, joining a surrogate pair written as two escapes."""
        unit = int(self.source[self.at : self.at + 4], 16)
        self.at += 4
        low = re.match(r"\\u(d[c-f][0-9a-f]{2})", self.source[self.at :], re.IGNORECASE)
        if 0xD800 <= unit <= 0xDBFF and low is not None:
            self.at += low.end()
            return 0x10000 + ((unit - 0xD800) << 10) + (int(low.group(1), 16) - 0xDC00)
        return unit

    def _code_point(self, code: int) -> None:
        self.out.append(f"\\U{code:08x}")

    def _quote(self) -> None:
        end = self.source.find("\\E", self.at)
        end = len(self.source) if end < 0 else end
        self.out.append("".join(_quoted(char) for char in self.source[self.at : end]))
        self.at = min(end + 2, len(self.source))


def _quoted(char: str) -> str:
    """A literal character, escaped for either context."""
    return re.escape(char) if char.isascii() else f"\\U{ord(char):08x}"


def translate(pattern: str) -> str:
    """The Python spelling of a Java regular expression (ValueError when it has no faithful one)."""
    return _Translator(pattern).run()


@cache
def java_regex(pattern: str) -> re.Pattern[str]:
    """A Java pattern compiled for `fullmatch` with Java's defaults (ASCII \\d \\w \\s, Java's `.`)."""
    try:
        return re.compile(translate(pattern), re.ASCII)
    except re.error as error:
        raise ValueError(f"cannot compile {pattern!r}: {error}") from error
