"""Production code stays readable in pieces: no function over 60 lines, no module over 400.

Counted from the source (docstrings and comments included, migrations excluded), for every
room that `tests/test_layers.py` knows.
"""

import ast

from .test_layers import LAYER_OF, ROOT

MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def production_modules():
    for room in sorted(LAYER_OF):
        for path in sorted((ROOT / room).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_function_is_longer_than_60_lines():
    too_long = []
    for path in production_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    assert too_long == []


def test_no_module_is_longer_than_400_lines():
    too_long = [
        f"{path.relative_to(ROOT)} {lines}"
        for path in production_modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert too_long == []
