"""Which language a text is in, and what language a person means (draftsmith.text.language)."""

from __future__ import annotations

import pytest

from draftsmith.text.language import detect, language_code
from tests import labelled

SAMPLES = {
    "en": "The tide was low at dawn and the pools were full of life. It is the best time of "
    "the day to see the animals that are hidden in the rocks, and this is why we come.",
    "fr": "Les naturalistes notent les espèces des cuvettes à marée basse. Ce sont des animaux "
    "qui vivent dans les rochers et qui ne sont pas visibles avec la marée haute, dans le sud.",
    "de": "Die Gezeitentümpel sind voller Leben und die Tiere verstecken sich unter den Steinen. "
    "Das ist nicht immer einfach zu sehen, denn auch bei Ebbe wird das Wasser trüb und kalt.",
    "es": "Los animales de las pozas de marea viven entre las rocas y se esconden del sol. Es "
    "una vida difícil para las especies que no pueden moverse con la marea, como los mejillones.",
    "ko": "조수 웅덩이에는 많은 동물이 살고 있으며 썰물 때 바위 사이에서 볼 수 있습니다.",
    "ja": "潮だまりには多くの生き物が住んでいて、干潮のときに岩の間で見ることができます。",
    "ru": "В приливных лужах живёт много животных, их можно увидеть между камнями при отливе.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_detects_the_language_of_a_text(code):
    assert detect(SAMPLES[code] * 2) == code


def test_is_unsure_of_short_or_unclear_text():
    assert detect("") is None and detect("Tide pools.") is None
    assert detect("a b / c d / e f | cell1 | cell2 " * 5) is None  # table debris
    assert detect("Lorem ipsum dolor sit amet, consetetur sadipscing elitr, sed diam " * 10) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("en", "en"), ("EN", "en"), ("English", "en"), ("en-US", "en"), ("en_GB", "en"),
        ("english (UK)", "en"), ("fr", "fr"), ("French", "fr"), ("français", "fr"),
        ("Deutsch", "de"), ("de-DE", "de"), ("Español", "es"), ("pt-BR", "pt"),
        ("日本語", "ja"), ("Klingon", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_language_names_and_codes(value, code):
    assert language_code(value) == code


@pytest.mark.corpus
def test_detects_the_corpus_documents_languages():
    expected = {
        "docling_faq.md": "en",
        "un_fr_olap.pdf": "fr",
        "sf_GeoTopo-komprimiert.pdf": "de",
        "dl_normal_4pages.pdf": "ko",
        "pm_nlp2004slides.pdf": "ja",
        "pm_dmca.pdf": "en",
    }
    assert {name: detect(labelled.extraction(name).markdown) for name in expected} == expected
