"""A lesson's quiz as an A4 sheet to print, for people who answer on paper (assisted mode).

Each answer has a box to tick; a mediator then ticks the same answers on the console's form or
taps them in the bot. The fonts are the DejaVu Sans files matplotlib ships (as for certificates),
so Cyrillic and the Romani letters print without downloading anything. The phrases come
translated from the caller (``QuizSheetTexts``); lesson texts lose their Telegram formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from learntogether.documents.certificate import FONT, INK, MUTED, PRIMARY, _font_dir
from learntogether.telegram_html import parse_html

if TYPE_CHECKING:
    from fpdf import FPDF

# A4 portrait, in millimetres.
MARGIN = 18.0
PAGE_WIDTH = 210.0
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOX = 4.2
OPTION_INDENT = 8.0
OPEN_LINES = 3


@dataclass(frozen=True)
class SheetQuestion:
    """One question as a lesson renders it: its kind, text and options (Telegram HTML)."""

    kind: str
    text: str
    options: Sequence[str] = ()


@dataclass(frozen=True)
class QuizSheetTexts:
    """The translatable phrases of a quiz sheet, already in the sheet's language."""

    name_label: str
    """"Name", before a line to write on."""
    date_label: str
    """"Date"."""
    tick_one: str
    """How to answer a single-choice or true/false question."""
    tick_all: str
    """How to answer a multiple-choice question."""
    tick_agree: str
    """How to answer a likert statement."""
    write: str
    """How to answer an open question."""
    likert: Sequence[str]
    """The five points of agreement, from strongly disagree to strongly agree."""


def plain(text: str) -> str:
    """Telegram HTML as the text it shows."""
    return parse_html(text)[0]


def render_quiz_sheet_pdf(
    *,
    title: str,
    questions: Sequence[SheetQuestion],
    locale: str,
    texts: QuizSheetTexts,
    programme: str,
) -> bytes:
    """The lesson's questions, each answer with a box to tick; pages break between questions.
    ``programme`` names the issuer at the top, as certificates do (``LT_PROGRAMME_NAME``)."""
    from fpdf import FPDF  # fpdf2 loads with the first sheet, not at start

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(_font_dir() / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(_font_dir() / "DejaVuSans-Bold.ttf"))
    title = plain(title)
    pdf.set_title(title)
    pdf.set_creator(programme)
    pdf.set_lang(locale)
    pdf.set_margins(MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()

    pdf.set_font(FONT, "B", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(TEXT_WIDTH, 5, programme.upper(), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 18)
    pdf.set_text_color(*PRIMARY)
    pdf.multi_cell(TEXT_WIDTH, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "", 11)
    pdf.set_text_color(*INK)
    pdf.cell(TEXT_WIDTH * 0.65, 8, f"{texts.name_label}: " + "_" * 34)
    pdf.cell(
        TEXT_WIDTH * 0.35, 8, f"{texts.date_label}: " + "_" * 14, new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    for number, question in enumerate(questions, start=1):
        _question(pdf, number, question, texts)
    return bytes(pdf.output())


def _question(pdf: FPDF, number: int, question: SheetQuestion, texts: QuizSheetTexts) -> None:
    answers = _answers(question, texts)
    # Keep a question with its first answers: start a new page when they would not fit.
    if pdf.get_y() + 28 > pdf.h - MARGIN:
        pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.set_text_color(*INK)
    pdf.multi_cell(
        TEXT_WIDTH, 6, f"{number}. {plain(question.text)}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(TEXT_WIDTH, 5, _hint(question.kind, texts), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    pdf.set_text_color(*INK)
    if answers is None:
        for _line in range(OPEN_LINES):
            pdf.ln(7)
            pdf.set_draw_color(*MUTED)
            pdf.line(MARGIN + OPTION_INDENT, pdf.get_y(), MARGIN + TEXT_WIDTH, pdf.get_y())
        pdf.ln(2)
    else:
        for answer in answers:
            if pdf.get_y() + 7 > pdf.h - MARGIN:
                pdf.add_page()
            top = pdf.get_y() + 1
            pdf.set_draw_color(*INK)
            pdf.set_line_width(0.3)
            pdf.rect(MARGIN + 1, top, BOX, BOX)
            pdf.set_x(MARGIN + OPTION_INDENT)
            pdf.multi_cell(TEXT_WIDTH - OPTION_INDENT, 6, answer, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _answers(question: SheetQuestion, texts: QuizSheetTexts) -> list[str] | None:
    """What can be ticked, in the order the form and the bot number them; None: write."""
    if question.kind == "likert":
        return [f"{point} · {label}" for point, label in enumerate(texts.likert, start=1)]
    if question.kind == "open":
        return None
    return [
        f"{chr(ord('A') + index)}. {plain(option)}" for index, option in enumerate(question.options)
    ]


def _hint(kind: str, texts: QuizSheetTexts) -> str:
    return {
        "multiple": texts.tick_all,
        "likert": texts.tick_agree,
        "open": texts.write,
    }.get(kind, texts.tick_one)
