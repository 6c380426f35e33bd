"""Requests checked against botocore's service models, refused in the words AWS's JSON services use.

SageMaker, Step Functions and Service Quotas speak AWS's JSON protocol. Their front end reads the
body first, then checks each member against the constraints of AWS's model, which botocore ships
verbatim. So there are two kinds of refusal, and this module words both as AWS does:

- a value of the wrong JSON type stops deserialization: SerializationException, one message, no path
  (`STRING_VALUE can not be converted to an Integer`, `NUMBER_VALUE can not be converted to a String`,
  `Start of list found where not expected`, `Start of structure or map found where not expected.`,
  `Expected list or null`, `Expected map or null`, `Expected null` for a scalar given for a structure),
  as Athena, SES v2 and DynamoDB answer them (a Long, Float, Double, Timestamp or Blob target reads
  the same way, a best guess for the ones no answer shows);
- every constraint a well-typed value breaks is one sentence of a ValidationException:
  `Value 'x' at 'path' failed to satisfy constraint: Member must ...`, joined by `validation_message`
  into `N validation error(s) detected: A; B`.

Paths are lowerCamelCase member names joined by dots. A list element is `<list>.<n>.member` with n
counted from 1 (`inputDataConfig.1.member.inputMode`, seen in SageMaker's own answers); a structure
held in a map is `<map>.<key>.member` (`requestItems.<table>.member.keys`, DynamoDB). Constraints of map
keys and values are reported once per map, on the map, listing every constraint of the key or value
shape: `Value '{k=v}' at 'hyperParameters' failed to satisfy constraint: Map value must satisfy
constraint: [Member must have length less than or equal to 2500, Member must have length greater than
or equal to 0, Member must satisfy regular expression pattern: .*]` (a SageMaker answer).

Values print as Java prints them: strings as they are, `null`, numbers as Java's Integer/Long/Double
(`1.0E-5`), booleans `true`/`false`, lists `[a, b]`, maps `{k=v, k2=v2}` (both seen in AWS answers).
Structures print as `Shape(member=value, ...)` with absent members left out, the form DynamoDB echoes
(`TransactWriteItem(put=Put(...))`); other services may print them otherwise, which no public answer
shows. A sensitive member prints no value (`Value at 'input' ...`, Step Functions; `Value at
'secretString'`, Secrets Manager), and so does an integer too large for Java's int or long (`Value at
'maxResults'`, Athena). Enum sets are listed in the model's order: AWS prints a Java set, whose order is
its own (`[Pipe, FastFile, File]` where the model says Pipe, File, FastFile).

Patterns print as the model spells them, which is how SageMaker's answers spell them today
(`[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`; older answers showed the `^...$` form older models had).

Within a structure, members are checked in the model's order, and a member's constraints in this order:
maximum length, minimum length, maximum value, minimum value, pattern, enum; a value breaking two of
them gets two sentences. Lengths count Unicode code points (Smithy's definition), except members whose
documentation says lengths are UTF-8 bytes (Step Functions' `input`), which AWS words
`Member must have size less than or equal to 262144 bytes in UTF-8 encoding`.

A JSON null is an absent member (`Value null at 'x' ... Member must not be null` when required), and
AWS ignores members its model does not know. This module still reports them, as `unknown` violations
worded as botocore refuses them before sending (`Unknown parameter in input: "Foo", must be one of:
...`), so callers can choose; `refusal` answers as AWS does and leaves them out.

Accepted as each type: JSON's own types, plus what boto3 callers pass (timestamps as epoch seconds,
datetimes or ISO 8601 text; blobs as bytes or base64 text). Timestamps print as ISO 8601 (Java's
Instant) and blobs as Java's ByteBuffer does, guesses no public answer confirms.

What the JSON walk cannot know: AWS may coerce some strings to booleans; integers given as non-integral
numbers are accepted (Coral truncates them); list elements that are null are left to the service; a
pattern Python cannot express faithfully (see `java_regex`) is not checked, and no SageMaker, Step
Functions or Service Quotas pattern is one.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal, NamedTuple

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StringShape, StructureShape

from localaws.validation.java_regex import java_regex

Kind = Literal["serialization", "validation", "unknown"]
Check = Callable[[Any], bool]

_START_OBJECT = "Start of structure or map found where not expected."
_START_LIST = "Start of list found where not expected"
_NOT_A_CONTAINER = {
    "structure": "Expected null",
    "list": "Expected list or null",
    "map": "Expected map or null",
}
# Coral's target names; "an Boolean" for a string is what AWS answers (article and all).
_TARGETS = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "float": "a Float",
    "double": "a Double",
    "boolean": "a Boolean",
    "timestamp": "a Timestamp",
    "blob": "a Blob",
}
_INT_LIMITS = {"integer": 2**31, "long": 2**63}
_UTF8_LENGTH_NOTE = "bytes in UTF-8 encoding"


@dataclass(frozen=True)
class Violation:
    """One reason to refuse a request: the AWS error family it belongs to and AWS's sentence."""

    kind: Kind
    message: str


