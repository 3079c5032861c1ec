"""The paper's PDF step (``paper/build.py``: ``write_pdf``) read back from the PDF it writes.

A small paper with a long table, a parameters table whose cells wrap, a title block, an
abstract and citations goes through pandoc and Typst; the PDF's text and its positions
(pdfplumber) must show every table row exactly once, no two lines of text on top of each
other, the title block, the abstract and the References section with the cited works.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAPER_DIR = ROOT / "paper"
if str(PAPER_DIR) not in sys.path:
    sys.path.insert(0, str(PAPER_DIR))

pdfplumber = pytest.importorskip("pdfplumber", reason="pdfplumber reads the PDF back")
pypandoc = pytest.importorskip("pypandoc", reason="pandoc (pypandoc-binary) writes the Typst")
pytest.importorskip("typst", reason="Typst (the typst package) writes the PDF")
try:
    pypandoc.get_pandoc_version()
except OSError as err:  # pypandoc without its pandoc binary
    pytest.skip(f"no pandoc binary: {err}", allow_module_level=True)

import build  # noqa: E402

LONG_ROWS = 72
PARAM_ROWS = 48
TITLE = "Splitting review teams: a test paper"
ABSTRACT = "Abstract words that only this abstract holds, quux frobnicated."
CITED = {  # key: a word its reference list entry must show
    "bottomley2014": "Bottomley",
    "dague2014": "Dague",
    "brooks1975": "Mythical",
    "herbsleb2003": "Herbsleb",
    "gunther2007": "Guerrilla",
}
SOURCE = (
    "assumption, checked against the observed review waits of 2013 "
    "(plausible range from the calibration's 90% credible interval, see the appendix)"
)


def long_table() -> str:
    lines = ["| row | landed share | paid reviewer-days | lead time, days |", "|---|---|---|---|"]
    lines += [f"| L{i:03d}x | {i}% | {i / 7:.2f} | {i * 1.5:.1f} |" for i in range(LONG_ROWS)]
    return "\n".join(lines)


def parameters_table() -> str:
    """Like the paper's Appendix B: long rows that wrap to several lines."""
    lines = [
        "| parameter | default | in the sweep | plausible range | source |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `P{i:03d}y` | `{i / 10:g}` | {i / 10:g}, {i / 5:g} | 0.1–{i:g} | {SOURCE} |"
        for i in range(PARAM_ROWS)
    ]
    return "\n".join(lines)


def write_paper(folder: Path) -> Path:
    cites = "; ".join(f"@{key}" for key in CITED)
    text = f"""---
title: "{TITLE}"
author: orgscale
abstract: |
  {ABSTRACT}
---

## 1. The question

Bottomley argued that one core team is a single integration point [{cites}].

## 2. Results

{long_table()}

## Appendix B. Parameters

{parameters_table()}

## References

::: {{#refs}}
:::
"""
    path = folder / "paper.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    return build.write_pdf(write_paper(tmp_path_factory.mktemp("pdf")), date="2026-01-02")


def words(path: Path) -> list[list[str]]:
    """The words of every page."""
    with pdfplumber.open(path) as doc:
        return [[w["text"] for w in page.extract_words()] for page in doc.pages]


def overlapping_lines(path: Path, share: float = 0.25) -> list[tuple[int, str, str]]:
    """Pairs of text lines on one page that are printed over each other.

    A line is a run of characters on one baseline without a gap wider than 1.5 times the
    font size. Two lines overlap when their vertical extents share more than ``share`` of the
    smaller height while their horizontal extents meet; within a line, a letter or digit
    that covers more than half of the previous one lies on top of it (two lines on the same
    baseline; kerned punctuation such as ``.”`` is not counted). Returns
    ``(page, text, text)`` for each overlap found.
    """
    found = []
    with pdfplumber.open(path) as doc:
        for number, page in enumerate(doc.pages, 1):
            chars = [c for c in page.chars if c["text"].strip()]
            rows: dict[tuple[float, float], list[dict]] = {}
            for c in chars:
                rows.setdefault((round(c["top"], 1), round(c["bottom"], 1)), []).append(c)
            lines = []
            for row in rows.values():
                row.sort(key=lambda c: c["x0"])
                current = [row[0]]
                for prev, c in itertools.pairwise(row):
                    narrower = min(prev["x1"] - prev["x0"], c["x1"] - c["x0"])
                    letters = prev["text"].isalnum() and c["text"].isalnum()
                    if letters and prev["x1"] - c["x0"] > narrower / 2:
                        found.append((number, prev["text"], c["text"]))
                    if c["x0"] - prev["x1"] > 1.5 * c["size"]:
                        lines.append(current)
                        current = []
                    current.append(c)
                lines.append(current)
            boxes = [
                (
                    min(c["x0"] for c in line),
                    max(c["x1"] for c in line),
                    min(c["top"] for c in line),
                    max(c["bottom"] for c in line),
                    "".join(c["text"] for c in line),
                )
                for line in lines
            ]
            boxes.sort(key=lambda b: b[2])
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    if b[2] >= a[3]:
                        break
                    vertical = min(a[3], b[3]) - max(a[2], b[2])
                    horizontal = min(a[1], b[1]) - max(a[0], b[0])
                    if vertical > share * min(a[3] - a[2], b[3] - b[2]) and horizontal > 0:
                        found.append((number, a[4], b[4]))
    return found


