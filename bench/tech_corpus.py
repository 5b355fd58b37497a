"""Materialise the tech-news evaluation corpus named by tests/data/qa_tech_corpus.json.

The VentureBeat texts may not be republished, so the repository keeps only their ids; this
script writes, into OUT:

- ``tech.jsonl``: the gold and distractor articles of ``vb-tech-news``, as they are;
- ``headless/MM-DD-<slug>.txt``: the "headless" articles as plain text with no headline (the
  first line is the lead paragraph), the rendering that used to lose that paragraph at ingest.

Usage:
    python bench/tech_corpus.py /tmp/tech-corpus
    assistant eval tests/data/qa_dev.jsonl tests/data/qa_tech.jsonl --baseline naive \\
        --corpus seeds ../shared/corpora/vb-startup-funding/articles.jsonl /tmp/tech-corpus
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "tests" / "data" / "qa_tech_corpus.json"


def headless_name(article: dict) -> str:
    """``MM-DD-<slug>.txt`` from the article's date and the last segment of its URL."""
    slug = [part for part in article["url"].split("/") if part][-1]
    return f"{article['date'][5:7]}-{article['date'][8:10]}-{slug}.txt"


def materialise(out: Path, spec_path: Path = SPEC) -> tuple[int, int]:
    """Write the corpus into ``out``; return (articles in tech.jsonl, headless files)."""
    spec = json.loads(spec_path.read_text())
    source = REPO / spec["source"]  # relative to the repository root
    wanted = set(spec["gold"]) | set(spec["distractors"])
    headless = set(spec["headless"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "headless").mkdir(exist_ok=True)
    written = 0
    with gzip.open(source, "rt", encoding="utf-8") as lines, (out / "tech.jsonl").open("w", encoding="utf-8") as jsonl:
        for line in lines:
            article = json.loads(line)
            if article["id"] in headless:
                (out / "headless" / headless_name(article)).write_text(article["body"], encoding="utf-8")
            elif article["id"] in wanted:
                jsonl.write(line if line.endswith("\n") else line + "\n")
                written += 1
    return written, len(list((out / "headless").glob("*.txt")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    articles, headless = materialise(args.out)
    print(f"wrote {articles} articles to {args.out / 'tech.jsonl'} and {headless} headless files")


if __name__ == "__main__":
    main()
