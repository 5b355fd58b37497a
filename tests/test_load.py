"""Readers and cleaning: every supported format, and a specific error for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEED, SEED_TITLE

from assistant.errors import IngestError
from ingest.clean import clean_body, parse_date
from ingest.load import find_files, load_file

MB = 1_000_000


def test_seed_headline_date_and_debris() -> None:
    [article] = load_file(SEED, 50 * MB).articles
    assert article.title == SEED_TITLE
    assert article.date == "2018-05-31"
    assert "Read More:" not in article.text and "GameFace" not in article.text
    assert "\nXu Li\n" not in article.text  # the photo caption line
    # ... but every sentence survives, including the one that names Xu Li.
    assert "SenseTime co-founder Xu Li said in an interview." in article.text
    assert article.text.startswith("The New Round Of Funding Values The Company At $4.5 Billion")
    assert article.text.endswith("the average revenue growth has been 400 percent.”")
    assert article.ref == "seeds/000_6892b4931faf7592.txt" or article.ref.endswith("000_6892b4931faf7592.txt")


def test_txt_without_a_headline_keeps_its_first_paragraph(tmp_path: Path) -> None:
    lead = ("SenseTime Group Ltd. has raised $600 million from Alibaba in a Series C round, the company said on "
            "Thursday.")
    path = tmp_path / "2018-05-31-sensetime-raises-600m.txt"
    path.write_text(f"{lead}\nTemasek and Suning.com also invested.\n")
    [article] = load_file(path, MB).articles
    assert article.text.startswith(lead) and "Temasek" in article.text
    assert article.title == "Sensetime raises 600m"
    assert article.date == "2018-05-31"
    short = tmp_path / "05-31-pando-series-b.txt"
    short.write_text("Pando raised $30 million in a Series B led by Nexus.")  # one line, ends with a full stop
    [article] = load_file(short, MB).articles
    assert article.text == "Pando raised $30 million in a Series B led by Nexus." and article.title == "Pando series b"


def test_txt_headline_needs_a_blank_or_date_line_after_it(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Acme raises $5M\nMarch 3, 2021\n\nAcme raised $5 million.\n")
    [article] = load_file(path, MB).articles
    assert (article.title, article.date, article.text) == ("Acme raises $5M", "2021-03-03", "Acme raised $5 million.")


def test_markdown_front_matter(tmp_path: Path) -> None:
    md = tmp_path / "nova.md"
    md.write_text("---\ntitle: Nova raises $5M\ndate: 2021-04-02\nurl: https://example.com/nova\n"
                  "source: Example News\ncompany: Nova\n---\n# Nova raises $5M\n\nNova, a **robotics** startup, "
                  "raised [$5 million](https://x.test) led by Foo Ventures.\n\n- It has 12 staff.\n")
    [article] = load_file(md, MB).articles
    assert (article.title, article.date, article.url, article.publisher) == (
        "Nova raises $5M", "2021-04-02", "https://example.com/nova", "Example News")
    assert article.extra == {"company": "Nova"}
    assert article.text == "Nova, a robotics startup, raised $5 million led by Foo Ventures.\n\nIt has 12 staff."


def test_html_main_text_and_meta_tags(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    body = " ".join(["Quux AI raised $30 million in a Series B round led by Bar Capital."] * 3)
    html.write_text(
        "<html><head><title>Quux AI raises $30M | Site</title>"
        '<meta property="og:title" content="Quux AI raises $30M">'
        '<meta property="article:published_time" content="2022-06-01T10:00:00Z">'
        '<meta property="og:url" content="https://news.test/quux"><meta property="og:site_name" content="News Test">'
        "</head><body><nav>Home | About | Subscribe</nav><article><h1>Quux AI raises $30M</h1>"
        f"<p>{body}</p><p>The company builds inspection robots for warehouses and plans to hire 40 engineers.</p>"
        "</article><footer>Copyright 2022 News Test. All rights reserved.</footer></body></html>")
    [article] = load_file(html, MB).articles
    assert article.title == "Quux AI raises $30M"
    assert article.date == "2022-06-01"
    assert article.url == "https://news.test/quux"
    assert "led by Bar Capital" in article.text and "inspection robots" in article.text
    assert "Home | About" not in article.text and "All rights reserved" not in article.text


def _pdf(text_lines: list[str]) -> bytes:
    """A minimal valid one-page PDF with a text layer."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in text_lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Title (Pdfco raises 8 million) /CreationDate (D:20190312120000Z) >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


