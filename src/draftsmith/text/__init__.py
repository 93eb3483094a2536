"""The one text layer: tokens, words, sentences, Markdown blocks and key phrases.

Everything works on offsets into the original text, so a sentence found here can be
cited verbatim. English gets a stopword list and the Snowball (Porter 2) stemmer; other
alphabetic languages fall back to "words of two or more letters"; CJK text (no
spaces) is tokenised into overlapping character bigrams.
"""
