"""Staying on the topic: which sentences are about it, which sections are, and which
documents cover it.

A sentence is about the topic when it names one of the topic's core terms (its words
without "guide", "explained", "how", ...) or two words of its *expansion*: words that
occur markedly more often in sentences naming a core term than in the others (two or
three such sentences at least). A section is kept when enough of its sentences are about
the topic, counted over what it would show: a section about its own heading only
("Quitting R" in a post about data frames) is left out, with a warning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from draftsmith.text.generic import GENERIC_TOPIC_WORDS
from draftsmith.text.tokens import content_words

from .candidates import Cand, hits

#: the generic words' stems (see draftsmith.text.generic)
GENERIC_TOPIC_STEMS = frozenset(content_words(" ".join(GENERIC_TOPIC_WORDS)))
#: share of a section's sentences about the topic to keep it (its heading naming a core
#: term lowers the bar)
MIN_SHARE = 0.34
MIN_SHARE_NAMED = 0.2
#: core terms from which a sentence must name two of them
LONG_TOPIC = 5
#: the section's best sentences judged before it is written
PREVIEW = 12


def core_terms(topic_words: Sequence[str]) -> frozenset[str]:
    stems = frozenset(w for t in topic_words for w in content_words(t))
    return (stems - GENERIC_TOPIC_STEMS) or stems


class TopicFocus:
    def __init__(self, topic_words: Sequence[str], cands: Iterable[Cand]) -> None:
        self.core = core_terms(topic_words)
        #: a long topic ("how the DMCA limits the liability of online service providers")
        #: is named by two of its terms, not by one ("online")
        self.enough = 2 if len(self.core) >= LONG_TOPIC else 1
        cands = list(cands)
        self.expansion = self._expansion(cands)

    def _expansion(self, cands: list[Cand]) -> frozenset[str]:
        on = [c for c in cands if hits(c.words, self.core) or self._compound(c.words)]
        if len(on) < 3:
            return frozenset()
        inside = Counter(w for c in on for w in c.words)
        overall = Counter(w for c in cands for w in c.words)
        # lift: the word is likelier in a sentence naming the topic than in any sentence
        floor = min(0.8, 1.1 * len(on) / max(1, len(cands)))
        least = 2 if len(on) < 30 else 3  # short sources repeat their words less
        ranked = [
            w
            for w, n in inside.most_common()
            if n >= least and w not in self.core and n / overall[w] >= floor
        ]
        return frozenset(ranked[:25])

    def on_topic(self, c: Cand) -> bool:
        return (
            len(hits(c.words, self.core)) >= self.enough
            or len(c.words & self.expansion) >= 2
            or self._compound(c.words)
        )

    def _compound(self, words: frozenset[str]) -> bool:
        """A compound and its last part: "Becken" for the topic's "Gezeitenbecken",
        "EasyOCR" for its "OCR"."""
        return any(
            (len(w) >= 5 and len(t) >= len(w) + 3 and t.endswith(w))
            or (len(t) >= 3 and len(w) >= len(t) + 3 and w.endswith(t))
            for t in self.core
            for w in words
        )

    def share(self, cands: Sequence[Cand]) -> float:
        return sum(1 for c in cands if self.on_topic(c)) / len(cands) if cands else 0.0

    def keeps(self, heading: str, cands: Sequence[Cand]) -> bool:
        """Whether a section with this heading and these sentences is about the topic."""
        named = bool(hits(frozenset(content_words(heading)), self.core))
        return self.share(cands) >= (MIN_SHARE_NAMED if named else MIN_SHARE)

    def covering_documents(self, cands: Iterable[Cand], least: int = 3) -> set[str]:
        """Documents with at least ``least`` sentences about the topic."""
        counts = Counter(c.doc for c in cands if self.on_topic(c))
        return {d for d, n in counts.items() if n >= least}