def test_every_table_row_is_printed_exactly_once(pdf):
    counts = Counter(w for page in words(pdf) for w in page)
    long_rows = {f"L{i:03d}x": counts[f"L{i:03d}x"] for i in range(LONG_ROWS)}
    assert long_rows == dict.fromkeys(long_rows, 1)
    params = {f"P{i:03d}y": counts[f"P{i:03d}y"] for i in range(PARAM_ROWS)}
    assert params == dict.fromkeys(params, 1)


def test_long_tables_break_across_pages_with_their_header_repeated(pdf):
    pages = words(pdf)
    with_rows = [
        i for i, page in enumerate(pages) if any(re.fullmatch(r"L\d{3}x", w) for w in page)
    ]
    assert len(with_rows) >= 2, "the long table should not fit on one page"
    for i in with_rows:
        assert "landed" in pages[i] and "paid" in pages[i], f"no header row on page {i + 1}"


def test_no_two_lines_of_text_overlap(pdf):
    assert overlapping_lines(pdf) == []


def test_the_overlap_check_sees_lines_printed_over_each_other(tmp_path):
    """The check itself: two text lines placed on top of each other are found."""
    import typst

    typ = tmp_path / "over.typ"
    typ.write_text(
        "#set page(width: 10cm, height: 5cm)\n"
        "#place(top + left, dy: 1cm)[first line of text]\n"
        "#place(top + left, dy: 1.1cm)[second line of text]\n"
        "#place(top + left, dy: 3cm)[a line alone]\n",
        encoding="utf-8",
    )
    out = tmp_path / "over.pdf"
    out.write_bytes(typst.compile(str(typ)))
    found = overlapping_lines(out)
    assert found and {f[0] for f in found} == {1}
    assert all("alone" not in a + b for _, a, b in found)


def test_title_block_and_abstract_open_the_first_page(pdf):
    with pdfplumber.open(pdf) as doc:
        first = doc.pages[0].extract_text()
    head = first.split("1. The question")[0]
    assert TITLE in head.replace("\n", " ")
    assert "orgscale" in head and "2026-01-02" in head
    assert "Abstract" in head and "quux frobnicated" in head


def test_references_list_every_cited_work(pdf):
    text = "\n".join(" ".join(page) for page in words(pdf))
    body, refs = text.split("References", 1)
    assert "(Bottomley 2014;" in body  # an author-date citation, not a bare key
    for key, word in CITED.items():
        assert word in refs, key
        assert key not in text
    assert "Grimm" not in refs  # only the works cited are listed


def test_a_citation_missing_from_the_bibliography_stops_the_build(tmp_path):
    md = tmp_path / "paper.md"
    md.write_text("---\ntitle: T\n---\n\nAs shown [@nobody1999].\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="nobody1999"):
        build.write_pdf(md)


def test_figure_text_prints_at_least_the_minimum_size_at_the_text_width():
    sys.path.insert(0, str(PAPER_DIR / "scripts"))
    import _common
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))  # printed at about half its size
    axes[0].set_title("a panel title", fontsize=7)
    axes[1].plot([1, 2], [3, 4], label="a line")
    axes[1].legend(fontsize=6)
    fig.suptitle("a figure title", fontsize=9)
    _common.legible(fig)
    fig.canvas.draw()
    scale = _common.print_scale(fig)
    assert scale < 0.6
    printed = [
        t.get_fontsize() * scale
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]
    assert len(printed) > 10 and min(printed) >= _common.MIN_PRINT_PT - 1e-9
    plt.close(fig)
