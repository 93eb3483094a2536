"""Words of a topic that say what kind of post is wanted, not what it is about ("a guide
to", "explained", "getting started with", "code examples"). Coverage looks for the other
words in the documents; the extractive engine's topic focus ignores these. ("options",
"work", "learning" are no such words: "OCR options", "machine learning".)"""

from __future__ import annotations

GENERIC_TOPIC_WORDS = frozenset(
    """
    guide guides introduction intro introductory explained explain explaining explainer
    explanation how what why overview tutorial tutorials tip tips basics basic beginner
    beginners beginner's getting get started start understanding understand complete ultimate
    practical quick look primer everything know post blog article summary
    review versus vs simple easy best practices practice step steps way ways handbook notes
    note thoughts lessons how-to example examples code snippet snippets sample samples
    walkthrough hands-on say says said tell tells using use things
    thing
    """.split()
)
