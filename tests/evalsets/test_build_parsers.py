"""Documents to passages: one real file per format (.txt, .md, .html, a reportlab PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evalsets.build_docs import docs_folder, make_pdf
from workbench.evalsets.builder.build import read_passages
from workbench.evalsets.builder.parsers import (
    DocumentError,
    find_documents,
    passages_of,
    read_document,
)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return docs_folder(tmp_path)


def test_every_format_is_found_and_read(docs: Path) -> None:
    keys = [p.relative_to(docs).as_posix() for p in find_documents(docs)]
    assert keys == ["it-guide.md", "leave-policy.txt", "office.html", "specs/ember.pdf"]


def test_markdown_loses_its_markup_but_keeps_code(docs: Path) -> None:
    doc = read_document(docs / "it-guide.md", docs)
    assert doc.title == "IT guide"
    assert "The company VPN is called Tidewater." in doc.text  # **bold** unwrapped
    assert "choose the Harbour gateway" in doc.text and "*" not in doc.text
    assert "service desk extension: 4417" in doc.text
    assert "#" not in doc.text


def test_html_keeps_the_text_and_drops_scripts_styles_and_chrome(docs: Path) -> None:
    doc = read_document(docs / "office.html", docs)
    assert doc.title == "Our offices"
    assert "The workshop where the kilns are tested is in Vellmoor, about 25" in doc.text
    for gone in ("tracking", "font-family", "Jobs", "Copyright"):
        assert gone not in doc.text


def test_pdf_text_layer_and_title(docs: Path) -> None:
    doc = read_document(docs / "specs" / "ember.pdf", docs)
    assert doc.title == "Product specifications" and doc.key == "specs/ember.pdf"
    assert "reaches a top temperature of 1280 degrees Celsius" in doc.text


def test_passages_are_cut_on_paragraphs_with_stable_ids(docs: Path) -> None:
    doc = read_document(docs / "leave-policy.txt", docs)
    passages = list(passages_of(doc, size=300))
    assert [p.id for p in passages] == ["leave-policy.txt#0", "leave-policy.txt#1",
                                        "leave-policy.txt#2"]
    assert all(len(p.text) <= 300 for p in passages)
    assert passages[2].text.startswith("Parental leave is twenty weeks")
    assert [p.id for p in passages_of(doc, size=300)] == [p.id for p in passages]
    pdf = list(passages_of(read_document(docs / "specs" / "ember.pdf", docs), size=300))
    assert pdf[0].id == "specs-ember.pdf#0" and pdf[0].source == "specs/ember.pdf"


def test_long_paragraph_is_split_on_sentences(tmp_path: Path) -> None:
    sentence = "The north pier crane lifts twelve tonnes on a calm day. "
    (tmp_path / "long.txt").write_text("Title\n\n" + sentence * 30, "utf-8")
    doc = read_document(tmp_path / "long.txt", tmp_path)
    pieces = list(passages_of(doc, size=400))
    assert len(pieces) >= 4 and all(len(p.text) <= 400 for p in pieces)
    assert all(p.text.endswith("day.") for p in pieces[:-1])


def test_unreadable_files_are_skipped_with_their_name(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Fine\n\n" + "A readable paragraph of text. " * 5, "utf-8")
    (tmp_path / "bad.txt").write_bytes(b"line one\nbad \xff byte\n")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    passages, documents, skipped = read_passages(tmp_path, 700)
    assert [d["path"] for d in documents] == ["ok.txt"] and len(passages) == 1
    assert any("bad.txt:2: invalid UTF-8" in s for s in skipped)
    assert any("scan.pdf" in s and "PDF" in s for s in skipped)


def test_pdf_without_text_layer_says_so(tmp_path: Path) -> None:
    make_pdf(tmp_path / "empty.pdf", paragraphs=(), title="")
    with pytest.raises(DocumentError, match="no text layer"):
        read_document(tmp_path / "empty.pdf", tmp_path)
