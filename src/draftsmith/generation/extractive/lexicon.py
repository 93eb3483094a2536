"""The extractive engine's words, per language: adding a language is one entry in
``LEXICONS``.

Regex fields hold alternatives (joined with ``|`` across languages); every pattern
built from them is only ever tested for a match, so the order of the languages
does not change what it finds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from draftsmith.text.tokens import tokenize

from ..types import GenerationRequest, Passage


@dataclass(frozen=True)
class Framing:
    """The engine's only sentences of its own: they name the topic and the headings."""

    intro: str  # "This post looks at {topic}: {parts}."
    intro_plain: str  # the same without the topic
    recap: str  # "To recap, this post covered {parts}."
    and_word: str
    more: str  # ends a list cut short


@dataclass(frozen=True)
class Lexicon:
    """What the engine knows of one language. Regex fields are alternatives."""

    conclusion_heading: str
    framing: Framing | None = None
    #: frequent function words that tell the language apart (language detection)
    markers: frozenset[str] = frozenset()
    #: words kept in lower case inside a Title Case heading
    small_words: frozenset[str] = frozenset()
    #: real but bland headings: never a blog section of their own
    generic_headings: frozenset[str] = frozenset()
    #: headings under which a document sums itself up (good conclusion material)
    summary_headings: str = ""
    #: headings near the start of a document that introduce it (introduction material)
    intro_headings: str = ""
    #: thanks, licences, prefaces: never introduction material
    front_matter: str = ""
    #: openers of a sentence that leans on the one before it ("This ...", "But ...")
    dangling: str = ""
    #: strict "X is a ..." / "X refers to ...": a sentence that defines its subject
    defines: str = ""
    #: looser definition verbs ("provides", "allows")
    definition_verbs: str = ""
    #: phrases of a sentence that sums up ("in conclusion", "we presented")
    strong_summary: str = ""
    #: words of a sentence that draws a lesson ("therefore", "should")
    weak_summary: str = ""
    #: words that make a key phrase a poor heading when they start or end it
    weak_phrase_words: frozenset[str] = frozenset()
    #: the question word of a topic asking how something is done or works
    how_question: str = ""
    #: words of a heading over a procedure or a mechanism ("Recommended checking order")
    procedure_headings: str = ""
    #: words that order the steps of a procedure ("first", "otherwise", "start by")
    sequence_words: str = ""
    #: function words of a language that capitalises its nouns (a capitalised run
    #: of words is normal prose there)
    noun_case_words: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH = Lexicon(
    conclusion_heading="Conclusion",
    framing=Framing(
        "This post looks at {topic}: {parts}.",
        "This post covers {parts}.",
        "To recap, this post covered {parts}.",
        "and",
        "more",
    ),
    markers=_words("the and of to is in that with for are"),
    small_words=_words(
        "a an and as at but by for in of on or the to vs vs. via with from into per"
    ),
    generic_headings=frozenset(
        """overview|introduction|intro|summary|conclusion|conclusions|concluding remarks|abstract|
        faq|faqs|notes|note|contents|table of contents|references|bibliography|appendix|
        acknowledgements|acknowledgments|acknowledgement|acknowledgment|index|preface|foreword|
        about|background|discussion|results|result|methods|method|related work|future work|
        further reading|see also|example|examples|usage|details|misc|other|general|
        getting started|installation|license|changelog|todo|sources|glossary|table|tables|
        figure|figures|preliminaries|motivation|practice tips|related provisions|external links|
        notes and references""".replace("\n", "")
        .replace("        ", "")
        .split("|")
    ),
    summary_headings=(
        r"conclusions?|concluding|summary|summari[sz]ing|discussion|future work|outlook|"
        r"lessons learned|takeaways?|wrap-?up|final thoughts"
    ),
    intro_headings=r"abstract|introduction|overview|what is|about",
    front_matter=(
        r"acknowledge?ments?|thanks|preface|foreword|copyright|licen[cs]e|dedication|"
        r"about the authors?"
    ),
    dangling=(
        r"this|these|that|those|it|its|it's|they|their|them|such|he|she|his|her|here|"
        r"therefore|thereby|there(?:in|of)|both|neither|however|but|and|or|nor|also|moreover|"
        r"furthermore|additionally|in addition|thus|hence|so|yet|still|then|now|instead|"
        r"otherwise|similarly|likewise|in contrast|by contrast|conversely|on the other hand|"
        r"nevertheless|nonetheless|consequently|as a result|accordingly|finally|first(?:ly)?|"
        r"second(?:ly)?|third(?:ly)?|next|lastly|last|meanwhile|again|for example|for instance|"
        r"e\.g\.|i\.e\.|in this (?:case|way|example|setting|sense|regard|context)|in that case|"
        r"in such (?:a )?cases?|to this end|for this reason|for these reasons|the latter|"
        r"the former|the same|the above|the following|yes|no|other|another|each of these|"
        r"all of these|some of these|one of these|many of these|most of these|"
        r"as (?:shown|seen|discussed|mentioned|described|noted|explained|stated|above|below|"
        r"such|before|well)|where|which|whereas|after that|before that|at the same time|"
        r"on the contrary|unlike (?:this|these|that)|like this|in turn|in particular|"
        r"particularly|specifically|more specifically|note that|because of this|due to this|"
        r"even so|only then"
    ),
    defines=(
        r"\b(?:is|are|was|were)\s+(?:a|an|the|one|any|generally|usually|typically|commonly|"
        r"often|mostly|defined|called|known|used|considered)\b|\brefers? to\b|\bmeans?\b|"
        r"\bconsists? of\b|\bdescribes?\b"
    ),
    definition_verbs=(
        r"is an?|is the|are|refers? to|is defined as|are defined as|can be defined as|means?|"
        r"describes?|consists? of|is called|are called|known as|provides?|allows?|enables?|"
        r"lets? you|helps?"
    ),
    strong_summary=(
        r"(?:^overall\b|\boverall,)|"
        r"\b(?:in summary|to summari[sz]e|summing up|in conclusion|to conclude|in short|"
        r"taken together|all in all|in sum|we (?:have )?(?:presented|proposed|introduced|"
        r"described|shown|showed|demonstrated|found|conclude[sd]?|obtained)|(?:this|our) "
        r"(?:paper|work|article|study|chapter|report) (?:has )?(?:presented|proposed|"
        r"introduced|described|shown|showed)|results? (?:show|shows|showed|suggest|suggests|"
        r"indicate|indicates|demonstrate|confirm)|our results|future work|in the future)\b"
    ),
    weak_summary=(
        r"\b(?:therefore|thus|recommend\w*|should|important|key|best|ensure|ultimately|"
        r"as a result|allows?|enables?|helps?|benefits?|open questions?|improve)\b"
    ),
    weak_phrase_words=_words(
        """certain several various different preliminary existing same similar other many new
        good following possible large small given whole single multiple each more most less
        least much few high low main real simple specific particular general common usual
        important better best previous next last first second third overall total actual
        current additional further full true false able likely due used based related called
        known shown way ways case cases type types kind kinds number numbers lot part parts set
        sets use example examples thing things time times order fact point points level amount
        form forms terms end side result results problem problems reason reasons approach
        approaches method methods step steps issue issues value values top bottom left right
        instance instances sort lack well also even just still only clear strong weak major
        significant key great little big wide final initial standard regular obvious
        interesting"""
    ),
    how_question=r"how",
    procedure_headings=(
        r"order|process|processing|procedures?|algorithms?|steps?|how|works?|working|"
        r"mechanisms?|workflow|sequence|lifecycle|life cycle"
    ),
    sequence_words=(
        r"first(?:ly| of all)?|then|next|finally|otherwise|start(?:s|ing)? by|followed by|"
        r"steps?|order|afterwards|until"
    ),
)

