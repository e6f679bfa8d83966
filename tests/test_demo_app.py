"""The demo app (app/app.py) served on 127.0.0.1 with tiny models and driven in a real headless Chromium.

Needs gradio and playwright (the dev extra) and Debian's ``chromium`` (``.ci/run`` installs it); playwright
drives the system browser, its own browser download is never used. A missing piece fails the test, it is never
skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO_ROOT
from fixtures import tiny_nb201_prior

pytestmark = pytest.mark.usefixtures("one_torch_thread")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # tests run offline

TIMEOUT_MS = 180_000
"""Generous: how long the page may take to answer is no property of the app (the machine is shared)."""


def _load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("archllm_demo_app", REPO_ROOT / "app" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prior = str(tiny_nb201_prior(tmp_path_factory.mktemp("tiny-run"), vqvae_steps=300))
    demo = _load_app().build_demo(priors={"nb201": prior}, search_prior=prior)
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.locator("#generate").wait_for()
    try:
        yield page
    finally:
        page.close()


def _set_number(page: Any, elem_id: str, value: int) -> None:
    """Type ``value`` into a number box, again if the page put its own value back (a tab that has just been
    opened may still be mounting its components when the first keystrokes arrive)."""
    box = page.locator(f"#{elem_id} input[type=number]")
    for _ in range(10):
        box.fill(str(value))
        box.press("Enter")
        page.wait_for_timeout(300)
        if box.input_value() == str(value):
            return
    raise AssertionError(f"#{elem_id} keeps {box.input_value()!r}, not {value}")


def _wait_for_status(page: Any, text: str) -> None:
    """Wait until the search status says ``text``; a failure shows what it said instead."""
    from playwright.sync_api import expect

    expect(page.locator("#status")).to_contain_text(text, timeout=TIMEOUT_MS)


def test_generate_shows_the_cells_their_table_and_the_scores(page: Any, tmp_path: Path) -> None:
    asked = 8
    _set_number(page, "num-samples", asked)
    page.locator("#generate").click()
    page.locator("#scores").get_by_text("validity").wait_for()
    rows = page.locator("#samples [role=grid] .virtual-body [role=row]")  # the body rows, not the header
    rows.nth(asked - 1).wait_for()
    assert rows.count() == asked
    assert page.locator("#samples [role=grid]").get_attribute("aria-rowcount") == str(asked + 1)
    flags = [
        page.locator(f"#samples [data-testid=cell-{i}-3]").inner_text().strip().lower() for i in range(asked)
    ]
    assert set(flags) <= {"true", "false"}
    valid = flags.count("true")
    assert valid > 0  # seed 0: the tiny models decode about half their samples to valid cells
    images = page.locator("#cells img")
    images.nth(valid - 1).wait_for()
    assert images.count() == valid  # one drawing per valid cell (an invalid one has no cell to draw)
    assert page.locator("#cells .caption-label").all_inner_texts() == [
        f"#{i}" for i, flag in enumerate(flags) if flag == "true"
    ]
    assert page.locator("#sheet img").count() == 1  # the contact sheet
    assert "uniqueness" in page.locator("#scores").inner_text()
    page.screenshot(path=str(tmp_path / "generate.png"), full_page=True)
    assert (tmp_path / "generate.png").stat().st_size > 0


def test_a_ten_query_search_draws_the_curves_and_offers_the_history(page: Any, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Search (NB201)").click()
    _set_number(page, "budget", 10)
    page.locator("#search").click()
    _wait_for_status(page, "done")
    link = page.locator("#history a").first
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    history = tmp_path / "history.jsonl"
    download.value.save_as(history)
    records = [json.loads(line) for line in history.read_text().splitlines()]
    by_searcher: dict[str, int] = {}
    for record in records:
        by_searcher[record["algorithm"]] = by_searcher.get(record["algorithm"], 0) + 1
    assert by_searcher == {"generative": 10, "evolution": 10, "random": 10}
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)


def test_bad_input_shows_a_message_not_a_traceback(page: Any, tmp_path: Path) -> None:
    prior = page.locator("#prior input")
    prior.fill(str(tmp_path))  # a folder, but no prior
    prior.press("Enter")
    page.locator("#generate").click()
    message = page.locator("#scores").get_by_text("is not a prior folder")
    message.wait_for()
    assert "Traceback" not in page.content()

    page.get_by_role("tab", name="Search (NB201)").click()
    _set_number(page, "budget", 0)
    page.locator("#search").click()
    _wait_for_status(page, "the budget must be")

    not_a_table = tmp_path / "notes.csv"
    not_a_table.write_text("a,b\n1,2\n")
    page.locator("#metrics input[type=file]").set_input_files(str(not_a_table))
    _set_number(page, "budget", 10)
    page.locator("#search").click()
    _wait_for_status(page, "is not a NAS-Bench-201 metrics table")
    assert "Traceback" not in page.content()
    page.screenshot(path=str(tmp_path / "errors.png"), full_page=True)
