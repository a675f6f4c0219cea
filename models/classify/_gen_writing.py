"""Generated reports, research papers, slide decks and "other" documents."""

from __future__ import annotations

from models.classify._gen_common import Gen

__all__ = ["other", "paper", "presentation", "report", "report_short"]

_FIELDS = ["retail", "healthcare", "logistics", "renewable energy", "public transport", "higher education",
           "banking", "agriculture", "tourism", "manufacturing", "water utilities", "local government",
           "cybersecurity", "housing", "telecommunications", "mining", "insurance", "charity fundraising"]
_FINDINGS = [
    "Costs in {f} rose by {n}% over the period, driven mainly by energy and wages.",
    "Customer complaints fell by {n}% after the new process was introduced.",
    "{n} of the {m} sites inspected met the required standard.",
    "Demand for {f} services is expected to grow steadily over the next five years.",
    "The survey of {m} respondents shows that {n}% are satisfied with the service.",
    "Staff shortages remain the main risk to delivery.",
    "The pilot achieved its targets in all but one region.",
    "Spending was {money} below budget because two projects were postponed.",
    "Compliance with the policy improved from {n}% to {m}%.",
    "Three incidents were reported during the quarter, none of them serious.",
]


def report(g: Gen) -> str:
    field = g.pick(_FIELDS)
    kind = g.pick(["Annual Report", "Quarterly Report", "Progress Report", "Audit Report", "Market Analysis",
                   "Incident Report", "Evaluation Report", "Feasibility Study", "Status Report",
                   "Sustainability Report", "Inspection Report", "Board Report"])
    lines = [g.heading(f"{kind}: {field.title()}" if g.chance(0.5) else f"{g.company()} {kind} {g.r.randint(2015, 2025)}"),
             g.pick([f"Prepared by {g.person()}, {g.date()}", f"Prepared for the Board of {g.company()}",
                     f"Period: {g.date()} to {g.date()}", f"Version 1.{g.r.randint(0, 9)} - {g.date()}"]), ""]
    chapters = g.pick([["Executive Summary", "Background", "Findings", "Recommendations", "Conclusion"],
                       ["Summary", "Scope and Methodology", "Results", "Risks", "Next Steps"],
                       ["Introduction", "Key Figures", "Analysis", "Outlook"],
                       ["Overview", "Performance", "Financial Summary", "Issues and Risks", "Appendix"]])
    for n, chapter in enumerate(chapters, start=1):
        lines.append(g.heading(f"{n}. {chapter}" if g.chance(0.5) else chapter))
        sentences = [s.format(f=field, n=g.r.randint(2, 60), m=g.r.randint(61, 400), money=g.money(5000, 900000))
                     for s in g.some(_FINDINGS, 2, 4)]
        lines.append(" ".join(sentences) + " " + g.en.paragraph(nb_sentences=g.r.randint(1, 3)))
        if chapter in ("Recommendations", "Next Steps") or g.chance(0.2):
            lines += [f"- {g.pick(['Increase', 'Review', 'Reduce', 'Introduce', 'Monitor'])} {g.fake.bs()}"
                      for _ in range(g.r.randint(2, 4))]
        if chapter in ("Key Figures", "Financial Summary", "Results") and g.chance(0.7):
            lines += ["| Metric | Last year | This year |",
                      *[f"| {g.en.word().title()} | {g.r.randint(10, 999)} | {g.r.randint(10, 999)} |"
                        for _ in range(3)]]
        lines.append("")
    return "\n".join(lines)


_PAPER_TOPICS = ["graph neural networks", "soil microbiome diversity", "monetary policy transmission",
                 "protein folding", "urban heat islands", "low-resource machine translation", "battery degradation",
                 "adolescent sleep patterns", "coral reef bleaching", "federated learning", "medieval trade routes",
                 "quantum error correction", "antibiotic resistance", "labour market mobility", "speech recognition"]


