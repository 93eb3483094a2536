"""Word relations the grounding judge (:mod:`.support`) needs beyond shared stems.

``SYNONYMS``: words a writer swaps for one another when rephrasing a source in most
contexts ("difficult" for "hard", "roughly" for "about"); a faithful paraphrase uses
them, so they count as the source's own words. :func:`opposite`: pairs whose swap
reverses a claim, antonyms ("hard" for "easy") or a negative prefix ("invalid" for
"valid"). General English, small on purpose; matched on stems.
"""

from __future__ import annotations

from draftsmith.text.tokens import stem

_SYNONYM_GROUPS = """
big large huge vast major
small little tiny minor
hard difficult tough tricky
easy simple straightforward
fast quick rapid swift speedy quickly rapidly
begin start commence launch
finish end complete conclude
show display demonstrate reveal indicate
use employ utilize utilise apply
help assist aid support
need require necessary demand
get obtain acquire receive gain
make create produce generate build construct
give provide supply offer deliver hand
buy purchase
often frequently commonly usually typically generally normally regularly
mostly mainly primarily chiefly predominantly principally
approximately around roughly nearly about almost
choose select pick opt
keep retain maintain preserve store hold
allow permit let enable
stop halt cease
try attempt
find detect discover identify spot locate
fix repair correct resolve
say state claim report note tell mention announce
change alter modify adjust adapt tune
increase raise rise grow boost
decrease reduce lower drop decline shrink
whole entire complete full
enough sufficient adequate
main primary principal chief central key
important crucial vital essential critical significant key
current existing present
right correct proper accurate
error mistake
problem issue trouble difficulty
method approach technique
goal aim objective purpose
outcome result
link connect join
split divide separate
remove delete eliminate
cover include contain span
area region zone
kind type category variety
company firm business
job task duty
cost price fee charge
think believe consider
place put position
move shift transfer
send ship transmit
run operate execute
work effort labour labor
manual human
erratic unpredictable irregular
rain rainfall shower
wander roam nomadic
search seek
examine evaluate assess inspect review analyze analyse test check
replace supersede substitute
narrow fewer smaller
"""

#: stem -> the stems of the words it may stand for
SYNONYMS: dict[str, frozenset[str]] = {}
for _line in _SYNONYM_GROUPS.strip().splitlines():
    _stems = {stem(w) for w in _line.split()}
    for _s in _stems:
        SYNONYMS[_s] = SYNONYMS.get(_s, frozenset()) | (_stems - {_s})

_ANTONYMS = {
    ("easy", "hard"),
    ("easy", "difficult"),
    ("increas", "decreas"),
    ("increase", "decrease"),
    ("before", "after"),
    ("more", "less"),
    ("more", "fewer"),
    ("larg", "small"),
    ("large", "small"),
    ("largest", "smallest"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("big", "small"),
    ("longer", "shorter"),
    ("older", "younger"),
    ("earlier", "later"),
    ("better", "worse"),
    ("high", "low"),
    ("higher", "lower"),
    ("always", "never"),
    ("allow", "forbid"),
    ("allow", "prevent"),
    ("enabl", "disabl"),
    ("enable", "disable"),
    ("true", "false"),
    ("male", "female"),
    ("first", "last"),
    ("minimum", "maximum"),
    ("fast", "slow"),
    ("faster", "slower"),
    ("include", "exclude"),
    ("accept", "reject"),
    ("success", "failure"),
    ("add", "remove"),
    ("can", "cannot"),
    ("must", "may"),
    ("require", "optional"),
    ("increase", "reduce"),
    ("rise", "fall"),
    ("gain", "loss"),
    ("win", "lose"),
    ("open", "close"),
    ("strong", "weak"),
    ("stronger", "weaker"),
    ("safe", "dangerous"),
    ("cheap", "expensive"),
    ("public", "private"),
    ("internal", "external"),
    ("input", "output"),
    ("positive", "negative"),
    ("north", "south"),
    ("east", "west"),
    ("left", "right"),
    ("upper", "lower"),
    ("begin", "end"),
    ("start", "end"),
    ("start", "finish"),
    ("rare", "common"),
    ("same", "different"),
    ("simple", "complex"),
    ("light", "heavy"),
    ("major", "minor"),
    ("early", "late"),
    ("long", "short"),
    ("wide", "narrow"),
    ("deep", "shallow"),
    ("hot", "cold"),
    ("young", "old"),
    ("best", "worst"),
    ("lowest", "highest"),
    ("buy", "sell"),
    ("import", "export"),
    ("send", "receive"),
    ("inside", "outside"),
    ("present", "absent"),
    ("approve", "reject"),
    ("confirm", "deny"),
    ("support", "oppose"),
    ("advance", "retreat"),
    ("attack", "defend"),
    ("online", "offline"),
    ("encrypt", "decrypt"),
    ("compress", "decompress"),
}
#: word pairs whose swap reverses a claim (as stem pairs, either way round)
ANTONYMS = {frozenset(stem(w) for w in p) for p in _ANTONYMS}
_NEGATIVE_PREFIXES = ("un", "in", "im", "il", "ir", "non")


def opposite(a: str, b: str) -> bool:
    """Whether stems ``a`` and ``b`` say opposite things: antonyms, or one is the other
    with a negative prefix ("invalid" and "valid", "imposs" and "possibl")."""
    if frozenset((a, b)) in ANTONYMS:
        return True
    for long, short in ((a, b), (b, a)):
        base = next((long[len(p) :] for p in _NEGATIVE_PREFIXES if long.startswith(p)), "")
        if min(len(base), len(short)) >= 4 and (short.startswith(base) or base.startswith(short)):
            return True
    return False


def synonyms(word_stem: str) -> frozenset[str]:
    """The stems ``word_stem`` may stand for in a paraphrase (empty when none)."""
    return SYNONYMS.get(word_stem, frozenset())
