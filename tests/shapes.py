"""Does a JSON value have the shape a contract's TypedDict gives it? Every mismatch, by path."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict


def mismatches(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where `value` differs from `shape` (TypedDicts, list[...], dict[str, ...], str/int/bool, Any)."""
    if shape is Any:
        return []
    if is_typeddict(shape):
        if not isinstance(value, dict):
            return [f"{where or '.'}: expected an object, got {value!r}"]
        hints = get_type_hints(shape)
        found = [f"{where}.{k}: missing" for k in sorted(shape.__required_keys__ - set(value))]
        found += [f"{where}.{k}: not in {shape.__name__}" for k in sorted(set(value) - set(hints))]
        for key in sorted(set(value) & set(hints)):
            found += mismatches(value[key], hints[key], f"{where}.{key}")
        return found
    origin, args = get_origin(shape), get_args(shape)
    if origin in (Union, types.UnionType):  # X | None: the value fits one of them
        found = [mismatches(value, option, where) for option in args]
        return [] if any(not f for f in found) else found[0]
    if shape is type(None):
        return [] if value is None else [f"{where}: expected null, got {value!r}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [m for i, item in enumerate(value) for m in mismatches(item, args[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        return [m for key, item in value.items() for m in mismatches(item, args[1], f"{where}.{key}")]
    # JSON true/false are not numbers, though Python's bool is an int; a JSON 1 is a float's value too.
    number = shape is float and isinstance(value, int)
    fits = (isinstance(value, shape) or number) and not (shape in (int, float) and isinstance(value, bool))
    return [] if fits else [f"{where}: expected {shape.__name__}, got {value!r}"]
