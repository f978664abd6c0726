"""The TUI's place in the layers: it talks to the engine's query and control API only.

It imports nothing from `durable_cli.store` (not even for type checking), spells no journal
key, owns its actions by composition, and spells out no set of statuses (they come from the
engine, held statuses from the kinds table).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from durable_cli.engine import RUN_STATUSES, STEP_STATUSES
from durable_cli.tui.data import STATUS_FILTERS
from durable_cli.tui.format import ICONS
from durable_cli.tui.screens.actions import RunActions
from durable_cli.tui.screens.main import MainScreen

TUI = Path(__file__).resolve().parents[2] / "durable_cli" / "tui"
STATUSES = set(RUN_STATUSES) | set(STEP_STATUSES)
STORE_KEYS = ("stepmode/", "wait/", "fail/", "run/", "st/", "ev/", "q/")


def _module(path: Path) -> str:
    """`durable_cli.tui.widgets.run_list` for that file."""
    parts = path.relative_to(TUI.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, package: bool = False) -> Iterator[str]:
    """Every module `source` (the text of `module`) imports, relative imports resolved."""
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)


def store_imports(source: str, module: str, *, package: bool = False) -> list[str]:
    """The imports of `durable_cli.store` (or below it) in `source`."""
    return [
        name
        for name in imported(source, module, package=package)
        if name == "durable_cli.store" or name.startswith("durable_cli.store.")
    ]


def _tui_files() -> list[Path]:
    files = sorted(TUI.rglob("*.py"))
    assert len(files) > 10, files
    return files


def test_the_check_finds_a_store_import() -> None:
    """The pin below can fail: each way of spelling the import is caught."""
    module = "durable_cli.tui.widgets.run_list"
    for line in (
        "from ...store import RunRecord",
        "from ... import store",
        "import durable_cli.store._records",
        "from durable_cli.store import Store",
        "if TYPE_CHECKING:\n    from ...store import Store",
    ):
        assert store_imports(line, module), line
    assert not store_imports("from ...engine import RunRecord", module)
    assert store_imports("from ..store import X", "durable_cli.tui", package=True)


def test_no_tui_module_imports_the_store() -> None:
    found = {
        str(path.relative_to(TUI)): hits
        for path in _tui_files()
        if (
            hits := store_imports(
                path.read_text(), _module(path), package=path.name == "__init__.py"
            )
        )
    }
    assert found == {}, "the TUI reads through the engine's query API only"


def _strings(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_the_tui_spells_no_journal_key() -> None:
    found = [
        (path.name, text)
        for path in _tui_files()
        for text in _strings(ast.parse(path.read_text()))
        if text.startswith(STORE_KEYS)
    ]
    assert found == [], "flag and row keys belong to the engine's queries and actions"


def test_no_tui_module_spells_out_a_set_of_statuses() -> None:
    """Three or more status words in one literal collection: a set that belongs elsewhere."""
    found = []
    for path in _tui_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(words) >= 3 and all(w in STATUSES for w in words):
                    found.append((path.name, node.lineno, words))
    assert found == []


def test_every_status_has_an_icon_and_a_filter() -> None:
    assert set(ICONS) >= STATUSES
    assert set(STATUS_FILTERS) == {"all", "active", *RUN_STATUSES}
    assert list(STATUS_FILTERS)[:4] == ["all", "active", "completed", "failed"]


def test_the_main_screen_owns_its_actions_rather_than_inheriting_them() -> None:
    assert RunActions not in MainScreen.__mro__
    assert RunActions.__mro__ == (RunActions, object)
