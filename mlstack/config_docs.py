"""README.md's configuration tables and run-option list, rendered from the options' tables (pure).

`python -m mlstack.config_docs` rewrites the text between each pair of markers;
tests/cli/test_config_docs.py fails while the README differs from what this renders.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

from contracts.run_options import RUN_OPTIONS, Option
from stacks.config import STAGE_OPTIONS

README = Path(__file__).resolve().parents[1] / "README.md"
SOURCES = "contracts/run_options.py and stacks/config.py"
WIDTH = 100


def _begin(name: str) -> str:
    return f"<!-- BEGIN {name}: generated from {SOURCES} by `python -m mlstack.config_docs`; do not edit -->"


def _end(name: str) -> str:
    return f"<!-- END {name} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(options: Iterable[Option]) -> str:
    lines = ["| key | value | meaning |", "|---|---|---|"]
    lines += [f"| `{item.key}` | {_cell(item.rule.expected)} | {_cell(item.help)} |" for item in options]
    return "\n".join(lines)


def stage_settings() -> str:
    """The keys only a stage sets: nothing overrides them per execution."""
    run_keys = {item.key for item in RUN_OPTIONS}
    return _table(item for item in STAGE_OPTIONS if item.key not in run_keys)


def run_options() -> str:
    """The run options: a stage's value is the default, an execution may override it."""
    return _table(RUN_OPTIONS)


def run_option_keys() -> str:
    """The run options' keys as a sentence, for the section on the execution input."""
    keys = ", ".join(f"`{item.key}`" for item in RUN_OPTIONS)
    return textwrap.fill(keys + ".", WIDTH, break_on_hyphens=False, break_long_words=False)


def sections() -> dict[str, str]:
    """Every generated part of the README by marker name."""
    return {
        "run-option-keys": run_option_keys(),
        "stage-settings": stage_settings(),
        "run-options": run_options(),
    }


def render(readme: str) -> str:
    """The README with every generated part replaced by what the tables say now."""
    for name, body in sections().items():
        pattern = re.compile(rf"^{re.escape(_begin(name))}\n.*?^{re.escape(_end(name))}$", re.M | re.S)
        found = list(pattern.finditer(readme))
        if len(found) != 1:
            raise ValueError(f"README.md must hold the markers of {name!r} exactly once: {_begin(name)}")
        start, end = found[0].span()
        readme = f"{readme[:start]}{_begin(name)}\n{body}\n{_end(name)}{readme[end:]}"
    return readme


def main() -> int:
    """Rewrite README.md's generated parts."""
    README.write_text(render(README.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