GERMAN = Lexicon(
    conclusion_heading="Fazit",
    framing=Framing(
        "Dieser Beitrag behandelt {topic}: {parts}.",
        "Dieser Beitrag behandelt {parts}.",
        "Zusammengefasst ging es um {parts}.",
        "und",
        "mehr",
    ),
    markers=_words("der die und ist nicht das ein eine mit wird sich"),
    small_words=_words("und oder der die das von mit für im"),
    generic_headings=frozenset(
        """einleitung|einführung|fazit|zusammenfassung|vorwort|inhaltsverzeichnis|inhalt|
        literatur|literaturverzeichnis|danksagung|danksagungen|anhang|übungsaufgaben|
        lösungen der übungsaufgaben|stichwortverzeichnis|symbolverzeichnis|
        abkürzungsverzeichnis|bildquellen""".replace("\n", "")
        .replace("        ", "")
        .split("|")
    ),
    summary_headings=r"fazit|zusammenfassung|ausblick",
    intro_headings=r"einleitung|einführung|überblick",
    front_matter=r"danksagung(?:en)?|vorwort|impressum",
    dangling=(
        r"dies|diese|dieser|dieses|diesen|es|er|sie|daher|deshalb|dabei|damit|dann|hier|somit|"
        r"außerdem|aber|und|oder|jedoch|auch|ebenso"
    ),
    defines=(
        r"\bist (?:ein|eine|der|die|das)\b|\bsind (?:die|eine?)\b|\bbezeichnet\b|"
        r"\bhei(?:ß|ss)(?:t|en)\b|\bnennt man\b"
    ),
    definition_verbs=r"ist ein|ist eine|sind|bezeichnet|hei(?:ß|ss)(?:t|en)|nennt man",
    strong_summary=r"\b(?:insgesamt|zusammenfassend|abschließend)\b",
    noun_case_words=_words(
        """der die das den dem des ein eine einen einem einer und oder aber ist sind wird werden
        wurde wurden nicht sich im von vom zu zum zur für auf aus bei nach mit auch wenn dass
        als es wir sie man kann diese dieses dieser wie noch nur über unter"""
    ),
)

