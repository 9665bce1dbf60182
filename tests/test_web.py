"""The web page, end to end in a real headless browser (Debian's /usr/bin/chromium via Playwright).

Upload a file, watch it index, ask, see the answer stream in, click a
citation, see the cited passage highlighted on its page, delete the file.
Also checked at a phone width: nothing overflows sideways.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_corpus
from grail.config import Settings
from grail.server.app import create_app
from grail.server.cli import serve_in_thread
from grail.server.collections import Collections

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "How many units of sediment did the glaciers survey measure at site 1-2?"

# Counts how many times the answer's text changed while it arrived (streaming shows several).
WATCH_ANSWER = """() => {
  window.__answerChanges = 0;
  new MutationObserver((records) => { window.__answerChanges += records.length; })
    .observe(document.getElementById('answer'), {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no browser at /usr/bin/chromium: apt-get install -y chromium chromium-driver")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def site(tmp_path):
    cols = Collections(tmp_path / "root", Settings())
    with serve_in_thread(create_app(cols)) as url:
        yield url
    cols.close()


def test_upload_ask_stream_cite_delete(browser, site, tmp_path):
    files = write_corpus(tmp_path / "corpus", n=2)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/")
    page.wait_for_selector("text=Nothing indexed yet")

    page.set_input_files("#files", [str(f) for f in files])
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#job-text:has-text('Indexing done')", timeout=60_000)
    names = page.locator("#documents .name").all_inner_texts()
    assert sorted(n.split("\n")[0] for n in names) == ["notes_00.md", "notes_01.md"]
    assert page.locator("#job-progress").get_attribute("value") == "1"

    page.evaluate(WATCH_ANSWER)
    page.fill("#question", QUESTION)
    page.press("#question", "Enter")
    page.wait_for_selector("#citations .chip", timeout=30_000)
    answer = page.inner_text("#answer")
    assert "120 units" in answer
    assert page.evaluate("window.__answerChanges") > 3  # the text arrived in pieces, then the final answer

    chip = page.locator("#citations .chip").first
    label = chip.inner_text()
    chip.click()
    mark = page.locator("#passage mark")
    mark.wait_for()
    highlighted = mark.inner_text()
    source = next(f for f in files if f.name in label).read_text(encoding="utf-8")
    assert len(highlighted) > 100 and " ".join(highlighted.split()) in " ".join(source.split())
    assert chip.get_attribute("aria-pressed") == "true"
    assert page.inner_text("#passage-where").startswith(label.split(",")[0])

    page.click("#explain-box summary")
    assert "retrieve" in page.inner_text("#explain") and "generate" in page.inner_text("#explain")
    page.screenshot(path=str(tmp_path / "web-wide.png"), full_page=True)

    page.on("dialog", lambda d: d.accept())
    page.click("#documents button[aria-label='Delete notes_00.md']")
    page.wait_for_function("() => !document.getElementById('documents').innerText.includes('notes_00.md')")
    assert errors == []


def test_phone_width_and_bad_input(browser, site, tmp_path):
    page = browser.new_page(viewport={"width": 375, "height": 740}, is_mobile=True)
    page.goto(site + "/")
    page.wait_for_selector("text=Nothing indexed yet")
    # an upload the server refuses shows its message and adds nothing
    bad = tmp_path / "virus.exe"
    bad.write_bytes(b"MZ")
    page.set_input_files("#files", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#error:has-text('supported types')")
    page.fill("#question", "anything at all?")
    page.click("#ask-button")
    page.wait_for_selector("#abstain:visible")  # nothing indexed: the page says so instead of inventing
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "web-phone.png"), full_page=True)
