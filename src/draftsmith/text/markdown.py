"""Writing text into Markdown: control characters out, inline syntax escaped."""

from __future__ import annotations

import re

#: Characters XML 1.0 (and so python-docx/lxml) rejects, plus DEL and lone
#: surrogates; tab, newline and carriage return are kept.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def strip_control_chars(text: str) -> str:
    """``text`` without XML-invalid control characters (tab/newlines kept)."""
    return _CONTROL_RE.sub("", text)


def escape_inline(text: str) -> str:
    """Text that markdown-it renders back as exactly ``text`` (one line)."""
    text = " ".join(text.split())
    text = re.sub(r"([\\`*_\[\]<>~|])", r"\\\1", text)
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)  # would read as an entity
    return re.sub(r"(^|\s)#", r"\1\\#", text)  # would read as a closing '#' sequence
