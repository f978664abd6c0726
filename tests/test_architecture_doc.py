"""docs/architecture.md names files and classes; each must exist under that name."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("store", "engine", "cli", "sdk", "tui", "testing", "mcp")
KEY_PREFIX = re.compile(r"[a-z]{1,4}/")  # a journal key prefix (`ev/`, `q/`), not a folder
BUILTINS = {"Annotated", "BaseException"}


def _quoted() -> set[str]:
    return set(re.findall(r"(?<!`)`([^`\n]+)`(?!`)", DOC.read_text()))


def _path(name: str) -> Path | None:
    """Where a quoted file or folder name is: as given, or inside one of the packages."""
    candidates = [ROOT / name, ROOT / "durable_cli" / name]
    candidates += [ROOT / "durable_cli" / pkg / name for pkg in PACKAGES]
    return next((p for p in candidates if p.exists()), None)


def test_every_file_the_doc_names_exists():
    quoted = {q for q in _quoted() if not KEY_PREFIX.fullmatch(q)}
    pattern = r"[\w./]+\.(py|md|toml|tcss)|[\w./]+/"
    names = {q.rstrip("/") for q in quoted if re.fullmatch(pattern, q)}
    missing = sorted(n for n in names if _path(n) is None)
    assert not missing, f"docs/architecture.md names files that don't exist: {missing}"


def test_every_class_and_method_the_doc_names_exists():
    source = "\n".join(p.read_text() for p in (ROOT / "durable_cli").rglob("*.py"))
    names = {q for q in _quoted() if re.fullmatch(r"[A-Z]\w+(\.\w+)?", q)} - BUILTINS
    assert names, "the doc names no classes: the pattern is stale"
    missing = []
    for name in sorted(names):
        cls, _, member = name.partition(".")
        defined = re.search(rf"^(class {cls}\b|{cls}\b[^=\n]*= )", source, re.M)
        has_member = not member or re.search(rf"def {member}\b|^\s+{member}\b", source, re.M)
        if not (defined and has_member):
            missing.append(name)
    assert not missing, f"docs/architecture.md names what doesn't exist: {missing}"
