"""The offline analyzer on the failures a new user met (issue 14), as regression tests."""

from __future__ import annotations

import pytest

from doclane.ai.local import LocalAnalyzer, guess_title
from doclane.schemas.analysis import Sentiment
from doclane.schemas.extraction import Chunk

ASSIGNMENT = """Take-Home Assignment: Inventory Service

Thank you for your interest in the Backend Engineer role. We are excited to see how you \
approach a real problem, and we hope you enjoy this exercise.

Your task is to build a small REST service that tracks stock levels. The service must expose \
endpoints to create items and adjust quantities. You should use Python 3.11 or later.

Requirements:
- Store data in SQLite or PostgreSQL.
- Write unit tests for the stock adjustment logic.
- Include a README that explains how to run the service.

Please submit your solution as a link to a private Git repository within 7 days.

After you submit, we will schedule a call. We will ask you to walk through your code.

Good luck, and have fun!
"""


@pytest.fixture
def analyzer() -> LocalAnalyzer:
    return LocalAnalyzer()


async def test_an_instruction_brief_reads_neutral(analyzer: LocalAnalyzer) -> None:
    # extractive-v2: positive, "100% of the text reads positive".
    result = await analyzer.analyze_chunk(Chunk(index=0, text=ASSIGNMENT))

    assert result.sentiment is Sentiment.NEUTRAL


async def test_the_requirements_of_a_brief_are_its_action_items(analyzer: LocalAnalyzer) -> None:
    # extractive-v2: one item, "We will ask you to walk through your code".
    items = [i.text for i in (await analyzer.analyze_chunk(Chunk(index=0, text=ASSIGNMENT))).action_items]

    assert not any("walk through" in t or "schedule a call" in t for t in items)
    for task in ("Store data in SQLite", "Write unit tests", "Include a README",
                 "Submit your solution"):
        assert any(t.startswith(task) for t in items), items


@pytest.mark.parametrize(
    "sentence",
    [
        "We will ask you to walk through your code.",
        "We will invite you to present your work to the design team next week.",
        "Legal will review the draft renewal terms next week.",
        "I want to thank you and the whole team for your care.",
        "We expect the share of empty searches to fall below 10 percent.",
        "Record temperatures across Spain pushed demand to new highs.",
        "Open Questions",
    ],
)
async def test_statements_about_the_future_are_not_action_items(
    analyzer: LocalAnalyzer, sentence: str
) -> None:
    assert (await analyzer.analyze_chunk(Chunk(index=0, text=sentence))).action_items == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("If you need a file during the outage, copy it to your laptop beforehand.",
         ["If you need a file during the outage, copy it to your laptop beforehand"]),
        ("Use the glossary for product terms.", ["Use the glossary for product terms"]),
        ("You may discuss the questions, but you must write your own answers.",
         ["Write your own answers"]),
        ("Strings longer than 40 characters are cut off, so please keep button labels short.",
         ["Keep button labels short"]),
        ("Please correct my bills using my readings, and stop the direct debit until then.",
         ["Correct my bills using my readings", "Stop the direct debit until then"]),
        ("I expect a full refund within seven days.", ["I expect a full refund within seven days"]),
        ("Logistics should restore three-day delivery before the summer peak.",
         ["Restore three-day delivery before the summer peak"]),
    ],
)
async def test_orders_obligations_and_requests_are_action_items(
    analyzer: LocalAnalyzer, text: str, expected: list[str]
) -> None:
    items = (await analyzer.analyze_chunk(Chunk(index=0, text=text))).action_items

    assert [i.text for i in items] == expected


async def test_bullets_under_a_deliverables_heading_are_tasks(analyzer: LocalAnalyzer) -> None:
    chunk = Chunk(index=0, section_path=["Brief", "Deliverables"], text=(
        "- Three 15-second vertical videos for Instagram.\n- A set of six static social posts.\n"))

    items = (await analyzer.analyze_chunk(chunk)).action_items

    assert len(items) == 2


async def test_a_requirement_on_a_system_is_not_a_task(analyzer: LocalAnalyzer) -> None:
    chunk = Chunk(index=0, section_path=["Spec", "Requirements"], text=(
        "- Suggestions must appear after the second character.\n"
        "- The list should show at most eight suggestions.\n"))

    assert (await analyzer.analyze_chunk(chunk)).action_items == []