def paper(g: Gen) -> str:
    topic = g.pick(_PAPER_TOPICS)
    authors = ", ".join(g.person() for _ in range(g.r.randint(1, 5)))
    method = g.pick(["a novel", "a simple", "an efficient", "a scalable", "a Bayesian", "a longitudinal"])
    lines = [g.heading(g.pick([f"On {topic.title()}", f"{method.title()[2:].strip()} Approach to {topic.title()}",
                               f"Towards Better {topic.title()}", f"{topic.title()}: Evidence from {g.fake.country()}"])),
             authors, f"{g.fake.city()} {g.pick(['University', 'Institute', 'Research Centre'])}", "",
             g.heading("Abstract"),
             f"We study {topic} and propose {method} method that {g.pick(['outperforms', 'improves on', 'matches'])} "
             f"prior work. Experiments on {g.r.randint(2, 6)} datasets show an improvement of {g.r.randint(1, 15)}."
             f"{g.r.randint(0, 9)}% over the strongest baseline. {g.en.paragraph(nb_sentences=2)}", ""]
    if g.chance(0.5):
        lines += [f"Keywords: {topic}, " + ", ".join(g.en.words(3)), ""]
    sections = [("Introduction", f"Research on {topic} has grown rapidly [{g.r.randint(1, 9)}]. "
                 f"However, existing methods {g.pick(['do not scale', 'ignore uncertainty', 'rely on labelled data'])}. "
                 "In this paper we make the following contributions."),
                ("Related Work", f"{g.person().split()[-1]} et al. ({g.r.randint(2005, 2024)}) proposed an early model. "
                 f"Later work [{g.r.randint(10, 30)}, {g.r.randint(31, 50)}] extended it."),
                (g.pick(["Method", "Methods", "Methodology", "Materials and Methods", "Model"]),
                 f"We collected {g.r.randint(100, 50000)} samples. Let x denote the input and y the label; we minimise "
                 "the loss with stochastic gradient descent. Hyperparameters were chosen by cross-validation."),
                (g.pick(["Experiments", "Results", "Evaluation"]),
                 f"Table {g.r.randint(1, 4)} reports the results. Our method achieves {g.r.randint(60, 99)}.{g.r.randint(0, 9)} "
                 f"accuracy (p < 0.0{g.r.randint(1, 5)}). The ablation study confirms each component helps."),
                ("Discussion", "Our findings suggest that the effect is robust, although the sample is limited."),
                ("Conclusion", f"We presented a method for {topic}. Future work will address its limitations.")]
    for n, (name, text) in enumerate(sections, start=1):
        lines += [g.heading(f"{n} {name}" if g.chance(0.6) else name), text + " " + g.en.paragraph(nb_sentences=2), ""]
    lines.append(g.heading("References"))
    for k in range(g.r.randint(2, 6)):
        lines.append(f"[{k + 1}] {g.person().split()[-1]}, {g.fake.last_name()[0]}. ({g.r.randint(1990, 2024)}). "
                     f"{g.en.sentence(nb_words=6)[:-1]}. Journal of {g.en.word().title()} Studies, "
                     f"{g.r.randint(1, 40)}({g.r.randint(1, 12)}), {g.r.randint(1, 300)}-{g.r.randint(301, 600)}.")
    return "\n".join(lines)


def presentation(g: Gen) -> str:
    subject = g.pick([g.fake.bs().title(), f"Q{g.r.randint(1, 4)} Business Review", "Product Roadmap",
                      "Onboarding for New Starters", "Marketing Plan", f"{g.pick(_FIELDS).title()} Strategy",
                      "Project Kick-off", "Sales Kick-off", "Lessons Learned", "Investor Pitch", "Team Update"])
    slides = [[f"# {subject}", g.pick([g.company(), g.person(), f"{g.person()} | {g.date()}"])]]
    if g.chance(0.6):
        slides.append(["# " + g.pick(["Agenda", "Today", "Overview", "Outline"]),
                       *[f"- {t}" for t in g.some(["Where we are", "Results", "Challenges", "Roadmap", "Budget",
                                                   "Team", "Next steps", "Q&A", "Demo", "Customer feedback"], 3, 5)]])
    for _ in range(g.r.randint(3, 8)):
        slide = ["# " + g.pick([g.fake.catch_phrase(), "Key numbers", "What we learned", "Timeline", "Our solution",
                                "The problem", "Market opportunity", "Next steps", "Risks", "Roadmap 2025"])]
        slide += [f"- {g.en.sentence(nb_words=g.r.randint(3, 8))[:-1]}" for _ in range(g.r.randint(2, 5))]
        if g.chance(0.3):
            slide.append(f"@notes {g.en.sentence(nb_words=12)}")
        slides.append(slide)
    slides.append(["# " + g.pick(["Thank you", "Questions?", "Q&A", "Thank you! Questions?", "Contact"]),
                   g.pick([g.fake.email(), "", g.person()])])
    numbered = g.chance(0.3)
    out: list[str] = []
    for n, slide in enumerate(slides, start=1):
        out.append("@slide")
        if numbered:
            out.append(f"Slide {n}")
        out += slide
        out.append("")
    return "\n".join(out)


