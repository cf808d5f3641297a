"""The certificate as an A4 landscape PDF, in any of the platform's languages.

The fonts are the DejaVu Sans files matplotlib ships, so Bulgarian Cyrillic and the Romani letters
(č, š, ž, ć, ǧ, θ) render without downloading anything. The phrases come translated from the
caller (``CertificateTexts``); only the date is formatted here, with Babel.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_date

from learntogether.i18n import babel_locale

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"
LOGO_HEIGHT = 14.0
DEFAULT_PROGRAMME = "To Learn Together"

# A4 landscape, in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0
TEXT_MARGIN = 30.0
TEXT_WIDTH = PAGE_WIDTH - 2 * TEXT_MARGIN

INK = (33, 37, 41)
MUTED = (96, 103, 112)
PRIMARY = (23, 70, 120)
ACCENT = (196, 150, 52)


@dataclass(frozen=True)
class Issuer:
    """Who issues the certificate: the programme's name and, optionally, its logo."""

    programme: str
    logo: Path | None = None
    """A PNG or JPEG (``LT_CERTIFICATE_LOGO``, checked at start-up)."""


@dataclass(frozen=True)
class CertificateTexts:
    """The translatable phrases of a certificate, already in the learner's language."""

    heading: str
    """"Certificate"."""
    awarded_to: str
    """"awarded to", above the name."""
    for_completing: str
    """"for completing the track", above the track's title."""
    issued_on_label: str
    """"Issued on", before the date."""
    verify_label: str
    """"Verification code", before the code."""


def render_certificate_pdf(
    *,
    name: str,
    track_title: str,
    issued_on: date,
    code: str,
    locale: str,
    verify_url: str | None,
    texts: CertificateTexts,
    issuer: Issuer | None = None,
) -> bytes:
    """One certificate page; the same arguments always give the same bytes.

    ``issuer`` names the programme (and its logo); by default, To Learn Together without a logo.
    """
    issuer = issuer or Issuer(DEFAULT_PROGRAMME)
    from fpdf import FPDF  # fpdf2 (and its fonts) load with the first certificate, not at start

    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(_font_dir() / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(_font_dir() / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{texts.heading}: {track_title}")
    pdf.set_creator(issuer.programme)
    pdf.set_lang(locale)
    # A fixed date (not "now") keeps the document, and its /ID hash, reproducible.
    pdf.set_creation_date(datetime.combine(issued_on, time(), tzinfo=UTC))
    pdf.set_auto_page_break(False)
    pdf.set_margins(TEXT_MARGIN, TEXT_MARGIN)
    pdf.add_page()
    _frame(pdf)

    if issuer.logo is not None:
        # Centred above the programme's name, at a fixed height; its width follows its shape.
        pdf.image(
            str(issuer.logo),
            x=PAGE_WIDTH / 2 - LOGO_HEIGHT,
            y=16,
            h=LOGO_HEIGHT,
            keep_aspect_ratio=True,
            w=2 * LOGO_HEIGHT,
        )
    _line(
        pdf,
        issuer.programme.upper(),
        y=32 if issuer.logo else 26,
        size=10,
        color=ACCENT,
        style="B",
        spacing=1.5,
    )
    _line(pdf, texts.heading, y=38, size=40, color=PRIMARY, style="B")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(PAGE_WIDTH / 2 - 30, 60, PAGE_WIDTH / 2 + 30, 60)
    _line(pdf, texts.awarded_to, y=70, size=14, color=MUTED)
    # From the name on, each block starts below the last: a long name or title wraps.
    _fitted(pdf, name, y=80, largest=34, smallest=16, lines=1, color=INK)
    _line(pdf, texts.for_completing, y=pdf.get_y() + 10, size=14, color=MUTED)
    _fitted(pdf, track_title, y=pdf.get_y() + 10, largest=22, smallest=14, lines=2, color=PRIMARY)

    issued = format_date(issued_on, "long", locale=babel_locale(locale))
    _footer(pdf, f"{texts.issued_on_label}: {issued}", x=TEXT_MARGIN, align="L")
    _footer(pdf, f"{texts.verify_label}: {code}", x=PAGE_WIDTH / 2, align="R")
    if verify_url:
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*PRIMARY)
        pdf.set_xy(PAGE_WIDTH / 2, 172)
        pdf.cell(TEXT_WIDTH / 2, 6, verify_url, align="R", link=verify_url)
    return bytes(pdf.output())


@functools.cache
def _font_dir() -> Path:
    import matplotlib  # for the path of its fonts only: pyplot stays unloaded

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*PRIMARY)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, PAGE_WIDTH - 20, PAGE_HEIGHT - 20)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, PAGE_WIDTH - 28, PAGE_HEIGHT - 28)


def _line(
    pdf: FPDF,
    text: str,
    *,
    y: float,
    size: float,
    color: tuple[int, int, int],
    style: str = "",
    spacing: float = 0,
) -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_char_spacing(spacing)
    pdf.set_text_color(*color)
    pdf.set_xy(TEXT_MARGIN, y)
    pdf.cell(TEXT_WIDTH, size * 0.5, text, align="C")
    pdf.set_char_spacing(0)


def _fitted(
    pdf: FPDF,
    text: str,
    *,
    y: float,
    largest: int,
    smallest: int,
    lines: int,
    color: tuple[int, int, int],
) -> None:
    """Bold, centred, as large as fits in ``lines`` lines; the longest texts wrap at ``smallest``."""
    size = largest
    pdf.set_font(FONT, "B", size)
    while size > smallest and pdf.get_string_width(text) > lines * TEXT_WIDTH * 0.9:
        size -= 1
        pdf.set_font(FONT, "B", size)
    pdf.set_text_color(*color)
    pdf.set_xy(TEXT_MARGIN, y)
    pdf.multi_cell(TEXT_WIDTH, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def _footer(pdf: FPDF, text: str, *, x: float, align: str) -> None:
    pdf.set_font(FONT, "", 11)
    pdf.set_text_color(*INK)
    pdf.set_xy(x, 165)
    pdf.cell(TEXT_WIDTH / 2, 7, text, align=align)
