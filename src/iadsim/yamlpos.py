"""YAML loading that remembers where every value came from, for located error messages.

Safe YAML only (no Python tags), and stricter than YAML itself where a silent choice would
change a scenario: a key repeated in one mapping (YAML keeps the last value) is an error, and
so is an alias that expands the document beyond :data:`MAX_ALIAS_NODES` nodes (a "billion
laughs" document) or refers to itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from iadsim.errors import ScenarioError


class _LineLoader(yaml.SafeLoader):
    pass


#: nodes that aliases may add to a document when expanded (a scenario needs a handful)
MAX_ALIAS_NODES = 10_000


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
        lines = _lines_of(node, path) if node is not None else {}
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError:
        raise ScenarioError(f"{path}: not valid YAML (nested too deeply)") from None
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
    return data, lines


def _lines_of(root: yaml.Node, path: Path) -> dict[tuple, int]:
    """Key path -> line of every value under ``root``; raises :class:`ScenarioError` on a
    duplicate key, a non-scalar key, a self-referring alias or an alias expansion beyond
    :data:`MAX_ALIAS_NODES` nodes."""
    lines: dict[tuple, int] = {}
    seen: set[int] = set()
    expanded = 0
    stack: list[int] = []  # ids of the nodes being walked (a self-referring alias)

    def fail(n: yaml.Node, msg: str) -> None:
        raise ScenarioError(f"{path}:{n.start_mark.line + 1}: {msg}")

    def walk(n: yaml.Node, key: tuple) -> None:
        nonlocal expanded
        if id(n) in stack:
            fail(n, "not valid YAML for a scenario (an alias refers to itself)")
        if id(n) in seen:
            expanded += 1
            if expanded > MAX_ALIAS_NODES:
                fail(
                    n,
                    f"not valid YAML for a scenario (aliases expand it beyond "
                    f"{MAX_ALIAS_NODES:,} nodes); write the values out",
                )
        seen.add(id(n))
        lines[key] = n.start_mark.line + 1
        if not isinstance(n, (yaml.MappingNode, yaml.SequenceNode)):
            return
        stack.append(id(n))
        if isinstance(n, yaml.MappingNode):
            keys: dict[object, int] = {}
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    fail(k, "a mapping key must be a plain name, not a list or mapping")
                if k.value in keys and k.tag != "tag:yaml.org,2002:merge":
                    fail(
                        k,
                        f"key {k.value!r} is given twice in one mapping (also on line "
                        f"{keys[k.value]}); keep one",
                    )
                keys[k.value] = k.start_mark.line + 1
                kk = key + (k.value,)
                walk(v, kk)
                lines[kk] = k.start_mark.line + 1
        else:
            for i, v in enumerate(n.value):
                walk(v, key + (i,))
        stack.pop()

    walk(root, ())
    return lines


def line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    """Best line for a pydantic error location: the deepest existing prefix."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())
