"""durable's documentation by section, for the `read_docs` tool.

Sections: the README's `##` parts (named by their heading, e.g. `step-tools`; the text before
the first one is `overview`) and each `docs/*.md` file whole (named by its file, e.g.
`testing`). The files come from the installed package (`durable_cli/_docs/`, put there when
the wheel is built) or, in a source checkout or an editable install, from the project folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["Section", "docs_root", "find_section", "sections"]

_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Section:
    """One readable part of the docs."""

    name: str
    title: str
    source: str
    text: str


def docs_root() -> Path | None:
    """The folder holding README.md (and docs/), or None when neither copy is there."""
    for root in (_PACKAGE / "_docs", _PACKAGE.parent):
        if (root / "README.md").is_file():
            return root
    return None


def sections(root: Path | None = None) -> list[Section]:
    """Every section, README's first in their order, then the docs files by name."""
    root = docs_root() if root is None else root
    if root is None:
        return []
    found = _readme_sections((root / "README.md").read_text(encoding="utf-8"))
    for path in sorted((root / "docs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        heading = re.search(r"^#+\s+(.+)$", text, re.MULTILINE)
        title = heading.group(1).strip() if heading else path.stem
        found.append(Section(_slug(path.stem), title, f"docs/{path.name}", text))
    return found


def find_section(name: str, root: Path | None = None) -> Section:
    """The section called `name` (its name, its title, or a unique start of either)."""
    known = sections(root)
    if not known:
        raise InputError("no documentation found beside this installation of durable")
    wanted = _slug(name)
    for found in (
        [s for s in known if s.name == wanted],
        [s for s in known if _slug(s.title) == wanted],
        [s for s in known if wanted and s.name.startswith(wanted)],
    ):
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(s.name for s in found)
            raise InputError(f"docs section {name!r} could be any of: {names}")
    names = ", ".join(s.name for s in known)
    raise InputError(f"no docs section {name!r}: use one of {names}")


def _readme_sections(text: str) -> list[Section]:
    parts = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    found = []
    for part in parts:
        if not part.strip():
            continue
        if part.startswith("## "):
            title = part.splitlines()[0][3:].strip()
            found.append(Section(_slug(title), title, "README.md", part.strip() + "\n"))
        else:
            found.append(Section("overview", "Overview", "README.md", part.strip() + "\n"))
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
