"""Keyphrase extraction: candidate phrases between stopwords, scored by frequency.

Candidates are runs of content words (RAKE-style: stopwords, punctuation,
numbers, adverbs, common verb forms and people's names break a run), from
which every 1-4 word n-gram is taken. A phrase scores

    (1 + log freq) * mean(log(1 + word tf)) * length bonus * early bonus * completeness

so multi-word phrases beat the single words they contain, repeated ones beat
one-offs, and a phrase that is a whole run beats a slice cut out of a longer
one. Everyday nouns on their own ("text", "page") are damped, names the text
capitalises mid-sentence ("Kafka") lifted, words in headings count 1.5*.
Selection drops a phrase that is part of one already chosen ("supply" after
"supply chain") and merges plural forms through a light stemmer, so
"contract" and "contracts" never both appear.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from doclane.ai._actions import ACTION_VERBS
from doclane.ai._names import FIRST_NAMES, people_in
from doclane.ai._text import STOPWORDS, Segment, stem, words

__all__ = ["extract_keyphrases", "merge_topics", "names_to_exclude"]

MAX_TOPICS = 8
MIN_TOPICS = 3
_LEN_BONUS = (0.0, 1.0, 1.9, 2.2, 2.2)
_MAX_N = 4
#: Words in headings count this much more than in running text.
_HEADING_WEIGHT = 1.5
#: Phrases mentioned early score up to this much more (texts state their subject first).
_EARLY_BONUS = 0.3

# Everyday nouns that name no subject on their own ("text", "page", "range"). They
# may be part of a phrase ("object storage" needs "object"), but alone, or only
# with each other ("file format"), they are weak topics. A substitute for the
# background corpus that TF-IDF would use, which we do not have offline.
_GENERIC = frozenset(
    ["access", "account", "action", "activity", "addition", "address", "advantage", "age", "amount", "analysis", "answer", "approach", "aspect", "attention", "base", "basis", "benefit", "body", "call", "care", "center", "centre", "chance", "change", "choice", "class", "condition", "content", "context", "control", "copy", "cost", "country", "course", "data", "date", "deal", "degree", "detail", "difference", "direction", "effect", "effort", "element", "energy", "environment", "event", "evidence", "experience", "factor", "feature", "field", "figure", "file", "focus", "force", "form", "format", "function", "future", "goal", "group", "growth", "hand", "head", "history", "home", "idea", "image", "impact", "increase", "information", "input", "interest", "issue", "job", "key", "knowledge", "lack", "language", "length", "level", "life", "line", "list", "load", "location", "loss", "matter", "means", "measure", "member", "message", "method", "mind", "mode", "model", "moment", "money", "name", "nature", "need", "news", "number", "object", "offer", "office", "opportunity", "option", "order", "output", "page", "pair", "paper", "part", "path", "pattern", "period", "phase", "piece", "place", "plan", "point", "policy", "position", "power", "practice", "price", "problem", "process", "product", "program", "programme", "project", "purpose", "quality", "question", "range", "rate", "reason", "record", "region", "report", "request", "requirement", "resource", "response", "rest", "result", "role", "room", "rule", "sense", "series", "service", "set", "share", "side", "sign", "site", "situation", "size", "solution", "source", "space", "stage", "standard", "state", "status", "step", "story", "structure", "style", "subject", "success", "system", "table", "task", "term", "test", "text", "thing", "type", "unit", "user", "value", "version", "view", "word", "work", "world"]
)
_TOPIC_STOP = frozenset(
    ["include", "includes", "included", "including", "based", "following", "follows", "example", "examples", "number", "numbers", "case", "cases", "point", "points", "fact", "facts", "area", "areas", "level", "levels", "result", "regard", "team", "teams", "people", "person", "everyone", "someone", "item", "items", "note", "notes", "section", "sections", "chapter", "end", "start", "beginning", "hour", "hours", "minute", "morning", "afternoon", "evening", "tonight", "et", "al", "am", "pm", "cc", "fyi", "asap", "eod", "eow", "cob", "agenda", "attendees", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "according", "regarding", "via", "overall", "total", "approximately", "although", "using", "will", "would", "could", "should", "must", "shall", "might", "can", "able", "unable", "also", "yes", "no", "not", "none", "etc", "discussed", "mentioned", "noted", "agreed", "confirmed", "decided", "explained", "reported", "stated", "asked", "send", "sends", "provide", "provides", "ensure", "ensures", "prepare", "absolutely", "totally", "completely", "extremely", "incredibly", "highly", "truly", "simply", "definitely", "amazing", "awesome", "excellent", "fantastic", "wonderful", "terrible", "horrible", "awful", "happy", "unhappy", "love", "loved", "hate", "hated", "disappointed", "impressed", "glad", "sorry", "second", "seconds", "minutes", "hours", "days", "weeks", "months", "years", "eleven", "twelve", "thirteen", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "dozen", "half", "third", "fourth", "fifth", "final", "discussion", "discussions", "decision", "decisions", "overview", "summary", "introduction", "conclusion", "conclusions", "background", "appendix", "contents", "minutes", "step", "steps"]
)
# Third-person verb forms that are rarely nouns; they break a candidate phrase.
_VERB_S = frozenset(
    ["creates", "reads", "writes", "extracts", "receives", "provides", "includes", "contains", "allows", "requires", "offers", "gives", "takes", "makes", "seems", "becomes", "remains", "appears", "explains", "describes", "comes", "goes", "gets", "passes", "uses", "stores", "runs", "sends", "keeps", "helps", "means", "lets", "puts", "says", "thinks", "knows", "wants", "tries", "brings", "leads", "holds", "turns", "starts", "shows", "feels", "looks", "works", "lasts", "causes", "ensures", "enables", "handles", "processes", "supports", "generates", "produces", "returns", "exports", "imports", "scrapes", "retries", "consists", "depends", "belongs", "happens", "exists", "arrives", "crashes", "stays", "spent", "took", "made", "went", "came", "gave", "got", "began", "brought", "bought", "built", "caught", "chose", "drew", "drove", "fell", "felt", "found", "flew", "forgot", "held", "kept", "knew", "led", "left", "lost", "meant", "met", "paid", "ran", "sent", "saw", "sold", "stood", "taught", "thought", "told", "understood", "won", "wrote", "grew", "rose", "broke", "spoke", "expects", "aims", "hopes", "believes", "rises", "falls", "grows", "continues", "declines", "improves", "reaches", "serves", "opens", "leaves", "exposes", "complains", "recommends", "suggests", "remains"]
)
_LY_KEEP = frozenset(
    ["supply", "family", "assembly", "reply", "italy", "july", "anomaly", "monopoly", "rally", "ally", "apply", "rely", "fly", "poly", "belly", "jelly", "butterfly", "holy", "bully", "quarterly", "weekly", "monthly", "daily"]
)
_ED_KEEP = frozenset(
    ["need", "speed", "seed", "feed", "red", "bed", "embed", "hundred", "shred", "breed", "proceed", "succeed", "exceed", "creed", "greed", "weed", "deed", "steed"]
)
_PERIOD_RE = re.compile(r"^(?:q[1-4]|h[12]|fy\d*)$")
_ADDRESS_RE = re.compile(r"\S+@\S+\.\w+|(?:https?://|www\.)\S+")
_TOKEN_RE = re.compile(r"@?[^\W\d_][\w'’]*(?:-[\w'’]+)*|\S")


@lru_cache(maxsize=1 << 16)
def _is_content(token: str) -> bool:
    lw = token.lower()
    if lw in STOPWORDS or lw in _TOPIC_STOP or token[0] == "@" or not lw[0].isalpha():
        return False
    if lw in _VERB_S or _PERIOD_RE.match(lw):
        return False
    if any(c.isdigit() for c in lw) and not token[0].isupper():
        return False  # keep model names like "X2" or "GPT-4", drop "3rd" and "v2"
    if len(lw) > 40 or (len(lw) < 3 and not (len(lw) == 2 and token.isupper())):
        return False
    return not (len(lw) > 4 and lw.endswith("ly") and lw not in _LY_KEEP)


@lru_cache(maxsize=1 << 16)
def _is_verbish(word: str) -> bool:
    lw = word.lower()
    return len(lw) > 4 and lw.endswith("ed") and lw not in _ED_KEEP


@dataclass(slots=True)
class _Case:
    """Capitalisation evidence per lower-case word, so ``Europe`` and ``API`` keep their case."""

    lower: Counter[str] = field(default_factory=Counter)
    capital_inside: Counter[str] = field(default_factory=Counter)
    upper: Counter[str] = field(default_factory=Counter)
    #: The capitalised spellings seen, so "MongoDB" and "US-East" come back as written.
    spellings: dict[str, Counter[str]] = field(default_factory=dict)

    def record(self, token: str, lowered: str, sentence_start: bool) -> None:
        """Note how a content word is written (tokens start with a letter)."""
        if token[0].islower():
            self.lower[lowered] += 1
            return
        self.spellings.setdefault(lowered, Counter())[token] += 1
        if len(token) > 1 and token.isupper():
            self.upper[lowered] += 1
        elif not sentence_start:
            self.capital_inside[lowered] += 1

    def display(self, occurrences: Sequence[tuple[list[str], int, bool]], n: int) -> str:
        """The most common spelling of a phrase: lower-case except names and acronyms.

        A multi-word phrase written in title case wherever it appears in running
        text (or, failing that, in headings) is a name ("Northwind Cloud") even
        when it only opens sentences.
        """
        forms = [tuple(run[i : i + n]) for run, i, _ in occurrences]
        best = Counter(" ".join(f).lower() for f in forms).most_common(1)[0][0]
        same = [f for f in forms if " ".join(f).lower() == best]
        in_text = [
            tuple(run[i : i + n])
            for run, i, is_text in occurrences
            if is_text and " ".join(run[i : i + n]).lower() == best
        ]
        title = [f for f in (in_text or same) if not " ".join(f).isupper()]
        if n > 1 and title and all(w[0].isupper() for f in title for w in f):
            # Title case throughout running text, or in headings only ("Acme Corp").
            return " ".join(Counter(title).most_common(1)[0][0])
        out = []
        for w in best.split():
            if self.lower.get(w) or not (self.upper.get(w) or self.capital_inside.get(w)):
                out.append(w)
            else:
                out.append(self.spellings[w].most_common(1)[0][0])
        return " ".join(out)

    def is_proper(self, word: str) -> bool:
        """Capitalised mid-sentence and never written otherwise: a name."""
        return bool(self.capital_inside.get(word)) and not (
            self.lower.get(word) or self.upper.get(word)
        )


def _runs(
    tokens: Sequence[str], exclude: frozenset[str], case: _Case | None
) -> Iterable[list[str]]:
    """Maximal runs of content words, as written; ``case`` records their spelling."""
    run: list[str] = []
    for i, tok in enumerate(tokens):
        if _is_content(tok):
            lowered = tok.lower()
            # A sentence opening with "Send…", "Review…", "Cut…" is an order or a CV line.
            if lowered not in exclude and not (i == 0 and lowered in ACTION_VERBS):
                if case is not None:
                    case.record(tok, lowered, i == 0)
                run.append(tok)
                continue
        if run:
            yield run
            run = []
    if run:
        yield run


def _tokens(text: str) -> list[str]:
    if "@" in text or "://" in text or "www." in text:
        text = _ADDRESS_RE.sub(" , ", text)  # e-mail and web addresses are not topics
    out = []
    for tok in _TOKEN_RE.findall(text):
        if len(tok) > 2 and tok.endswith(("'s", "’s")):
            out.append(tok[:-2])  # the company's plan -> company plan
        elif len(tok) > 1 and tok.endswith(("'", "’")):
            out.append(tok.rstrip("'’"))  # ninety days' notice -> days notice
        else:
            out.append(tok)
    return out


_Scored = tuple[float, tuple[str, ...], float]  # (score, stems, frequency)


def _choose(scored: list[_Scored], limit: int) -> list[tuple[str, ...]]:
    """Greedy selection without sub-phrases.

    A longer phrase replaces a chosen shorter one it contains when it accounts
    for at least half of the shorter one's occurrences ("enterprise customers"
    replaces "customers"); otherwise both may stay, each stem in at most two.
    """
    scored.sort(key=lambda x: (-x[0], -len(x[1]), x[1]))
    chosen: list[tuple[tuple[str, ...], float]] = []
    top = scored[0][0] if scored else 0.0
    for score, key, freq in scored:
        if len(chosen) >= limit:
            break
        if len(chosen) >= MIN_TOPICS and (score < 0.2 * top or (freq < 2 and len(key) == 1)):
            continue
        kset = set(key)
        if any(kset <= set(c) for c, _ in chosen):
            continue
        inside = [i for i, (c, _) in enumerate(chosen) if set(c) < kset]
        if inside:
            shorter, shorter_freq = chosen[inside[0]]
            if freq >= 0.5 * shorter_freq and (freq >= 2 or len(shorter) == 1):
                chosen[inside[0]] = (key, freq)
                chosen = [c for j, c in enumerate(chosen) if j not in inside[1:]]
                continue
            if freq < 2:
                continue
        if any(len(kset & set(c)) >= 2 for c, _ in chosen):
            continue  # "aurora x2 espresso" after "x2 espresso machine"
        uses = Counter(s for c, _ in chosen for s in set(c))
        if any(uses[s] >= 2 for s in kset):
            continue
        chosen.append((key, freq))
    return [c for c, _ in chosen]


def names_to_exclude(segments: Sequence[Segment], owners: Iterable[str] = ()) -> frozenset[str]:
    """People's names (attendee lists, titled names, action owners), kept out of topics."""
    found = set(people_in(segments))
    for owner in owners:
        found.update(w.lower() for w in words(owner) if w[:1].isupper())
    return frozenset(found)


