"""The table of step kinds: one module per kind, each an object `Invocation` looks up by name.

Adding a kind (see docs/kinds.md): a method on the sdk's `Step`/`AsyncStep` facade that asks the
driver for it by name, one module here with a `Kind` subclass, and its row below. The CLI, the
TUI and the testing helper can read the display facts (`label`, `mark`, `run_status`,
`shows_output`, `due_field`) from the table rather than spelling kinds out.
"""

from __future__ import annotations

from ._base import Host, HostEngine, Kind, Write
from ._invoke import INVOKE
from ._run import RUN
from ._send import SEND
from ._sleep import SLEEP
from ._wait import WAIT

__all__ = ["INVOKE", "KINDS", "RUN", "SEND", "SLEEP", "WAIT", "Host", "HostEngine", "Kind", "Write"]

KINDS: dict[str, Kind] = {
    "run": RUN,
    "sleep": SLEEP,
    "wait": WAIT,
    "send": SEND,
    "invoke": INVOKE,
}