class _At(NamedTuple):
    """Where a value sits: AWS's path (`a.1.member.b`) and botocore's (`A[0].B`, for unknown members)."""

    aws: str = ""
    sdk: str = ""

    def member(self, name: str) -> _At:
        camel = name[:1].lower() + name[1:]
        return _At(f"{self.aws}.{camel}" if self.aws else camel, f"{self.sdk}.{name}")

    def item(self, index: int) -> _At:
        return _At(f"{self.aws}.{index + 1}.member", f"{self.sdk}[{index}]")

    def entry(self, key: str) -> _At:
        return _At(f"{self.aws}.{key}.member", f"{self.sdk}.{key}")

    def sdk_name(self) -> str:
        return self.sdk[1:] if self.sdk else "input"


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of `service`, loaded once per process (loading costs ~0.1 s)."""
    return botocore.session.get_session().get_service_model(service)


def validate(service: str, operation: str, params: Mapping[str, Any]) -> list[str]:
    """Every reason AWS's model gives to refuse `params`, worded as AWS words it, in model order."""
    return [violation.message for violation in violations(service, operation, params)]


def violations(service: str, operation: str, params: Mapping[str, Any]) -> list[Violation]:
    """What `validate` says, each sentence with its kind, for callers that answer like AWS."""
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return [_unknown(_At(), name, []) for name in sorted(params)]
    return list(_walk(params, shape, _At()))


def validation_message(errors: Sequence[str]) -> str | None:
    """AWS's ValidationException message for `errors`, or None when there are none."""
    if not errors:
        return None
    count = len(errors)
    return f"{count} validation error{'' if count == 1 else 's'} detected: " + "; ".join(errors)


def refusal(service: str, operation: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """AWS's answer to a malformed request as (error code, message), or None if the model accepts it.

    AWS stops at the first value of the wrong type; only a well-typed body reaches validation, and
    members it does not know are ignored.
    """
    found = violations(service, operation, params)
    for violation in found:
        if violation.kind == "serialization":
            return "SerializationException", violation.message
    message = validation_message([v.message for v in found if v.kind == "validation"])
    return None if message is None else ("ValidationException", message)


# --- the walk --------------------------------------------------------------------------------------
def _walk(value: Any, shape: Shape, at: _At) -> Iterator[Violation]:
    """A present value's violations: its type, its own constraints, then what it contains."""
    problem = _type_problem(value, shape)
    if problem is not None:
        yield Violation("serialization", problem)
        return
    for text in _broken(value, shape):
        yield Violation("validation", _sentence(value, shape, at, text))
    yield from _inside(value, shape, at)


def _inside(value: Any, shape: Shape, at: _At) -> Iterator[Violation]:
    """Violations of a container's members, items or entries."""
    if isinstance(shape, StructureShape) and not _is_document(shape):
        yield from _structure(value, shape, at)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            if item is not None:
                yield from _walk(item, shape.member, at.item(index))
    elif isinstance(shape, MapShape):
        yield from _map(value, shape, at)


def _structure(value: Mapping[str, Any], shape: StructureShape, at: _At) -> Iterator[Violation]:
    """Members in the model's order (missing required ones included), then unknown ones by name."""
    required = set(shape.required_members)
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            yield from _walk(item, member, at.member(name))
        elif name in required:
            yield Violation("validation", _sentence(None, member, at.member(name), "Member must not be null"))
    names = list(shape.members)
    for name in sorted(key for key in value if key not in shape.members):
        yield _unknown(at, name, names)


def _map(value: Mapping[Any, Any], shape: MapShape, at: _At) -> Iterator[Violation]:
    """Map keys and values, each family reported once on the map, then what the values contain."""
    if any(_broken(str(key), shape.key) for key in value):
        yield _map_sentence(value, shape, at, "Map keys", shape.key)
    typed: list[tuple[str, Any]] = []
    for key, item in value.items():
        if item is None:
            continue
        problem = _type_problem(item, shape.value)
        if problem is not None:
            yield Violation("serialization", problem)
        else:
            typed.append((str(key), item))
    if any(_broken(item, shape.value) for _, item in typed):
        yield _map_sentence(value, shape, at, "Map value", shape.value)
    for key, item in typed:
        yield from _inside(item, shape.value, at.entry(key))


def _map_sentence(value: Mapping[Any, Any], shape: MapShape, at: _At, which: str, part: Shape) -> Violation:
    rules = ", ".join(text for text, _ in _rules(part))
    return Violation("validation", _sentence(value, shape, at, f"{which} must satisfy constraint: [{rules}]"))


def _unknown(at: _At, name: str, names: list[str]) -> Violation:
    """An unknown member, as botocore refuses it before sending (AWS itself ignores it)."""
    return Violation(
        "unknown", f'Unknown parameter in {at.sdk_name()}: "{name}", must be one of: {", ".join(names)}'
    )


def _is_document(shape: Shape) -> bool:
    return bool(getattr(shape, "is_document_type", False))


# --- types (SerializationException) ----------------------------------------------------------------
def _type_problem(value: Any, shape: Shape) -> str | None:
    """AWS's deserialization message when `value` cannot be read as `shape`, else None."""
    kind = shape.type_name
    if _is_document(shape):
        return None
    if isinstance(value, Mapping):
        return None if kind in ("structure", "map") else _START_OBJECT
    if isinstance(value, list | tuple):
        return None if kind == "list" else _START_LIST
    if kind in _NOT_A_CONTAINER:
        return _NOT_A_CONTAINER[kind]
    check = _SCALARS.get(kind)
    if check is None or check(value):
        return None
    return _conversion(value, kind)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_timestamp(value: Any) -> bool:
    """Epoch seconds (the JSON wire form), a datetime, or an ISO 8601 string."""
    if isinstance(value, datetime | date) or _is_number(value):
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_blob(value: Any) -> bool:
    """Bytes, or the base64 text JSON carries them as."""
    return isinstance(value, bytes | bytearray) or (isinstance(value, str) and _base64_problem(value) is None)


_SCALARS: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_number,
    "long": _is_number,
    "float": _is_number,
    "double": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "timestamp": _is_timestamp,
    "blob": _is_blob,
}