FRENCH = Lexicon(
    conclusion_heading="Conclusion",
    framing=Framing(
        "Cet article porte sur {topic} : {parts}.",
        "Cet article aborde {parts}.",
        "En résumé, cet article a abordé {parts}.",
        "et",
        "plus encore",
    ),
    markers=_words("le la les et est des une dans pour que"),
    small_words=_words("et de du des la le les"),
    generic_headings=frozenset({"résumé", "sommaire", "bibliographie", "annexe"}),
    summary_headings=r"résumé|en résumé",
    intro_headings=r"présentation",
    front_matter=r"remerciements|avant-propos",
    dangling=r"ce|cette|ces|il|elle|ils|elles|mais|donc|ainsi|cependant",
    defines=r"\best (?:un|une|le|la)\b",
    definition_verbs=r"est un|est une",
    strong_summary=r"\b(?:en résumé|en conclusion)\b",
)

SPANISH = Lexicon(
    conclusion_heading="Conclusión",
    framing=Framing(
        "Este artículo trata sobre {topic}: {parts}.",
        "Este artículo trata {parts}.",
        "En resumen, este artículo trató {parts}.",
        "y",
        "más",
    ),
    markers=_words("el los las y es del una para que por"),
    small_words=_words("y del"),
    generic_headings=frozenset({"resumen", "conclusión", "conclusiones", "introducción"}),
    summary_headings=r"conclusión|conclusiones",
    intro_headings=r"introducción",
    front_matter=r"agradecimientos|pr[oó]logo",
    dangling=r"esto|este|esta|estos|estas|pero|sin embargo|además",
    defines=r"\bes (?:un|una|el|la)\b",
    definition_verbs=r"es un|es una",
    strong_summary=r"\b(?:en resumen|en conclusión)\b",
)

#: languages the engine writes in; the first four frame the post in their own words
#: (and their order breaks ties in language detection)
LEXICONS: dict[str, Lexicon] = {
    "en": ENGLISH,
    "de": GERMAN,
    "fr": FRENCH,
    "es": SPANISH,
    "it": Lexicon("Conclusione", summary_headings=r"conclusione"),
    "pt": Lexicon("Conclusão"),
    "nl": Lexicon("Conclusie"),
    "sv": Lexicon("Slutsats"),
    "da": Lexicon("Konklusion"),
    "no": Lexicon("Konklusjon"),
    "pl": Lexicon("Podsumowanie"),
    "ru": Lexicon("Заключение"),
    "ja": Lexicon("まとめ"),
    "zh": Lexicon("结论"),
    "ko": Lexicon("결론"),
}


def lexicon(lang: str) -> Lexicon | None:
    return LEXICONS.get(lang)


def conclusion_heading(lang: str) -> str:
    lex = LEXICONS.get(lang)
    return lex.conclusion_heading if lex else ENGLISH.conclusion_heading


def _union(field: str) -> frozenset[str]:
    return frozenset().union(*(getattr(lex, field) for lex in LEXICONS.values()))


def _alternatives(field: str) -> str:
    return "|".join(getattr(lex, field) for lex in LEXICONS.values() if getattr(lex, field))


def _pattern(field: str, template: str = "{}") -> re.Pattern[str]:
    return re.compile(template.format(_alternatives(field)), re.IGNORECASE)


FRAMINGS = {code: lex.framing for code, lex in LEXICONS.items() if lex.framing}
LANGUAGE_MARKERS = {code: lex.markers for code, lex in LEXICONS.items() if lex.markers}
SMALL_WORDS = _union("small_words")
GENERIC_HEADINGS = _union("generic_headings")
WEAK_PHRASE_WORDS = _union("weak_phrase_words")
NOUN_CASE_WORDS = _union("noun_case_words")

SUMMARY_HEADING = _pattern("summary_headings", r"\b(?:{})\b")
INTRO_HEADING = _pattern("intro_headings", r"\b(?:{})\b")
FRONT_MATTER = _pattern("front_matter", r"\b(?:{})\b")
DANGLING = _pattern("dangling", r"^(?:{})\b")
DEFINES = _pattern("defines")
HOW_QUESTION = _pattern("how_question", r"^\W*(?:{})\b")
PROCEDURE_HEADING = _pattern("procedure_headings", r"\b(?:{})\b")
SEQUENCE = _pattern("sequence_words", r"\b(?:{})\b")
DEFINITION = _pattern("definition_verbs", r"\b(?:{})\b")
STRONG_SUMMARY = _pattern("strong_summary")
WEAK_SUMMARY = _pattern("weak_summary")


def detect_language(req: GenerationRequest, passages: Sequence[Passage]) -> str:
    """Two-letter language of the draft: the request's, else guessed from function words
    of the passages ("other" when none of the known ones is clear)."""
    if req.language and req.language.strip():
        return req.language.strip().lower()[:2]
    counts: Counter[str] = Counter()
    n = 0
    for p in passages[:20]:
        for t in tokenize(p.text[:3000]):
            n += 1
            for lang, marks in LANGUAGE_MARKERS.items():
                if t in marks:
                    counts[lang] += 1
    if not counts:
        return "en"
    lang, k = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != "en"))[0]
    return lang if k >= 0.03 * n else "other"
