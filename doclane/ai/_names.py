"""Telling people from products: common given names and the names a text introduces.

"Maria will send the deck" is an action item; "Kafka will deliver the event"
is a description. Without a tagger, a capitalised subject counts as a person
when it is a common given name, or the text itself introduces it as one (an
attendee list, a title such as "Dr."). The list is deliberately modest and
international; rarer names still work through a deadline, an @mention or the
note style "Zoltan to send…".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from doclane.ai._text import Segment, words

__all__ = ["FIRST_NAMES", "people_in"]

FIRST_NAMES: frozenset[str] = frozenset(
    ["aaron", "abdul", "adam", "adrian", "ahmed", "aisha", "alan", "albert", "alex", "alexander", "alexandra", "alice", "alicia", "ali", "amanda", "amelia", "amir", "amy", "ana", "andrea", "andrew", "andy", "angela", "anna", "anne", "anthony", "antonio", "anya", "arjun", "ashley", "ben", "benjamin", "beth", "bill", "bob", "brian", "bruno", "carla", "carlos", "carmen", "caroline", "catherine", "charles", "charlie", "chen", "chris", "christian", "christina", "christine", "claire", "clara", "daniel", "daniela", "dana", "david", "deborah", "diana", "diego", "dmitri", "emily", "emma", "eric", "erik", "eva", "fatima", "felix", "fernando", "francesca", "frank", "gabriel", "george", "grace", "greg", "hannah", "hans", "harry", "helen", "henry", "hiroshi", "hugo", "ian", "igor", "isabel", "isabella", "ivan", "jack", "jacob", "james", "jan", "jane", "jason", "javier", "jean", "jennifer", "jessica", "jim", "joe", "johan", "john", "jonathan", "jorge", "jose", "joseph", "juan", "julia", "julian", "justin", "karen", "karl", "kate", "katie", "kenji", "kevin", "kim", "laura", "lauren", "lea", "lena", "leo", "li", "lily", "linda", "lisa", "liam", "lucas", "lucia", "luis", "luke", "lukas", "marco", "margaret", "maria", "mario", "mark", "marta", "martin", "mary", "matt", "matthew", "max", "maya", "mehmet", "mia", "michael", "michelle", "miguel", "mike", "mohammed", "nadia", "natalia", "nathan", "nick", "nicole", "nina", "noah", "olga", "oliver", "olivia", "omar", "oscar", "pablo", "patricia", "patrick", "paul", "paula", "pedro", "peter", "philip", "pierre", "priya", "rachel", "rahul", "raj", "ravi", "rebecca", "richard", "rita", "robert", "rosa", "ryan", "sam", "samuel", "sandra", "sara", "sarah", "sean", "sebastian", "sergei", "simon", "sofia", "sophie", "stefan", "stephen", "steve", "steven", "susan", "thomas", "tim", "tom", "tony", "tyler", "valentina", "victor", "victoria", "wei", "william", "yuki", "yusuf", "zoe"]
)

_NAME_FIELDS = frozenset(
    ["attendees", "participants", "present", "absent", "from", "to", "cc", "bcc", "author", "authors", "owner", "owners", "speaker", "speakers", "reviewer", "reviewers", "chair", "host", "signed by", "prepared by", "contact", "assignee", "assignees"]
)
_FULL_NAME_RE = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z'’-]+)\b")
_TITLE_RE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
#: An initial and a surname, as minutes name people ("C. Doyle will obtain quotes").
_INITIAL_NAME_RE = re.compile(r"(?<![\w.])[A-Z]\.\s?([A-Z][a-z'’-]+(?:-[A-Z][a-z]+)?)\b")


def people_in(segments: Sequence[Segment]) -> frozenset[str]:
    """Lower-case name words of people in the text.

    People are introduced by attendee-like fields, titles ("Dr. Reed") and full
    names that start with a common given name ("Jane Doe").
    """
    found: set[str] = set()
    for seg in segments:
        for first, last in _FULL_NAME_RE.findall(seg.text):
            if first.lower() in FIRST_NAMES:
                found.update((first.lower(), last.lower()))
        if seg.kind == "field" and seg.key and seg.key.lower() in _NAME_FIELDS:
            found.update(w.lower() for w in words(seg.text) if w[:1].isupper())
        if "." in seg.text:
            for name in _TITLE_RE.findall(seg.text):
                found.update(name.lower().split())
            found.update(name.lower() for name in _INITIAL_NAME_RE.findall(seg.text))
    return frozenset(found)