def _recipe(g: Gen) -> str:
    dish = g.pick(["Lemon Drizzle Cake", "Vegetable Curry", "Banana Bread", "Minestrone Soup", "Beef Stew",
                   "Pancakes", "Mushroom Risotto", "Chocolate Brownies", "Shakshuka", "Pad Thai"])
    lines = [f"# {dish}", f"Serves {g.r.randint(2, 8)}. Prep time {g.r.randint(5, 40)} minutes.", "", "## Ingredients"]
    lines += [f"- {g.r.randint(1, 500)} {g.pick(['g', 'ml', 'tbsp', 'tsp', 'cups'])} {g.en.word()}"
              for _ in range(g.r.randint(4, 8))]
    lines += ["", "## Method"] + [f"{k}. {g.pick(['Stir', 'Bake', 'Chop', 'Simmer', 'Whisk', 'Season'])} "
                                  f"{g.en.sentence(nb_words=8).lower()}" for k in range(1, g.r.randint(4, 8))]
    return "\n".join(lines)


def _minutes(g: Gen) -> str:
    lines = [f"# {g.pick(['Meeting notes', 'Minutes', 'Team sync', 'Standup notes'])} - {g.date()}",
             "Attendees: " + ", ".join(g.person() for _ in range(g.r.randint(3, 6))), ""]
    for item in g.some(["Budget", "Hiring", "Release plan", "Office move", "Customer escalations", "AOB"], 2, 4):
        lines += [f"## {item}", g.en.sentence(nb_words=12),
                  f"- ACTION: {g.person().split()[0]} to {g.fake.bs()} by {g.date()}", ""]
    return "\n".join(lines)


def _readme(g: Gen) -> str:
    name = g.en.word() + g.pick(["-cli", "js", "db", "-tools", "kit"])
    return "\n".join([f"# {name}", g.en.sentence(nb_words=10), "", "## Installation", "```",
                      f"pip install {name}", "```", "", "## Usage", f"Run `{name} --help` to see the options.",
                      "", "## Configuration", f"Set `{name.upper()}_HOME` to change the data directory.", "",
                      "## License", g.pick(["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0"])])


def _receipt(g: Gen) -> str:
    lines = [g.company().upper(), g.address(), f"Tel {g.fake.phone_number()}", "", "RECEIPT" if g.chance(0.7)
             else "Sales receipt", f"{g.date()} {g.r.randint(7, 22)}:{g.r.randint(10, 59)}", ""]
    total = 0.0
    for _ in range(g.r.randint(2, 8)):
        price = g.r.uniform(0.5, 40)
        total += price
        lines.append(f"{g.en.word().upper()} {price:.2f}")
    lines += [f"TOTAL {total:.2f}", g.pick(["CARD", "CASH", "VISA ****" + str(g.r.randint(1000, 9999)), "CONTACTLESS"]),
              f"CHANGE {g.r.uniform(0, 5):.2f}", g.pick(["Thank you for shopping with us!", "Keep this receipt for returns",
                                                         "PAID - no balance due"])]
    return "\n".join(lines)


def _poem(g: Gen) -> str:
    stanzas = ["\n".join(g.en.sentence(nb_words=g.r.randint(4, 8))[:-1].lower() for _ in range(4))
               for _ in range(g.r.randint(2, 4))]
    return g.fake.catch_phrase().title() + "\n\n" + "\n\n".join(stanzas)


def _article(g: Gen) -> str:
    return "\n".join([f"# {g.fake.catch_phrase()}", f"By {g.person()} | {g.date()}", "",
                      *[g.en.paragraph(nb_sentences=g.r.randint(3, 6)) + "\n" for _ in range(g.r.randint(2, 5))]])


def _form(g: Gen) -> str:
    fields = g.some(["Full name", "Date of birth", "Address", "Phone", "Email", "Emergency contact",
                     "Membership number", "Signature", "Allergies", "Preferred start date"], 4, 8)
    return "\n".join([f"# {g.pick(['Registration form', 'Membership application', 'Booking form', 'Consent form'])}",
                      *[f"{f}: ______________" for f in fields], "", "Please return the completed form to reception."])