def test_pdf_text_layer(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_pdf(["Pdfco raised 8 million dollars in seed funding.", "The round was led by Baz Partners."]))
    [article] = load_file(pdf, MB).articles
    assert article.title == "Pdfco raises 8 million"
    assert article.date == "2019-03-12"
    assert "led by Baz Partners" in article.text


def test_jsonl_collection_fields_and_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rows = [
        json.dumps({"id": "a1", "title": "One", "body": "First body text.", "published_at": "2020-01-02",
                    "url": "https://one.test", "source": "Wire", "tags": "funding"}),
        "{not json",
        json.dumps({"id": "a2", "title": "Two", "content": "Second body text.", "date": None}),
        json.dumps({"id": "a3", "title": "Three"}),
    ]
    path.write_text("\n".join(rows) + "\n")
    loaded = load_file(path, MB)
    assert [a.ref for a in loaded.articles] == ["a1", "a2"]
    first = loaded.articles[0]
    assert (first.date, first.url, first.publisher, first.extra) == ("2020-01-02", "https://one.test", "Wire",
                                                                     {"tags": "funding"})
    assert first.key.endswith("c.jsonl#a1")
    reasons = {e.ref.rsplit(":", 1)[1]: e.reason for e in loaded.errors}
    assert "malformed JSON on line 2" in reasons["2"]
    assert "has no text" in reasons["4"]


def test_json_list_and_articles_object(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([{"title": "X", "text": "X text."}, {"title": "Y", "text": "Y text."}]))
    b.write_text(json.dumps({"articles": [{"title": "Z", "body": "Z text."}]}))
    assert [x.title for x in load_file(a, MB).articles] == ["X", "Y"]
    assert [x.title for x in load_file(b, MB).articles] == ["Z"]


def test_vb_corpus_loads_as_is() -> None:
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"
    if not corpus.exists():
        pytest.skip("shared corpus not present")
    loaded = load_file(corpus, 50 * MB)
    assert len(loaded.articles) == 1160 and not loaded.errors
    assert len({a.key for a in loaded.articles}) == 1160


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n ", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary file"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("bad.json", b'{"title": "x",', "invalid JSON at line 1"),
        ("fake.pdf", b"%PDF-1.4 garbage", "not a readable PDF|no text layer"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nBody text here.", "invalid YAML front matter"),
    ],
)
def test_bad_inputs_raise_specific_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        load_file(path, MB)


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("Title\n\n" + "word " * 1000)
    with pytest.raises(IngestError, match=r"over the 0\.0 MB limit \(ingest.max_file_mb\)"):
        load_file(path, 1000)


def test_invalid_utf8_is_read_as_cp1252_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café raises money\n\nThe caf\xe9 startup raised $1 million \x81.".encode("latin-1"))
    loaded = load_file(path, MB)
    assert loaded.articles[0].title == "Café raises money"
    assert loaded.articles[0].text == "The café startup raised $1 million \ufffd."  # (0x81 is no cp1252 character)
    assert loaded.warnings and "invalid UTF-8 at byte 3" in loaded.warnings[0] and "cp1252" in loaded.warnings[0]


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    files, problems = find_files([tmp_path / "missing.txt", tmp_path / "dangling.txt"])
    assert files == []
    assert [reason for _, reason in problems] == ["no such file or directory"] * 2


def test_directory_walk_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    for name in ("a.txt", "b.md", ".hidden.txt", "image.png", "sub/c.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    files, problems = find_files([tmp_path])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.txt", "b.md", "sub/c.jsonl"]
    assert problems == []


def test_clean_body_keeps_sentences_and_normalises() -> None:
    raw = ("Acme\u00a0raised  $5M.\r\n\r\n\r\nShare on Facebook Share on X\nRead more: Other story\n"
           "It hired\u200b staff.")
    assert clean_body(raw) == "Acme raised $5M.\n\nIt hired staff."


def test_name_line_kept_when_not_a_caption() -> None:
    text = "Market Outlook\nInvestors expect growth in robotics."
    assert clean_body(text) == text


@pytest.mark.parametrize(("raw", "iso"), [("31 May 2018", "2018-05-31"), ("May 31, 2018", "2018-05-31"),
                                          ("2018-05-31T08:00:00Z", "2018-05-31"), ("June 3rd, 2021", "2021-06-03"),
                                          ("yesterday", ""), (None, "")])
def test_parse_date(raw: object, iso: str) -> None:
    assert parse_date(raw) == iso
