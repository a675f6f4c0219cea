"""Reading a candidate's answer: the patterns the interviewer's follow-ups and the report's
rubric share, so that a follow-up asks for exactly what the score would miss.
"""

from __future__ import annotations

import re

from doclane.interviews.skills import surface_pattern

__all__ = ["ACTION", "HEDGE", "OWN", "RESULT", "SITUATION", "WORD", "structure_parts", "target_credit",
           "words"]

WORD = re.compile(r"[A-Za-z][\w'+#.-]*|\d[\d.,%]*")
ACTION = re.compile(r"\bI\s+(?:\w+ed|built|wrote|led|ran|made|set|took|chose|split|found|got|did|drove|"
                     r"designed|moved|rebuilt|rewrote|owned)\b")
SITUATION = re.compile(
    r"\b(?:when|while|during|we had|there was|our team|the team|the project|at my|"
    r"in my (?:last|previous|current|first)|before|one (?:day|night|morning|week|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)|(?:last|this) (?:year|month|week|quarter|spring|summer|autumn|winter|"
    r"january|february|march|april|may|june|july|august|september|october|november|december)|"
    r"on a (?:\w+ )?shift|a (?:customer|patient|student|client|colleague) (?:who|called|complained|was|had)|"
    r"our (?:\w+ )?(?:service|site|app|system|ward|class|store)\b)\b", re.I)
RESULT = re.compile(
    r"\b(?:result|outcome|in the end|as a result|which (?:cut|reduced|saved|meant)|went (?:from|down|up)|"
    r"dropped|shipped|launched|reduced|increased|saved|improved|since then|have not had|rose|grew|doubled|"
    r"halved|closed at|rolled (?:it )?out|went home|on the day|by the end|stayed)\b", re.I)
HEDGE = re.compile(r"\b(?:i think|maybe|probably|kind of|sort of|i guess|not sure|perhaps|i suppose)\b",
                    re.I)
#: What the candidate did, in the first person: "I built", "we moved", "my first model".
OWN = re.compile(r"\b(?:I|we)\s+(?:\w+ed|built|wrote|led|ran|made|set|took|chose|split|found|got|did|"
                  r"drove|designed|moved|rebuilt|rewrote|owned|put|gave|kept|cut|told|brought|began|"
                  r"sent|saw|went|had to|asked|run|write|build|use|teach|plan|review|reconcile|"
                  r"prepare|advise|handle)\b|\bmy (?:first|own|team|biggest|last)\b")
#: A word of a skill's name, matched by its stem ("negotiation" in "negotiate", "tests" for "testing").
STEM = 5


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def structure_parts(answer: str) -> int:
    """How many of situation, own action and result the answer gives (0-3)."""
    return sum(bool(p.search(answer)) for p in (SITUATION, ACTION, RESULT))


def target_credit(skill: str, name: str, answer: str, spans: list[tuple[int, int]]) -> float:
    """How far the answer speaks to a targeted skill: named where the candidate says what they did (1),
    named in passing (0.6), or only its words' stems (0.5); 0 when absent."""
    pattern = surface_pattern(skill, name)
    said = [answer[a:b] for a, b in spans if pattern.search(answer[a:b])]
    if said:
        return 1.0 if any(OWN.search(s) for s in said) else 0.6
    stems = [w[:STEM] for w in words(name) if len(w) >= 4]
    said_stems = {w[:STEM] for w in words(answer)}
    return 0.5 if stems and all(stem in said_stems for stem in stems) else 0.0