def extract_keyphrases(
    segments: Sequence[Segment],
    headings: Sequence[str] = (),
    exclude: frozenset[str] = frozenset(),
    limit: int = MAX_TOPICS,
) -> list[str]:
    """Return up to ``limit`` key phrases of a chunk, best first.

    ``headings`` (the chunk's section path) count double, like headings inside
    the text; words in ``exclude`` (lower-case) never form part of a phrase.
    """
    case = _Case()
    tf: dict[str, float] = defaultdict(float)
    freq: dict[tuple[str, ...], float] = defaultdict(float)
    whole: Counter[tuple[str, ...]] = Counter()
    first: dict[tuple[str, ...], int] = {}
    # Where each phrase occurs: (run as written, start, in running text rather than a heading).
    where: dict[tuple[str, ...], list[tuple[list[str], int, bool]]] = defaultdict(list)
    position = 0
    sources = [(h, _HEADING_WEIGHT) for h in headings] + [
        (s.text, _HEADING_WEIGHT if s.kind == "heading" else 1.0) for s in segments
    ]
    for text, weight in sources:
        is_text = weight == 1.0
        # Headings are title-cased: only running text shows what is a proper noun.
        for run in _runs(_tokens(text), exclude, case if is_text else None):
            lowered = [w.lower() for w in run]
            stems = [stem(w) for w in lowered]
            verbish = [_is_verbish(w) for w in lowered]
            size = len(run)
            for s in stems:
                tf[s] += weight
            for n in range(1, min(_MAX_N, size) + 1):
                for i in range(size - n + 1):
                    if any(verbish[i + (n > 1) : i + n]):
                        continue  # "-ed" only as a modifier: "distributed systems"
                    key = tuple(stems[i : i + n])
                    freq[key] += weight
                    first.setdefault(key, position + i)
                    where[key].append((run, i, is_text))
                    if n == size:
                        whole[key] += 1
            position += size
    if not freq:
        return []
    total = max(position, 1)
    weight_of = {s: math.log1p(f) for s, f in tf.items()}
    scored: list[_Scored] = []
    for key, f in freq.items():
        run, i, _ = where[key][0]
        word = run[i].lower()
        n = len(key)
        mean_w = weight_of[key[0]] if n == 1 else sum(weight_of[s] for s in key) / n
        score = (
            (1.0 + math.log(f))
            * mean_w
            * _LEN_BONUS[n]
            * (1.0 + _EARLY_BONUS * (1 - first[key] / total))  # early mention
            * (1.0 + 0.2 * whole[key] / f)  # a whole run, not cut out of a longer one
        )
        if n > 1 and _is_verbish(word):
            score *= 0.8  # "revised pricing page": the participle is usually incidental
        if all(s in _GENERIC for s in key):
            score *= 0.6 if n == 1 else 0.8
        elif n == 1 and case.is_proper(word):
            # A name the text capitalises mid-sentence ("Kafka", "Frankfurt"), unless it is
            # a common given name: people are owners, not topics.
            score *= 0.7 if word in FIRST_NAMES else 1.2
        scored.append((score, key, f))
    return [case.display(where[key], len(key)) for key in _choose(scored, limit)]


def merge_topics(
    per_chunk: Sequence[tuple[Sequence[str], float]], limit: int = MAX_TOPICS
) -> list[str]:
    """Merge ranked topic lists of several chunks, weighted by chunk size, best first."""
    scores: dict[tuple[str, ...], float] = defaultdict(float)
    counts: Counter[tuple[str, ...]] = Counter()
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for topics, weight in per_chunk:
        n = len(topics)
        for rank, topic in enumerate(topics):
            key = tuple(stem(w) for w in words(topic))
            if not key:
                continue
            scores[key] += weight * (1.0 - 0.5 * rank / max(n, 1))
            counts[key] += 1
            forms[key][topic] += 1
    # Every merged topic was already a chunk's pick: the single-mention filter does not apply.
    scored: list[_Scored] = [(s, k, float(max(counts[k], 2))) for k, s in scores.items()]
    return [forms[k].most_common(1)[0][0] for k in _choose(scored, limit)]