def _token(value: Any) -> str:
    """The JSON token Coral names when it cannot convert one."""
    if isinstance(value, bool):
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, str | bytes | bytearray):
        return "STRING_VALUE"
    return "NUMBER_VALUE"


def _conversion(value: Any, kind: str) -> str:
    if kind == "blob" and isinstance(value, str):
        return f"'{value}' can not be converted to a Blob: {_base64_problem(value)}"
    token = _token(value)
    if kind == "boolean" and token == "STRING_VALUE":
        return "STRING_VALUE can not be converted to an Boolean"
    return f"{token} can not be converted to {_TARGETS[kind]}"


def _base64_problem(text: str) -> str | None:
    """Why Coral's base64 decoder refuses `text` (its wording), or None."""
    if len(text) % 4:
        return f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        bad = next((c for c in text if not (c.isalnum() and c.isascii()) and c not in "+/="), "=")
        return f"Invalid Base64 character: '{bad}'"
    return None


# --- constraints (ValidationException) -------------------------------------------------------------
def _broken(value: Any, shape: Shape) -> list[str]:
    """The constraint sentences `value` breaks, in AWS's order."""
    return [text for text, holds in _rules(shape) if not holds(value)]


@cache
def _rules(shape: Shape) -> tuple[tuple[str, Check], ...]:
    """Every constraint of `shape` as (AWS's sentence, test), in the order AWS lists them."""
    meta = shape.metadata
    rules: list[tuple[str, Check]] = []
    if shape.type_name in ("string", "blob", "list", "map"):
        rules += _length_rules(shape, meta.get("min"), meta.get("max"))
    elif shape.type_name in _BOUND_TEXT:
        rules += _value_rules(shape.type_name, meta.get("min"), meta.get("max"))
    if "pattern" in meta:
        rules += _pattern_rule(meta["pattern"])
    if isinstance(shape, StringShape) and shape.enum:
        allowed = frozenset(shape.enum)
        rules.append((f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", allowed.__contains__))
    return tuple(rules)


def _length_rules(shape: Shape, low: Any, high: Any) -> list[tuple[str, Check]]:
    utf8 = shape.type_name == "string" and _UTF8_LENGTH_NOTE in (shape.documentation or "")
    size: Callable[[Any], int] = _utf8_size if utf8 else _blob_size if shape.type_name == "blob" else len
    word, unit = ("size", f" {_UTF8_LENGTH_NOTE}") if utf8 else ("length", "")
    rules: list[tuple[str, Check]] = []
    if high is not None:
        rules.append(
            (f"Member must have {word} less than or equal to {high}{unit}", lambda v: size(v) <= high)
        )
    if low is not None:
        rules.append(
            (f"Member must have {word} greater than or equal to {low}{unit}", lambda v: size(v) >= low)
        )
    return rules


def _utf8_size(value: Any) -> int:
    return len(str(value).encode("utf-8", "surrogatepass"))


def _blob_size(value: Any) -> int:
    """Bytes of a blob, decoding the base64 text JSON carries it as."""
    return len(value) if isinstance(value, bytes | bytearray) else len(base64.b64decode(value))


_BOUND_TEXT: dict[str, Callable[[Any], str]] = {
    "integer": lambda bound: str(int(bound)),
    "long": lambda bound: str(int(bound)),
    "float": lambda bound: java_double(float(bound)),
    "double": lambda bound: java_double(float(bound)),
}


def _value_rules(kind: str, low: Any, high: Any) -> list[tuple[str, Check]]:
    text = _BOUND_TEXT[kind]
    rules: list[tuple[str, Check]] = []
    if high is not None:
        rules.append((f"Member must have value less than or equal to {text(high)}", lambda v: v <= high))
    if low is not None:
        rules.append((f"Member must have value greater than or equal to {text(low)}", lambda v: v >= low))
    return rules


def _pattern_rule(pattern: str) -> list[tuple[str, Check]]:
    """The pattern rule, or none when Python cannot express the pattern faithfully (see java_regex)."""
    try:
        compiled = java_regex(pattern)
    except ValueError:
        return []
    return [
        (f"Member must satisfy regular expression pattern: {pattern}", lambda v: bool(compiled.fullmatch(v)))
    ]


# --- sentences -------------------------------------------------------------------------------------
def _sentence(value: Any, shape: Shape, at: _At, constraint: str) -> str:
    """`Value 'v' at 'path' failed to satisfy constraint: ...` with the value as AWS prints it."""
    if value is None:
        shown = "null "
    elif shape.metadata.get("sensitive") or _overflows(value, shape):
        shown = ""
    else:
        shown = f"'{render(value, shape)}' "
    return f"Value {shown}at '{at.aws}' failed to satisfy constraint: {constraint}"


def _overflows(value: Any, shape: Shape) -> bool:
    limit = _INT_LIMITS.get(shape.type_name)
    return limit is not None and _is_number(value) and not -limit <= value < limit


def render(value: Any, shape: Shape) -> str:
    """`value` as AWS's Java front end prints it in a message (see the module docstring)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    printer = _PRINTERS.get(shape.type_name)
    return printer(value, shape) if printer is not None else str(value)


def _render_number(value: Any, shape: Shape) -> str:
    if shape.type_name in _INT_LIMITS:
        return str(int(value))
    return java_double(float(value))


def _render_list(value: Any, shape: Shape) -> str:
    assert isinstance(shape, ListShape)
    return "[" + ", ".join(render(item, shape.member) for item in value) + "]"


def _render_map(value: Any, shape: Shape) -> str:
    assert isinstance(shape, MapShape)
    return "{" + ", ".join(f"{key}={render(item, shape.value)}" for key, item in value.items()) + "}"


def _render_structure(value: Any, shape: Shape) -> str:
    assert isinstance(shape, StructureShape)
    members = shape.members
    shown = (
        f"{name[:1].lower() + name[1:]}={render(value[name], member)}"
        for name, member in members.items()
        if value.get(name) is not None
    )
    return f"{shape.name}({', '.join(shown)})"


def _render_timestamp(value: Any, shape: Shape) -> str:
    """As java.time.Instant prints: ISO 8601 in UTC."""
    if _is_number(value):
        value = datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _render_blob(value: Any, shape: Shape) -> str:
    """As java.nio.ByteBuffer prints (Coral holds blobs in one)."""
    size = _blob_size(value)
    return f"java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]"


_PRINTERS: dict[str, Callable[[Any, Shape], str]] = {
    "integer": _render_number,
    "long": _render_number,
    "float": _render_number,
    "double": _render_number,
    "list": _render_list,
    "map": _render_map,
    "structure": _render_structure,
    "timestamp": _render_timestamp,
    "blob": _render_blob,
}


def java_double(number: float) -> str:
    """Java's Double.toString: plain between 10^-3 and 10^7, else `d.dddE±n`; always a fraction digit."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0 or 1e-3 <= abs(number) < 1e7:
        return repr(number)  # Python writes this range plainly too, with a fraction digit
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits))
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{len(digits) - 1 + exponent}"
