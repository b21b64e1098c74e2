"""YAML loading that remembers where every value came from, for located error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from iadsim.errors import ScenarioError


class _LineLoader(yaml.SafeLoader):
    pass


def load_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML; return the data and a map from key path (tuple of keys/indices) to the
    1-based line where that value starts."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if context is not None and "simple key" in (getattr(exc, "context", None) or ""):
            # a key without its ':' (e.g. "lat 37.0"): the scanner notices it a line later;
            # the key's own line is where the fix goes
            mark = context
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}{line}: not valid YAML ({problem})") from None
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, key: tuple) -> None:
        lines[key] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                kk = key + (k.value,)
                lines[kk] = k.start_mark.line + 1
                walk(v, kk)
                lines[kk] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, key + (i,))

    if node is not None:
        walk(node, ())
    data = yaml.safe_load(text)
    return data, lines


def line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    """Best line for a pydantic error location: the deepest existing prefix."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())
