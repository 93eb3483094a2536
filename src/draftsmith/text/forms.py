"""Lines of a form to fill in, which no post should quote: the cover page of an SEC
filing ("Indicate by check mark whether the registrant ..."), a tax form's captions.
The extractive engine skips a sentence that is one. (Their chunks stay searchable: the
facts on a cover page, a company's state or trading symbol, answer questions.)"""

from __future__ import annotations

import re

#: a line of a form to fill in: a check box, an instruction to the filer, a field caption
FORM_LINE = re.compile(
    r"[☐☑☒]|\bindicate by check\s?mark\b|\bcheck (?:the|this|one|each) box\b|"
    r"\b(?:whether|if) the (?:registrant|issuer|filer)\b|\bcommission file number\b|"
    r"^\(\s*(?:exact name|state or other|i\.?r\.?s\.?|address of|registrant|zip code|"
    r"title of each|commission file|former name)",
    re.IGNORECASE,
)
