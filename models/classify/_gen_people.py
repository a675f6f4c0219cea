"""Generated resumes/CVs and job descriptions (templates with varied wording)."""

from __future__ import annotations

from models.classify._gen_common import Gen

__all__ = ["job_description", "resume"]

_SKILLS = [
    "Python", "SQL", "Excel", "project management", "Java", "customer service", "AutoCAD", "Salesforce",
    "financial modelling", "Kubernetes", "React", "budgeting", "negotiation", "SAP", "data analysis",
    "team leadership", "Agile/Scrum", "copywriting", "SEO", "Tableau", "patient care", "welding", "C++",
    "machine learning", "public speaking", "bookkeeping", "QuickBooks", "Photoshop", "Figma", "AWS",
    "inventory management", "forklift licence", "CAD", "lesson planning", "stakeholder management",
    "German (fluent)", "Spanish (conversational)", "risk assessment", "Power BI", "Linux", "HACCP",
]
_ACHIEVEMENTS = [
    "Led a team of {n} to deliver {topic} on time and under budget.",
    "Increased sales by {n}% within the first year.",
    "Reduced processing time by {n}% by automating manual reports.",
    "Managed a portfolio of {n} key accounts worth {money}.",
    "Designed and launched a new {topic} programme used by {n} customers.",
    "Trained and mentored {n} junior colleagues.",
    "Implemented {topic} across {n} sites.",
    "Handled up to {n} customer enquiries per day with a 98% satisfaction rate.",
    "Prepared monthly management accounts and annual budgets.",
    "Coordinated logistics for events of up to {n} attendees.",
    "Wrote technical documentation and test plans.",
    "Cut infrastructure costs by {money} per year.",
]
_DEGREES = ["BSc Computer Science", "BA Economics", "MBA", "MSc Data Science", "BEng Mechanical Engineering",
            "BA English Literature", "Diploma in Nursing", "BCom Accounting", "MA Marketing", "PhD Chemistry",
            "Higher National Diploma in Business", "BSc Psychology", "Associate Degree in Culinary Arts"]


def resume(g: Gen) -> str:
    name = g.person()
    lines = [g.heading(name) if g.chance(0.6) else name,
             g.pick(["", "Curriculum Vitae", "RESUME", "CV", "Résumé"]),
             f"{g.fake.city()} | {g.fake.phone_number()} | {g.fake.email()}"
             + (f" | linkedin.com/in/{name.lower().replace(' ', '')}" if g.chance(0.5) else ""), ""]
    sections = []
    title = g.fake.job()
    summary = [g.heading(g.pick(["Profile", "Summary", "Professional Summary", "About me", "Personal statement",
                                 "Objective"])),
               g.pick([f"{title} with {g.r.randint(2, 20)} years of experience in {g.fake.bs()}.",
                       f"Motivated {title.lower()} seeking a new challenge in a growing company.",
                       f"Results-driven professional with a background in {g.fake.bs()} and a track record of delivery.",
                       f"Recent graduate looking for an entry-level role as {title.lower()}."])]
    sections.append(summary)
    exp = [g.heading(g.pick(["Experience", "Work Experience", "Professional Experience", "Employment History",
                             "Career History"]))]
    for _ in range(g.r.randint(1, 4)):
        start = g.r.randint(2003, 2021)
        end = g.pick([str(start + g.r.randint(1, 4)), "Present", "present", "current"])
        exp.append(g.pick([f"{g.fake.job()}, {g.company()} ({start} - {end})",
                           f"{g.company()} — {g.fake.job()}", f"{g.fake.job()} | {g.company()} | {start}–{end}"]))
        for a in g.some(_ACHIEVEMENTS, 1, 4):
            exp.append("- " + a.format(n=g.r.randint(3, 60), topic=g.fake.bs(), money=g.money(10000, 900000)))
    sections.append(exp)
    edu = [g.heading(g.pick(["Education", "Education and Qualifications", "Academic Background", "Qualifications"]))]
    for _ in range(g.r.randint(1, 2)):
        edu.append(f"{g.pick(_DEGREES)}, {g.fake.city()} {g.pick(['University', 'College', 'Institute of Technology'])}"
                   f", {g.r.randint(1995, 2023)}")
    sections.append(edu)
    skills = g.some(_SKILLS, 4, 10)
    sections.append([g.heading(g.pick(["Skills", "Key Skills", "Technical Skills", "Core Competencies"])),
                     ", ".join(skills) if g.chance(0.5) else "\n".join(f"- {s}" for s in skills)])
    if g.chance(0.5):
        sections.append([g.heading(g.pick(["Interests", "Hobbies", "Languages", "Certifications", "References"])),
                         g.pick(["Running, chess and volunteering at the local food bank.",
                                 "English (native), French (B2).", "References available on request.",
                                 "PRINCE2 Practitioner; First Aid at Work.", "Photography, hiking, cooking."])])
    body = sections[:1] + g.r.sample(sections[1:3], 2) + sections[3:]
    for section in body:
        lines += [*section, ""]
    return "\n".join(lines)


