"""Reading Bot API parameters from query strings, form data, multipart and JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from tests.standin.errors import bad_request
from tests.standin.records import JSON, UploadedFile

# Parameters whose form values are JSON-serialized objects or arrays.
JSON_PARAMETERS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "correct_option_ids",
        "entities",
        "explanation_entities",
        "link_preview_options",
        "menu_button",
        "options",
        "question_entities",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)
_ATTACH = "attach://"


def decode(raw: dict[str, Any]) -> JSON:
    """Resolve ``attach://`` references to their file parts and parse JSON parameters.

    A JSON parameter that is not valid JSON stays a string; reading it then fails as Telegram's.
    """
    params = dict(raw)
    for name, value in raw.items():
        if isinstance(value, str) and value.startswith(_ATTACH):
            part = value[len(_ATTACH) :]
            if isinstance(raw.get(part), UploadedFile):
                params[name] = raw[part]
                params.pop(part, None)
        elif name in JSON_PARAMETERS and isinstance(value, str):
            try:
                params[name] = json.loads(value)
            except ValueError:
                params[name] = value
    return params


async def read_request(request: web.Request) -> JSON:
    """All parameters of a Bot API request, body over query string, decoded."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            raw.update(body)
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[name] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                raw[name] = value
    return decode(raw)


async def read_multipart(reader: MultipartReader) -> JSON:
    """The fields of a multipart body (a webhook answer carrying a method call), decoded."""
    raw: dict[str, Any] = {}
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            raw[part.name] = UploadedFile(part.filename, await part.read(), content_type)
        else:
            raw[part.name] = await part.text()
    return decode(raw)


class Params:
    """Typed access to the parameters of one call, failing with Telegram's errors."""

    def __init__(self, values: JSON) -> None:
        self.values = values

    def text(self, name: str) -> str | None:
        """A string parameter; None when absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str) -> int | None:
        """An integer parameter; None when absent or empty."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'invalid "{name}" specified') from None

    def flag(self, name: str, default: bool = False) -> bool:
        """A Boolean parameter, ``true``/``1`` as Telegram reads them."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            return value.lower() == "true" or value == "1"
        return bool(value)

    def json(self, name: str, label: str | None = None) -> Any:
        """A JSON parameter, parsed; None when absent."""
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            raise bad_request(f"can't parse {label or name} JSON object")
        return value

    def upload(self, name: str) -> UploadedFile | str | None:
        """A file parameter: an uploaded file, a file identifier, or None."""
        value = self.values.get(name)
        if isinstance(value, UploadedFile):
            return value
        return self.text(name) or None
