"""The certificate PDF: one A4 landscape page whose text reads right in Cyrillic and Romani.

fpdf2 writes text in an embedded TrueType font as glyph ids, so the raw bytes never contain the
letters. ``page_text`` (tests/pdf_text.py) reads the page as a PDF reader's text extraction does: it inflates the
page's content stream, follows each ``Tf`` to the font it selects, and decodes every string shown
with ``Tj`` through that font's ``ToUnicode`` CMap. A name found in that text is therefore drawn
on the page, in order, with glyphs a reader maps back to those exact letters. fpdf2 leaves out a
letter its font has no glyph for, so a font without Cyrillic would fail these tests.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from learntogether.deeplinks import qr_png
from learntogether.documents.certificate import CertificateTexts, Issuer, render_certificate_pdf
from tests.pdf_text import page_text

BULGARIAN = CertificateTexts(
    heading="Сертификат",
    awarded_to="се присъжда на",
    for_completing="за завършване на курса",
    issued_on_label="Издаден на",
    verify_label="Код за проверка",
)
ENGLISH = CertificateTexts(
    heading="Certificate",
    awarded_to="awarded to",
    for_completing="for completing the track",
    issued_on_label="Issued on",
    verify_label="Verification code",
)
CODE = "7KQ2MX9PRT"
URL = f"https://example.org/api/v1/certificates/{CODE}"


def _render(
    *,
    name: str = "Иван Петров",
    track_title: str = "Смесената класна стая",
    locale: str = "bg",
    verify_url: str | None = URL,
    texts: CertificateTexts = BULGARIAN,
) -> bytes:
    return render_certificate_pdf(
        name=name,
        track_title=track_title,
        issued_on=date(2025, 3, 12),
        code=CODE,
        locale=locale,
        verify_url=verify_url,
        texts=texts,
    )


def test_certificate_is_one_a4_landscape_page() -> None:
    pdf = _render()
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [0 0 841.89 595.28]" in pdf
    assert b"/Count 1" in pdf


def test_bulgarian_certificate_text_is_cyrillic_in_embedded_dejavu() -> None:
    pdf = _render()
    assert set(re.findall(rb"/FontName /[A-Z]{6}\+(\w+)", pdf)) == {
        b"DejaVuSansBook",
        b"DejaVuSansBold",
    }
    assert pdf.count(b"/FontFile2") == 2
    lines = page_text(pdf).splitlines()
    assert "Иван Петров" in lines
    assert "Смесената класна стая" in lines
    assert "Сертификат" in lines
    # Babel (CLDR) puts a narrow no-break space before "г.".
    assert "Издаден на: 12 март 2025\u202fг." in lines


def test_romani_letters_are_drawn_and_the_date_uses_the_english_fallback() -> None:
    text = page_text(
        _render(
            name="Ćerima Šaban",
            track_title="Ǧanipe, θem, čhave thaj žuvľi",
            locale="rom",
            texts=ENGLISH,
        )
    )
    assert "Ćerima Šaban" in text
    assert "Ǧanipe, θem, čhave thaj žuvľi" in text
    assert "Issued on: March 12, 2025" in text


def test_code_and_verification_link_are_printed() -> None:
    pdf = _render()
    lines = page_text(pdf).splitlines()
    assert f"Код за проверка: {CODE}" in lines
    assert URL in lines
    assert f"/URI ({URL})".encode() in pdf


def test_without_a_verification_url_only_the_code_is_printed() -> None:
    pdf = _render(verify_url=None)
    assert "http" not in page_text(pdf)
    assert b"/URI" not in pdf


def test_metadata_names_the_programme_the_track_and_the_issue_date() -> None:
    pdf = _render(name="Ana Dimitrova", track_title="The mixed classroom", texts=ENGLISH)
    assert b"/Creator (To Learn Together)" in pdf
    assert b"/Title (Certificate: The mixed classroom)" in pdf
    assert b"/CreationDate (D:20250312000000Z)" in pdf


def test_same_certificate_renders_to_the_same_bytes() -> None:
    assert _render() == _render()


def test_a_very_long_name_wraps_and_stays_on_one_page() -> None:
    name = " ".join(["Александра-Мария Христова-Иванова"] * 5)
    pdf = _render(name=name)
    assert b"/Count 1" in pdf
    assert name in page_text(pdf).replace("\n", " ")


def test_the_issuing_programme_and_its_logo_are_printed(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(qr_png("https://example.org"))
    pdf = render_certificate_pdf(
        name="Ana",
        track_title="Track",
        issued_on=date(2025, 3, 12),
        code=CODE,
        locale="en",
        verify_url=None,
        texts=BULGARIAN,
        issuer=Issuer("Programa Romaní", logo),
    )
    assert "PROGRAMA ROMANÍ" in page_text(pdf)
    assert b"/Subtype /Image" in pdf
    assert b"/Subtype /Image" not in _render()
    assert "TO LEARN TOGETHER" in page_text(_render())