def _itinerary(g: Gen) -> str:
    city = g.fake.city()
    lines = [f"# {g.pick(['Trip to', 'Itinerary:', 'Weekend in'])} {city}"]
    for day in range(1, g.r.randint(3, 6)):
        lines += [f"## Day {day}", f"- Morning: {g.en.sentence(nb_words=6)}", f"- Evening: {g.en.sentence(nb_words=6)}"]
    return "\n".join(lines)


def _quote(g: Gen) -> str:
    lines = [g.heading(g.pick(["Quotation", "Estimate", "Price quote"])), f"Quote ref Q-{g.r.randint(100, 9999)}",
             f"Valid until {g.date()}", f"Prepared for {g.company()}", ""]
    lines += [f"| {g.en.word().title()} | {g.money(50, 5000)} |" for _ in range(g.r.randint(2, 5))]
    lines += ["", "This is an estimate, not a request for payment. Prices exclude delivery.",
              "To accept this quote, reply to this message and we will schedule the work."]
    return "\n".join(lines)


def _faq(g: Gen) -> str:
    lines = [f"# {g.pick(['FAQ', 'Frequently asked questions', 'Help centre'])}"]
    for _ in range(g.r.randint(3, 6)):
        lines += [f"## {g.en.sentence(nb_words=7)[:-1]}?", g.en.paragraph(nb_sentences=2), ""]
    return "\n".join(lines)


_OTHER = [_recipe, _minutes, _readme, _receipt, _poem, _article, _form, _itinerary, _quote, _faq]


def other(g: Gen) -> str:
    return g.pick(_OTHER)(g)


# Short operational reports: a subject, a few labelled blocks of observations, actions.
_REPORT_SUBJECTS = [
    ("Inspection Report", ["Scope", "Observations", "Defects found", "Condition rating", "Actions required"]),
    ("Incident Review", ["Summary", "Timeline", "Impact", "Root cause", "Follow-up actions"]),
    ("Progress Report", ["Overview", "Achievements this period", "Areas for improvement", "Attendance", "Next period"]),
    ("Survey Results", ["Method", "Response rate", "Key results", "What respondents asked for", "Next steps"]),
    ("Site Visit Report", ["Progress", "Quality", "Health and safety", "Programme", "Actions"]),
    ("Assessment Report", ["Background", "Assessment", "Risks identified", "Mitigation", "Conclusion"]),
    ("Performance Report", ["Headlines", "Key performance indicators", "Variance", "Issues", "Priorities"]),
    ("Audit Findings", ["Audit opinion", "Scope", "Findings", "Management response", "Follow-up"]),
    ("Review", ["Purpose", "What we reviewed", "Findings", "Lessons", "Recommendations"]),
]
_OBSERVATIONS = [
    "{n} items were checked and {m} met the standard.", "The main issue was {bs}, reported on {date}.",
    "Results improved compared with the previous period ({n}% vs {m}%).", "No serious incidents were recorded.",
    "Two actions from the last review remain open.", "The target of {n}% was met in {m} of 12 months.",
    "Costs were {money}, against a budget of {money2}.", "Delays were caused by {bs}.",
    "Feedback from {m} participants was mostly positive.", "The condition is fair overall; minor repairs are advised.",
    "The team responded within {n} minutes on average.", "Evidence was reviewed for {m} cases selected at random.",
]


def report_short(g: Gen) -> str:
    kind, blocks = g.pick(_REPORT_SUBJECTS)
    lines = [g.heading(f"{kind}: {g.pick([g.fake.street_name(), g.company(), g.pick(_FIELDS).title(), g.fake.city()])}"),
             g.pick([f"Date: {g.date()}", f"Prepared by {g.person()}", f"Reference {g.r.randint(100, 9999)}/{g.r.randint(20, 25)}",
                     f"Period: {g.date()} – {g.date()}"]), ""]
    for block in g.some(blocks, 3, len(blocks)):
        sentences = [s.format(n=g.r.randint(2, 95), m=g.r.randint(3, 400), bs=g.fake.bs(), date=g.date(),
                              money=g.money(1000, 90000), money2=g.money(1000, 90000))
                     for s in g.some(_OBSERVATIONS, 1, 3)]
        if g.chance(0.5):
            lines += [g.heading(block), " ".join(sentences), ""]
        elif g.chance(0.5):
            lines += [f"{block}: {' '.join(sentences)}", ""]
        else:
            lines += [g.heading(block), *[f"- {s}" for s in sentences], ""]
    return "\n".join(lines)
