"""Which language a text is written in (offline: scripts and function-word profiles), and
what language a person means by "fr", "French" or "français".

Good enough to tell apart the languages people upload most; "unknown" (None) when the
text is too short or no profile stands out, so callers never refuse on a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

#: the most frequent function words of each language (none shared between two lists)
PROFILES: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "the and of to is in that it with for are was this be on as by have not",
        "fr": "le la les et est des une dans pour que qui sur pas au du ce sont avec aux ou",
        "de": "der die und ist nicht das ein eine mit wird sich den von zu auf dem im auch",
        "es": "el los las y es del una para que por con se lo su al como más pero sus",
        "it": "il di che è della gli per non sono una nel dei alla delle anche si da",
        "pt": "o os as e do da em um uma para com não que são dos das ao pelo",
        "nl": "het een van dat zijn niet ook wordt bij voor naar hebben deze worden heeft",
        "sv": "och att det som en av för är på med till inte den har om ett",
        "da": "og at det som en af for er på med til ikke den har om et",
        "no": "og å det som en av for er på med til ikke den har om et jeg",
        "pl": "i w nie na się z do jest że to o jak po ale co od",
    }.items()
}
# A word two profiles share counts for neither; nor does a letter alone (list labels, "a b c").
_COUNTS = Counter(w for words in PROFILES.values() for w in words)
MARKERS = {
    code: frozenset(w for w in words if _COUNTS[w] == 1 and len(w) > 1)
    for code, words in PROFILES.items()
}

#: scripts that name their language, with the share of the letters that says so (kana among
#: kanji says Japanese; hangul among hanja says Korean)
_SCRIPTS = (
    ("ko", 0.3, re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("ja", 0.1, re.compile(r"[\u3040-\u30ff]")),
    ("zh", 0.3, re.compile(r"[\u4e00-\u9fff]")),
    ("ru", 0.3, re.compile(r"[\u0400-\u04ff]")),
    ("ar", 0.3, re.compile(r"[\u0600-\u06ff]")),
    ("el", 0.3, re.compile(r"[\u0370-\u03ff]")),
    ("he", 0.3, re.compile(r"[\u0590-\u05ff]")),
)
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_WORDS = 30
MIN_SHARE = 0.04  # share of a text's words that must be the profile's markers

NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "pl": "Polish",
    "ru": "Russian",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
    "ar": "Arabic",
    "el": "Greek",
    "he": "Hebrew",
}
#: other names people write (English, native, and a few common variants)
_ALIASES = {
    "anglais": "en", "englisch": "en", "inglés": "en", "ingles": "en", "inglese": "en",
    "français": "fr", "francais": "fr", "französisch": "fr", "francés": "fr",
    "deutsch": "de", "allemand": "de", "alemán": "de", "tedesco": "de",
    "español": "es", "espanol": "es", "castellano": "es", "espagnol": "es", "spanisch": "es",
    "italiano": "it", "italien": "it", "italienisch": "it",
    "português": "pt", "portugues": "pt", "portugais": "pt", "brazilian portuguese": "pt",
    "nederlands": "nl", "flemish": "nl", "vlaams": "nl", "néerlandais": "nl",
    "svenska": "sv", "dansk": "da", "norsk": "no", "bokmål": "no", "nynorsk": "no",
    "nb": "no", "nn": "no", "polski": "pl", "русский": "ru", "日本語": "ja",
    "中文": "zh", "mandarin": "zh", "simplified chinese": "zh", "traditional chinese": "zh",
    "한국어": "ko", "العربية": "ar", "ελληνικά": "el", "עברית": "he",
}  # fmt: skip
_BY_NAME = {name.lower(): code for code, name in NAMES.items()} | _ALIASES
_QUALIFIER_RE = re.compile(r"\s*[\(\[].*?[\)\]]\s*|[-_][a-z0-9]{2,8}$", re.IGNORECASE)


def language_code(value: str | None) -> str | None:
    """The two-letter code a person means ("en", "en-US", "English", "français (Canada)"),
    or None when it is not a language this module knows."""
    if not value or not value.strip():
        return None
    text = unicodedata.normalize("NFC", value.strip().lower())
    for candidate in (text, _QUALIFIER_RE.sub("", text).strip()):
        if candidate in NAMES:
            return candidate
        if candidate in _BY_NAME:
            return _BY_NAME[candidate]
    return None


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def detect(text: str) -> str | None:
    """The language ``text`` is written in, or None when unsure."""
    sample = text[:200_000]
    letters = sum(ch.isalpha() for ch in sample)
    if not letters:
        return None
    for code, share, script in _SCRIPTS:
        if len(script.findall(sample)) >= share * letters:
            return code
    words = [w.lower() for w in _WORD_RE.findall(sample)]
    if len(words) < MIN_WORDS:
        return None
    hits = Counter(code for w in words for code, marks in MARKERS.items() if w in marks)
    if not hits:
        return None
    (best, count), *rest = hits.most_common(2) + [("", 0)]
    runner_up = rest[0][1]
    if count < MIN_SHARE * len(words) or count < 1.5 * runner_up:
        return None
    return best
