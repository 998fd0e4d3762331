"""The rooms of the project import downwards only (docs/architecture.md).

Each room (a top-level package) sits on a layer; it may import rooms on lower layers and
nothing else of ours: not a higher room, not a sibling on its own layer. Read from the source
with `ast`, so an import inside a function counts too, and so does a URL `include()` of a
room named by string.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    {"common", "audit"},
    {"accounts"},
    {"installs"},
    {"users", "trustedips"},
    {"kamailio"},
    {"registrations"},
    {"handsets", "bulk", "calls"},
    {"infinity", "demo"},
]
LAYER_OF = {room: n for n, rooms in enumerate(LAYERS) for room in rooms}


def imported_rooms(path: Path) -> list[tuple[str, int]]:
    """(room, line) for every module of ours that `path` imports or `include()`s by name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "include"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [(name.split(".")[0], node.lineno) for name in names]
    return [(room, line) for room, line in found if room in LAYER_OF]


def offending_imports(room: str) -> list[str]:
    offences = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for other, line in imported_rooms(path):
            if other != room and LAYER_OF[other] >= LAYER_OF[room]:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {other}")
    return offences


@pytest.mark.parametrize("room", sorted(LAYER_OF))
def test_a_room_imports_only_rooms_below_it(room):
    assert offending_imports(room) == []


def test_every_package_of_ours_has_a_layer():
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench", "devtools"}
    }
    assert packages == set(LAYER_OF)


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The test above proves nothing if it cannot see one: a user module reaching up.
    room = tmp_path / "users"
    room.mkdir()
    (room / "bad.py").write_text(
        "def f():\n    from registrations import policy\n    return policy\n"
    )
    (room / "urls.py").write_text('from django.urls import include\nx = include("bulk.urls")\n')
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert offending_imports("users") == [
        "users/bad.py:2 imports registrations",
        "users/urls.py:2 imports bulk",
    ]
