"""Pilot tests at 80x24: every run row keeps its status, a whole name and its id; the
functions list keeps whole counts; a long load error is read to its end."""

from __future__ import annotations

from tui_support import FN, LOAD_ERROR, demo_app, seed_more_runs, settled, shown, wait_for

from durable_cli.engine import Engine
from durable_cli.tui.format import ICONS, short_id


async def test_at_80_columns_a_run_row_keeps_status_name_and_id(demo: Engine) -> None:
    extra = seed_more_runs(demo.store, 10)
    app = demo_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.main
        await settled(pilot)
        lines = shown(main.runs).splitlines()[1:-1]  # inside the border
        rows = [line for line in lines if short_id(extra[0]) in line or FN in line]
        assert rows, lines
        for line in rows:
            body = line.strip("│ ")
            assert body[0] in ICONS.values(), line
            assert FN in body, f"the name is cut: {line}"
        listed = "\n".join(lines)
        for run_id in extra[-5:]:  # the newest, on screen
            assert short_id(run_id) in listed

        functions = shown(main.functions)
        row = next(line for line in functions.splitlines() if FN in line)
        assert "13 runs" in row, row
        assert "…" not in row


async def test_at_80_columns_a_long_load_error_is_shown_to_its_end(demo: Engine) -> None:
    app = demo_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.main.status
        status.failed(LOAD_ERROR, None)
        await wait_for(pilot, lambda: status.size.height > 1, "the status line to wrap")
        text = " ".join(shown(status).split())
        assert "examples/document_pipeline.py:42" in text
        assert "(examples/report_helpers.py) (last good code still live)" in text
        assert "…" not in text
        status.reloaded(0, None, ["examples/document_pipeline.py"], 1)
        await wait_for(pilot, lambda: status.size.height == 1, "one line again")


async def test_narrowing_the_terminal_drops_the_palette_hint_from_the_footer(
    demo: Engine,
) -> None:
    app = demo_app(demo)
    async with app.run_test(size=(200, 60)) as pilot:
        footer = app.main.footer
        await wait_for(pilot, lambda: footer.query(".-command-palette"), "the palette hint")
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: not footer.query(".-command-palette"), "the hint to go")
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: footer.query(".-command-palette"), "the hint back")
