"""Reading back the text a PDF page shows, as a reader's text extraction does.

fpdf2 writes text in an embedded TrueType font as glyph ids, so the raw bytes never contain the
letters. ``page_text`` inflates the page's content stream, follows each ``Tf`` to the font it
selects, and decodes every string shown with ``Tj`` through that font's ``ToUnicode`` CMap.
"""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
STREAM_START = re.compile(rb"stream\r?\n")
LENGTH = re.compile(rb"/Length (\d+)")
FONT_RESOURCES = re.compile(rb"/Font\s*<<(.*?)>>", re.S)
FONT_RESOURCE = re.compile(rb"/(F\d+) (\d+) 0 R")
TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
CMAP_ENTRY = re.compile(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>")
# A font selection, or a literal string shown (fpdf2 escapes only \, (, ) and CR in it).
PAGE_OPERATION = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    """The stream's bytes by its ``/Length``: compressed data may itself end in a CR, which a
    pattern for the line break before ``endstream`` would take away (a truncated stream)."""
    start, length = STREAM_START.search(body), LENGTH.search(body)
    assert start is not None and length is not None
    data = body[start.end() : start.end() + int(length.group(1))]
    return zlib.decompress(data) if b"/FlateDecode" in body else data


def _cmap(stream: bytes) -> dict[bytes, str]:
    return {
        bytes.fromhex(code.decode()): bytes.fromhex(text.decode()).decode("utf-16-be")
        for code, text in CMAP_ENTRY.findall(stream)
    }


def page_text(pdf: bytes) -> str:
    """Every string shown on the page, one a line, decoded through its font's ToUnicode CMap."""
    objects = {int(number): body for number, body in OBJECT.findall(pdf)}
    resources = FONT_RESOURCES.search(pdf)
    assert resources is not None
    cmaps: dict[bytes, dict[bytes, str]] = {}
    for name, font in FONT_RESOURCE.findall(resources.group(1)):
        to_unicode = TO_UNICODE.search(objects[int(font)])
        assert to_unicode is not None
        cmaps[name] = _cmap(_stream(objects[int(to_unicode.group(1))]))
    content = next(_stream(body) for body in objects.values() if b"/FlateDecode" in body)
    lines: list[str] = []
    cmap: dict[bytes, str] = {}
    for font, literal in PAGE_OPERATION.findall(content):
        if font:
            cmap = cmaps[font]
            continue
        glyphs = re.sub(
            rb"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), literal, flags=re.S
        )
        lines.append("".join(cmap[glyphs[i : i + 2]] for i in range(0, len(glyphs), 2)))
    return "\n".join(lines)