async def test_a_json_list_of_sentences_is_summarised_as_sentences(analyzer: LocalAnalyzer) -> None:
    text = ("headline: Electric Ferry Enters Service\nbody: The ferry MF Solbris made its first "
            "crossing on Monday between Lavik and Oppedal., It carries 120 cars and 300 passengers "
            "and charges in ten minutes at each end., The operator expects emissions on the route "
            "to fall by 95 percent., Three more electric ferries are due next year.")

    summary = (await analyzer.analyze_chunk(Chunk(index=0, text=text))).summary

    assert "., " not in summary
    assert "headline" not in summary
    assert summary.count(". ") == 2  # three whole sentences, each on its own


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (ASSIGNMENT, "Take-Home Assignment: Inventory Service"),
        ("Subject: Invoice 2024-118 overdue\n\nHello Mr. Grant,\n\nPlease pay.", "Invoice 2024-118 overdue"),
        ("MEMORANDUM\n\nTo: All staff\nRe: Updated remote work policy\n\nFrom 1 October…",
         "Updated remote work policy"),
        ("From: Daniel Cho To: Design team Subject: Thank you for the launch\n\nTeam,",
         "Thank you for the launch"),
        ("PROJECT BRIEF: Scanner Replacement\n\nPurpose\nOur scanners are old.",
         "PROJECT BRIEF: Scanner Replacement"),
        ("Dear Dr. Hughes,\n\nThank you for the care my father received.", None),
        ("The office will be closed on Monday. Normal hours resume on Tuesday.", None),
        ("Minutes: Website Steering Group, 6 May\n\nPresent: Lisa Grant, Ben Okafor",
         "Minutes: Website Steering Group, 6 May"),
        ("report: Third quarter results\nperiod: July to September", "Third quarter results"),
        ("Note: the office closes early on Friday.\n\nPlease plan ahead.", None),
        ("id: 4411\nsummary: A tool for approvals", None),
    ],
)
def test_a_title_is_found_where_a_reader_sees_one(text: str, title: str | None) -> None:
    # extractive-v2 and the text reader: no title for any of these.
    assert guess_title([Chunk(index=0, text=text)]) == title


def test_the_first_heading_is_the_title() -> None:
    assert guess_title([Chunk(index=0, text="x", section_path=["Design", "Overview"])]) == "Design"
    assert guess_title([]) is None


async def test_a_document_is_judged_on_all_of_its_sentences(analyzer: LocalAnalyzer) -> None:
    # extractive-v3 voted with its chunks' labels, so a two-line "Congratulations!" chunk
    # could carry a document; v4 reads the sentences of every chunk together.
    chunks = [
        Chunk(index=0, text="The sound is fantastic and the bass is excellent. I love it."),
        Chunk(index=1, text="The battery is terrible and the app is awful. I hate it."),
    ]
    pairs = [(c, await analyzer.analyze_chunk(c)) for c in chunks]
    assert [a.sentiment for _, a in pairs] == [Sentiment.POSITIVE, Sentiment.NEGATIVE]

    doc = await analyzer.reduce(pairs)

    assert doc.sentiment is Sentiment.MIXED
    justification = doc.sentiment_justification or ""
    assert "fantastic" in justification and "terrible" in justification


