"""Plain text out of a team's documents (.txt, .md, .html, .pdf), cut into passages.

One well-kept parser per format: Markdown through markdown-it-py's token stream (the text
a reader sees, without markup), HTML through Beautiful Soup with the standard library's
parser (scripts, styles and navigation dropped), PDF through pypdf's text extraction, page
by page. Passages are cut on paragraph and sentence boundaries (the RAG service's own
splitter) and get stable ids from the file's path in the folder and their position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workbench.rag.chunking import split_text

#: File suffixes read, each with its parser.
SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
#: Passages shorter than this (characters) are too thin to ask about: page numbers, titles.
MIN_PASSAGE_CHARS = 80
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_BLANK_LINES = re.compile(r"\n\s*\n")


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Document:
    """The readable text of one file."""

    path: Path
    """The file, as found under the documents folder."""
    key: str
    """Its path relative to the folder, with `/` (the stem of its passage ids)."""
    title: str
    """Its title: the first heading, HTML `<title>` or PDF title, else the file name."""
    text: str
    """Its text, paragraphs separated by blank lines."""


@dataclass(frozen=True)
class DocPassage:
    """A passage cut from a document, before it becomes a corpus line."""

    id: str
    title: str
    text: str
    source: str
    """The document's key (relative path)."""


def read_txt(path: Path) -> tuple[str, str]:
    """(title, text) of a UTF-8 text file; the title is its first non-empty line."""
    text = _decode(path)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:120], text


def read_markdown(path: Path) -> tuple[str, str]:
    """(title, text) of a Markdown file: inline text of every block, markup removed."""
    # why here: document parsers are needed to build eval sets only
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(_decode(path))
    blocks: list[str] = []
    title = ""
    heading = False
    for tok in tokens:
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "inline":
            words = "".join(child.content if child.type not in ("softbreak", "hardbreak")
                            else " " for child in tok.children or [])
            if heading and not title:
                title = words.strip()
            blocks.append(words.strip())
        elif tok.type in ("fence", "code_block"):
            blocks.append(tok.content.strip())
    return title, "\n\n".join(b for b in blocks if b)


_HTML_DROP = ("script", "style", "noscript", "nav", "header", "footer", "template", "svg")
_HTML_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "td",
                "th", "dt", "dd", "figcaption")


def read_html(path: Path) -> tuple[str, str]:
    """(title, text) of an HTML file: `<title>` (else the first `<h1>`), then the text of
    each block element as its own paragraph; scripts, styles and page chrome dropped."""
    # why here: document parsers are needed to build eval sets only
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path), "html.parser")
    for tag in soup(_HTML_DROP):
        tag.decompose()
    title_tag = soup.title or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if soup.title:
        soup.title.decompose()
    body = soup.body or soup
    blocks = []
    for el in body.find_all(_HTML_BLOCKS):
        if el.find_parent(_HTML_BLOCKS) is not None:
            continue  # its text is in the enclosing block already
        # No separator: inline tags (`<b>`, `<a>`) sit inside words and sentences, and
        # the source's own whitespace already separates the words.
        text = re.sub(r"\s+", " ", el.get_text()).strip()
        if text:
            blocks.append(text)
    if not blocks:  # bare text with no block elements
        blocks = [body.get_text(" ", strip=True)]
    return title, "\n\n".join(blocks)


def read_pdf(path: Path) -> tuple[str, str]:
    """(title, text) of a PDF: pypdf's text of every page; the title from its metadata."""
    # why here: document parsers are needed to build eval sets only
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, OSError, ValueError) as exc:
        raise DocumentError(f"{path}: not a readable PDF ({exc})") from exc
    if not any(p.strip() for p in pages):
        raise DocumentError(f"{path}: no text layer (a scanned PDF needs OCR first)")
    # pypdf ends lines inside a paragraph with newlines: a single newline is a space.
    paragraphs = [re.sub(r"\s*\n\s*", " ", block).strip()
                  for page in pages for block in _BLANK_LINES.split(page)]
    return str(meta_title).strip(), "\n\n".join(p for p in paragraphs if p)


_READERS: dict[str, Callable[[Path], tuple[str, str]]] = {
    ".txt": read_txt, ".md": read_markdown, ".markdown": read_markdown,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf,
}


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DocumentError(f"{path}:{line}: invalid UTF-8 (save the file as UTF-8)") from e


def read_document(path: Path, root: Path) -> Document:
    """Read one file under `root` with the parser for its suffix."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DocumentError(f"{path}: unsupported file type (read: {', '.join(SUFFIXES)})")
    title, text = reader(path)
    key = path.relative_to(root).as_posix()
    return Document(path, key, title or path.stem.replace("_", " "), text)


def find_documents(root: Path) -> list[Path]:
    """Every readable file under `root` (recursively, hidden folders skipped), sorted."""
    if not root.is_dir():
        raise DocumentError(f"{root}: not a folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def passages_of(doc: Document, size: int = 700) -> Iterator[DocPassage]:
    """The document cut into passages of at most `size` characters, on paragraph and then
    sentence boundaries; id `<relative path, unsafe characters as ->#<n>`."""
    stem = _ID_UNSAFE.sub("-", doc.key).strip("-") or "doc"
    pieces: list[str] = []
    current = ""
    for para in (p.strip() for p in _BLANK_LINES.split(doc.text)):
        if not para:
            continue
        if len(current) + len(para) + 1 <= size:
            current = f"{current}\n{para}" if current else para
            continue
        if current:
            pieces.append(current)
        if len(para) <= size:
            current = para
        else:
            *whole, current = split_text(para, size, 0)
            pieces += whole
    if current:
        pieces.append(current)
    n = 0
    for piece in pieces:
        text = re.sub(r"[ \t]+", " ", piece).strip()
        if len(text) >= MIN_PASSAGE_CHARS:
            yield DocPassage(f"{stem}#{n}", doc.title, text, doc.key)
            n += 1
