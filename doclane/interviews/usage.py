"""How a word is used where it stands: an everyday word that is also a skill's name (*the rest
of the team*, *I excel at*), or the verb in the past a resume's bullet opens with (*Planned*,
*Led*). Both read the statement's cached parse (:func:`doclane.ai._parser.parse`)."""

from __future__ import annotations

from doclane.ai._parser import parse
from doclane.interviews.skills import canonical

__all__ = ["EVERYDAY_ALIASES", "ORDINARY_WORDS", "ordinary", "ordinary_use", "past_verb"]

#: Skills of the lexicon that are also ordinary words: only written with a capital are they
#: the product or language (*Teams*, *Swift*, *Spark*, *Excel*).
ORDINARY_WORDS = frozenset({"teams", "swift", "spark", "rust", "ruby", "go", "excel", "lean", "chef",
                            "puppet", "helm", "unity", "sketch", "oracle", "crystal", "julia", "ada", "dart",
                            "elixir", "access", "word", "outlook", "slack", "notion", "r", "c"})
#: Aliases that are everyday words in lower case: "the rest of the team", "a node in the network"
#: name neither REST APIs nor Node.js (*REST*, *Node* still do).
EVERYDAY_ALIASES = frozenset({"rest", "node"})


def ordinary(written: str) -> bool:
    """``written``, as the text has it, reads as an everyday word before a skill's name: an alias
    of ``EVERYDAY_ALIASES``, or a word of ``ORDINARY_WORDS`` without its capital."""
    if written in EVERYDAY_ALIASES:
        return True
    return canonical(written) in ORDINARY_WORDS and not written[:1].isupper()


def ordinary_use(statement: str, offset: int, written: str) -> bool:
    """``written`` at ``offset`` of ``statement`` is an everyday word, not the skill it can name:
    an alias that is one in lower case (*the rest of the team*), or a word of
    ``ORDINARY_WORDS`` written in lower case as a verb going on to its object or complement
    (*I excel at*, *go the extra mile*); in a list (*excel, outlook, lean*) it is the skill."""
    if written in EVERYDAY_ALIASES:
        return True
    if not ordinary(written):
        return False
    doc = parse(statement)
    if doc is None:
        return False
    token = next((t for t in doc if t.idx == offset), None)
    if token is None or token.pos_ not in ("VERB", "AUX") or token.i + 1 == len(doc):
        return False
    # a verb goes on to what it does (*excel at*); an item of a list (*excel, outlook, go*) does not
    listed = token.i > 0 and doc[token.i - 1].text in (",", ":", "/", "(", ";")
    return not listed and not doc[token.i + 1].is_punct


#: Verbs in the past that a tagger may read as a name when they open a bullet (*Ran* 5S).
_IRREGULAR_PAST = frozenset({"led", "ran", "built", "wrote", "made", "set", "took", "grew", "won", "drove",
                             "kept", "held", "sold", "taught", "brought", "began", "rebuilt", "rewrote"})


def past_verb(statement: str, offset: int) -> bool:
    """The word at ``offset`` of ``statement`` is a verb in the past (*Planned*, *Completed*,
    *Led*): what a resume's bullets open with."""
    doc = parse(statement)
    token = next((t for t in doc if t.idx == offset), None) if doc is not None else None
    if token is None:
        return False
    word = token.lower_
    return word in _IRREGULAR_PAST or (token.tag_ in ("VBD", "VBN") and word.endswith("ed"))