# --- extractive-v4: the parse, markup, flattened JSON ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Make sure you remove duplicate orders and convert all amounts to euros.",
         [("Remove duplicate orders", None), ("Convert all amounts to euros", None)]),
        ("Tomasz, would you mind booking a room for twelve people once the date is set?",
         [("Book a room for twelve people once the date is set", "Tomasz")]),
        ("Don't forget to include a README that explains how to run the pipeline.",
         [("Include a README that explains how to run the pipeline", None)]),
        ("I would appreciate it if you could arrange a technician visit within seven days.",
         [("Arrange a technician visit within seven days", None)]),
        ("Paula will shorten the security training to one hour.",
         [("Shorten the security training to one hour", "Paula")]),
        ("IT needs to send laptops to new joiners before their first day.",
         [("Send laptops to new joiners before their first day", "IT")]),
        ("Take laptops and chargers home on Thursday evening; the movers will not carry them.",
         [("Take laptops and chargers home on Thursday evening", None)]),
    ],
)
async def test_the_parse_finds_orders_requests_and_obligations(
    analyzer: LocalAnalyzer, text: str, expected: list[tuple[str, str | None]]
) -> None:
    items = (await analyzer.analyze_chunk(Chunk(index=0, text=text))).action_items

    assert [(i.text, i.owner) for i in items] == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The API must return 202 whether or not the email address exists.",  # a system's duty
        "Orbis will hold its Partner Summit in Lisbon on 12 June.",  # a company's future
        "Please don't spend more than four hours on this.",  # a limit, not a task
        "Pay and career growth scored poorly this year.",  # "Pay" is a noun here
        "Order volumes doubled by March after the new campaign.",
    ],
)
async def test_the_parse_leaves_statements_and_requirements_alone(
    analyzer: LocalAnalyzer, sentence: str
) -> None:
    assert (await analyzer.analyze_chunk(Chunk(index=0, text=sentence))).action_items == []


async def test_a_json_list_of_tasks_keeps_each_owner(analyzer: LocalAnalyzer) -> None:
    text = ("[0] owner: Elena | task: Revise the marketing forecast for Q3.\n\n"
            "[1] owner: Marc | task: Send the updated headcount plan to finance by 30 June.")
    items = (await analyzer.analyze_chunk(Chunk(index=0, text=text, section_path=["action_items"])))

    assert [(i.text, i.owner, i.deadline) for i in items.action_items] == [
        ("Revise the marketing forecast for Q3", "Elena", None),
        ("Send the updated headcount plan to finance by 30 June", "Marc", "30 June"),
    ]


async def test_a_courtesy_to_the_reader_is_no_praise(analyzer: LocalAnalyzer) -> None:
    text = ("Congratulations on reaching the final stage! We are delighted that you are still "
            "with us. The attached spreadsheet contains one month of warehouse data. Identify "
            "the three main causes of late deliveries. Prepare a presentation of eight slides.")

    assert (await analyzer.analyze_chunk(Chunk(index=0, text=text))).sentiment is Sentiment.NEUTRAL


async def test_summaries_show_no_markup(analyzer: LocalAnalyzer) -> None:
    from bench.analysis_metrics import has_markup

    text = (
        "The **gateway** handles HTTP requests and talks to the `broker` over TCP. See [the "
        "docs](https://docs.example/x) for more details on this part of the system.\n"
        "The <b>worker</b> pool reads events from Kafka and writes results into MongoDB.\n"
        "Retries use exponential backoff with jitter so that clients never overload it.\n"
    )
    summary = (await analyzer.analyze_chunk(Chunk(index=0, text=text))).summary

    assert not has_markup(summary), summary
    assert "The gateway handles HTTP requests and talks to the broker over TCP." in summary


async def test_json_fields_joined_by_the_chunker_stay_apart(analyzer: LocalAnalyzer) -> None:
    # The chunker joins the lines of a chunk cut by size: "…them. goal: A simple…".
    text = ("problem: Managers approve expenses by email today. Approvals get lost, and finance "
            "spends about 30 hours a month chasing them. goal: A simple web tool where employees "
            "submit expenses and managers approve them in one click. out_of_scope: Corporate "
            "card reconciliation and travel booking are not part of this work.")
    summary = (await analyzer.analyze_chunk(Chunk(index=0, text=text))).summary

    assert "goal:" not in summary and "out_of_scope" not in summary, summary


async def test_the_reduce_does_not_depend_on_what_this_process_parsed_before(
    analyzer: LocalAnalyzer,
) -> None:
    # In a process pool the reduce may run where none of the chunks were parsed.
    from doclane.ai import _grammar

    half = len(ASSIGNMENT) // 2
    cut = ASSIGNMENT.index("\n\n", half)
    chunks = [Chunk(index=0, text=ASSIGNMENT[:cut]), Chunk(index=1, text=ASSIGNMENT[cut:])]
    pairs = [(c, await analyzer.analyze_chunk(c)) for c in chunks]
    warm = await analyzer.reduce(pairs)
    _grammar._SEEN.clear()

    assert await analyzer.reduce(pairs) == warm
    assert warm.sentiment is Sentiment.NEUTRAL  # an instruction brief, read as a whole
