"""Type aliases for the JSON documents the handlers exchange with Step Functions."""

from typing import Any, TypeAlias

JsonDict: TypeAlias = dict[str, Any]