_RESPONSIBILITIES = [
    "Develop and maintain {topic} solutions.", "Manage relationships with key clients and partners.",
    "Prepare reports for senior management.", "Lead a small team and set priorities.",
    "Work closely with product, design and engineering.", "Ensure compliance with health and safety regulations.",
    "Handle incoming calls and customer enquiries.", "Plan and deliver training sessions.",
    "Monitor budgets and forecast spending.", "Identify new business opportunities.",
    "Maintain accurate records in our CRM.", "Support the month-end close.",
    "Carry out routine maintenance and repairs.", "Care for patients and administer medication.",
]
_BENEFITS = [
    "Competitive salary", "25 days annual leave plus bank holidays", "Hybrid working (2 days in the office)",
    "Private health insurance", "Pension scheme with employer contribution", "Annual learning budget",
    "Share options", "Free parking", "Flexible hours", "Company laptop and phone", "Cycle to work scheme",
    "Paid parental leave", "401(k) matching", "Dental and vision coverage",
]


def job_description(g: Gen) -> str:
    job, company = g.fake.job(), g.company()
    lines = [g.heading(g.pick([job, f"Job Description: {job}", f"We're hiring: {job}", f"Vacancy - {job}",
                               f"{job} ({g.pick(['m/f/d', 'Full-time', 'Part-time', 'Contract', 'Remote'])})"])),
             f"{g.pick(['Location', 'Based in', 'Office'])}: {g.fake.city()}"
             + g.pick(["", " (hybrid)", " / Remote", " (on-site)"]),
             f"{g.pick(['Salary', 'Compensation', 'Pay'])}: {g.money(20000, 140000)}"
             + g.pick([" per year", " - negotiable", " + bonus", " DOE", ""]),
             f"{g.pick(['Employment type', 'Contract', 'Hours'])}: "
             + g.pick(["Full-time, permanent", "Part-time (20 hours)", "Fixed-term, 12 months", "Full-time"]), ""]
    lines += [g.heading(g.pick(["About us", "About the company", "Who we are", f"About {company}"])),
              f"{company} {g.pick(['is a leading provider of', 'builds', 'specialises in', 'has been delivering'])} "
              f"{g.fake.bs()}. {g.en.paragraph(nb_sentences=2)}", ""]
    lines += [g.heading(g.pick(["The role", "Role overview", "About the role", "Job purpose"])),
              g.pick([f"We are looking for a {job.lower()} to join our growing team.",
                      f"As our new {job.lower()} you will report to the Head of {g.en.word().title()}.",
                      f"We are seeking an experienced {job.lower()} to help us scale."]), ""]
    lines.append(g.heading(g.pick(["Responsibilities", "Key responsibilities", "What you'll do",
                                   "Duties", "Main duties"])))
    lines += ["- " + r.format(topic=g.fake.bs()) for r in g.some(_RESPONSIBILITIES, 3, 7)]
    lines += ["", g.heading(g.pick(["Requirements", "What we're looking for", "Qualifications",
                                    "Essential skills", "About you", "Person specification"]))]
    lines += [f"- {g.pick(['Proven experience with', 'Knowledge of', 'Strong skills in', 'Familiarity with'])} {s}"
              for s in g.some(_SKILLS, 2, 5)]
    lines.append(f"- {g.r.randint(1, 8)}+ years of experience in a similar role")
    if g.chance(0.6):
        lines += ["", g.heading(g.pick(["Nice to have", "Desirable", "Preferred qualifications", "Bonus points"]))]
        lines += [f"- {s}" for s in g.some(_SKILLS, 1, 3)]
    if g.chance(0.8):
        lines += ["", g.heading(g.pick(["Benefits", "What we offer", "Perks", "Why join us"]))]
        lines += [f"- {b}" for b in g.some(_BENEFITS, 2, 6)]
    lines += ["", g.pick([f"To apply, send your CV and a cover letter to {g.fake.email()} by {g.date()}.",
                          "Click 'Apply now' to submit your application.",
                          f"Closing date: {g.date()}. Interviews will be held the following week.",
                          f"{company} is an equal opportunity employer and welcomes applications from all backgrounds."])]
    return "\n".join(lines)
