"""Script payloads in an article, in the model's answer and in an uploaded file's name run
nowhere in a real browser, and show as text (slow: a fake-engine server and Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SEED
from web_helpers import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = pytest.mark.slow

# Each payload sets window.__xss (and opens a dialog) if it ever runs.
TITLE = ('Evil <img src=x onerror="window.__xss=1;alert(1)"> Robotics Raises $9 Million '
         '<script>window.__xss=2;alert(2)</script>')
BODY = ('Evil Robotics raised $9 million in a seed round led by <svg onload="window.__xss=3;alert(3)">Hack '
        'Capital</svg>. <script>window.__xss=4;alert(4)</script> The company builds <iframe '
        'srcdoc="<script>parent.__xss=5;alert(5)</script>"></iframe> robots. See [details](javascript:window.__xss=6) '
        'and <a href="javascript:window.__xss=7">this link</a>. <style>body{display:none}</style>')
# The engine strips whole tags and links from a reply (assistant.sanitize); an unterminated tag
# gets past that, so the page's own escaping is what keeps it text.
REPLY = ('Evil Robotics raised $9 million in a seed round led by <svg onload="window.__xss=8;alert(8)">Hack Capital'
         '</svg> [1]. Hack Capital led it <img src=x onerror="window.__xss=9;alert(9)" [1]. See '
         '[this](javascript:window.__xss=10) [1]. <details open ontoggle="window.__xss=11;alert(11)">x</details> '
         '[1]. Seed <svg/onload=window.__xss=13;alert(13) <b>money</b> [1].')
FILE_NAME = "<img src=x onerror=window.__xss=12;alert(12)>.txt"
PAYLOADS = 13
# Elements or attributes that only a payload could have put in the page.
INJECTED = ("img[src='x'], svg[onload], iframe[srcdoc], a[href^='javascript'], details[ontoggle], #sources style, "
            + ", ".join(f"{part} script" for part in ("#chat", "#sources", "#articles", "#upload", "#ingest-results")))
# Keep every text the chat showed while the answer streamed.
WATCH = """() => {
  window.__shown = [];
  new MutationObserver(() => {
    const chat = document.querySelector('#chat');
    if (chat) window.__shown.push(chat.innerText);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _no_script_ran(page, dialogs: list[str]) -> None:
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0, page.locator(INJECTED).first.evaluate("e => e.outerHTML")


def test_payloads_show_as_text_and_never_run(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "evil.txt").write_text(f"{TITLE}\n\n3 April 2024\n\n{BODY}\n")
    (articles / SEED.name).write_text(SEED.read_text())
    upload = tmp_path / "upload" / FILE_NAME
    upload.parent.mkdir()
    upload.write_text("Quillfeather Raises $3M\n\n5 May 2024\n\nQuillfeather raised $3 million from Nib Ventures.\n")

    with running_server(tmp_path, ["--ingest", str(articles), "--reply", REPLY]) as (url, _), \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            page.set_default_timeout(60_000)
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url)
            page.wait_for_selector("#question textarea")
            page.evaluate(WATCH)

            # (b) the model's answer, streamed then verified; (a) the article's title and text in the sources.
            page.fill("#question textarea", "How much did Evil Robotics raise?")
            page.press("#question textarea", "Enter")
            page.wait_for_function("/^\\s*(Answered|No answer|⚠)/.test(document.querySelector('#status').innerText)",
                                   timeout=120_000)
            chat = page.locator("#chat .bot-row").last.inner_text()
            assert "Hack Capital" in chat, chat
            shown = "\n".join(page.evaluate("window.__shown"))
            assert '<img src=x onerror="window.__xss=9' in shown, shown[-2000:]  # shown as it streamed, as text
            sources = page.locator("#sources").inner_text()
            for text in ('<img src=x onerror="window.__xss=1', "<script>window.__xss=2", '<svg onload="window.__xss=3',
                         "<script>window.__xss=4", "<iframe srcdoc=", "[details](javascript:",
                         '<a href="javascript:window.__xss=7">'):
                assert text in sources, (text, sources)
            page.locator("#chat .bot-row").last.locator("a.cite").first.click()
            _no_script_ran(page, dialogs)

            # (a) the title in the Corpus tab's table and its remove list.
            page.get_by_role("tab", name="Corpus").click()
            expect(page.locator("#articles")).to_contain_text('<img src=x onerror="window.__xss=1')
            page.locator("#remove-choice input").click()
            expect(page.get_by_role("option", name=re.compile("Evil <img"))).to_be_visible()
            page.keyboard.press("Escape")
            _no_script_ran(page, dialogs)

            # (c) an uploaded file's name, in the file list and the ingest results.
            page.set_input_files("#upload input[type=file]", str(upload))
            expect(page.locator("#upload")).to_contain_text("<img src=x onerror=window.__xss=12")
            page.click("#ingest")
            expect(page.locator("#ingest-results")).to_contain_text("ok", timeout=120_000)
            expect(page.locator("#articles")).to_contain_text("Quillfeather")
            _no_script_ran(page, dialogs)
        finally:
            browser.close()
    print(f"{PAYLOADS} payloads (article title and text, model reply, file name): none ran, all shown as text")
