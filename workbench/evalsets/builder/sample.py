"""Sample documents to build an eval set from: three files in `sample_docs/` (.txt, .md,
.html) and a PDF written with reportlab, as a word processor would export one.

The build benchmark (`workbench.bench.evalset_build`) and the builder's tests read them;
they live in the package so the benchmark never reaches into `tests/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: The committed sample documents (a fictional company: an IT guide, a leave policy, offices).
SAMPLE_DOCS = Path(__file__).parent / "sample_docs"
PDF_PARAGRAPHS = (
    ("The Ember 3 kiln is the flagship product of Brindle Works. It reaches a top "
     "temperature of 1280 degrees Celsius and weighs 84 kilograms empty. Each kiln is "
     "fired for a full test cycle in Vellmoor before it ships."),
    ("The smaller Ember Mini runs on a normal household socket and reaches 1100 degrees "
     "Celsius. It comes with a two-year warranty, which the Ember 3 extends to five years "
     "for registered studios."),
)


def make_pdf(path: Path, paragraphs: tuple[str, ...] = PDF_PARAGRAPHS,
             title: str = "Product specifications") -> Path:
    """A two-paragraph PDF with a text layer and a title in its metadata.

    Needs reportlab, a dev dependency: ImportError without it."""
    # why inside: reportlab is a dev dependency, absent from a user's install
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title)
    story = [Paragraph(title, styles["Heading1"])]
    for text in paragraphs:
        story += [Paragraph(text, styles["BodyText"]), Spacer(1, 18)]
    doc.build(story)
    return path


def sample_docs(tmp: Path, with_pdf: bool = True) -> Path:
    """A copy of the sample documents in `tmp/docs`, with the PDF in `specs/` when asked
    for and reportlab is installed (without it: the three text formats only)."""
    folder = tmp / "docs"
    shutil.copytree(SAMPLE_DOCS, folder)
    if with_pdf:
        try:
            (folder / "specs").mkdir()
            make_pdf(folder / "specs" / "ember.pdf")
        except ImportError:
            pass  # a user's install without dev dependencies
    return folder
