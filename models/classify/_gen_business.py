"""Generated invoices, contracts and letters/emails (templates with varied wording)."""

from __future__ import annotations

from models.classify._gen_common import Gen

__all__ = ["contract", "invoice", "letter"]

_ITEMS = [
    "Consulting services", "Website maintenance", "Office chairs", "Laptop stand", "Annual software licence",
    "Cloud hosting (monthly)", "Graphic design hours", "Catering for 40 guests", "Printer toner cartridges",
    "Legal advice", "Translation of 12 pages", "Freight and handling", "Plumbing repair", "Photography session",
    "Training workshop", "Server rack installation", "Copywriting", "Security audit", "Event venue hire",
    "Replacement parts", "Cleaning services", "Data migration", "Support retainer", "Custom brackets",
    "Steel bolts M8 (box of 500)", "Organic coffee beans 1kg", "Tax return preparation", "Van rental (3 days)",
]


def invoice(g: Gen) -> str:
    seller, buyer = g.company(), g.company()
    number = g.pick(["INV-", "Invoice #", "No. ", "F", "INV/2024/", "BILL-"]) + str(g.r.randint(100, 99999))
    title = g.pick(["INVOICE", "Invoice", "Tax Invoice", "Commercial Invoice", "VAT Invoice", "Sales Invoice",
                    "Final invoice", "Invoice for services"])
    lines = [g.heading(title), f"{seller}", g.address()]
    if g.chance(0.6):
        lines.append(g.pick(["VAT No: GB", "Tax ID: ", "ABN ", "EIN ", "VAT reg. "]) + str(g.r.randint(10**6, 10**9)))
    lines += ["", f"{g.pick(['Invoice number', 'Invoice No.', 'Invoice #', 'Reference'])}: {number}",
              f"{g.pick(['Invoice date', 'Date of issue', 'Date', 'Issued'])}: {g.date()}",
              f"{g.pick(['Due date', 'Payment due', 'Due by', 'Pay by'])}: {g.date()}", "",
              f"{g.pick(['Bill to', 'Billed to', 'Customer', 'Invoice to', 'Client', 'Sold to'])}: {buyer}",
              g.address(), ""]
    items = g.some(_ITEMS, 1, 7)
    header = g.pick([["Description", "Qty", "Unit price", "Amount"], ["Item", "Quantity", "Rate", "Total"],
                     ["Service", "Hours", "Rate", "Line total"], ["Product", "Qty", "Price", "Subtotal"]])
    lines.append("| " + " | ".join(header) + " |")
    total = 0.0
    for item in items:
        qty, unit = g.r.randint(1, 40), g.r.uniform(5, 900)
        total += qty * unit
        lines.append(f"| {item} | {qty} | {unit:,.2f} | {qty * unit:,.2f} |")
    tax = total * g.pick([0.0, 0.05, 0.07, 0.1, 0.2, 0.21])
    lines += ["", f"Subtotal: {total:,.2f}", f"{g.pick(['VAT', 'Tax', 'Sales tax', 'GST'])}: {tax:,.2f}",
              f"{g.pick(['Total due', 'Amount due', 'Balance due', 'Total', 'TOTAL PAYABLE'])}: {total + tax:,.2f}",
              ""]
    terms = [
        f"Payment terms: {g.pick(['Net 30', 'Net 14', 'due on receipt', '30 days end of month', 'Net 60'])}.",
        f"Please pay by bank transfer to IBAN {g.fake.iban()} quoting {number}.",
        f"Bank: {g.company()} Bank, account {g.r.randint(10**7, 10**8)}, sort code {g.r.randint(10, 99)}-"
        f"{g.r.randint(10, 99)}-{g.r.randint(10, 99)}.",
        "Late payments incur interest of 1.5% per month.", "Thank you for your business!",
        "Please include the invoice number with your remittance.", "Cheques payable to " + seller + ".",
        f"Questions about this invoice? Contact {g.fake.email()}.", "We appreciate your prompt payment.",
        f"PO number: PO-{g.r.randint(1000, 9999)}.", "Goods remain our property until paid in full.",
    ]
    lines += g.some(terms, 2, 5)
    return "\n".join(lines)


_CONTRACT_KINDS = [
    ("SERVICE AGREEMENT", "Service Provider", "Client", "the services described in Schedule A"),
    ("EMPLOYMENT CONTRACT", "Employer", "Employee", "the position of {job}"),
    ("NON-DISCLOSURE AGREEMENT", "Disclosing Party", "Receiving Party", "the evaluation of a possible business relationship"),
    ("LEASE AGREEMENT", "Landlord", "Tenant", "the premises at {addr}"),
    ("CONSULTING AGREEMENT", "Consultant", "Company", "advisory services on {topic}"),
    ("SOFTWARE LICENSE AGREEMENT", "Licensor", "Licensee", "the use of the Software"),
    ("SUPPLY AGREEMENT", "Supplier", "Buyer", "the supply of {topic} products"),
    ("MASTER SERVICES AGREEMENT", "Vendor", "Customer", "professional services under statements of work"),
    ("FREELANCE CONTRACT", "Contractor", "Client", "design and development work"),
    ("LOAN AGREEMENT", "Lender", "Borrower", "a loan of {money}"),
]
_CLAUSES = [
    ("Term", "This Agreement commences on the Effective Date and continues for {n} months unless terminated earlier in accordance with its terms."),
    ("Payment", "The {b} shall pay the {a} the fees set out in Schedule B within {d} days of receipt of a valid invoice."),
    ("Confidentiality", "Each party shall keep confidential all information disclosed by the other party and shall not disclose it to any third party without prior written consent."),
    ("Termination", "Either party may terminate this Agreement by giving {d} days' written notice to the other party. Either party may terminate immediately if the other party commits a material breach."),
    ("Governing Law", "This Agreement shall be governed by and construed in accordance with the laws of {place}, and the parties submit to the exclusive jurisdiction of its courts."),
    ("Limitation of Liability", "Neither party shall be liable for any indirect, incidental or consequential damages. The total liability of the {a} shall not exceed the fees paid in the twelve months preceding the claim."),
    ("Indemnification", "The {b} shall indemnify and hold harmless the {a} from and against all claims, losses and expenses arising from the {b}'s breach of this Agreement."),
    ("Intellectual Property", "All intellectual property rights in the deliverables shall vest in the {b} upon full payment, save for pre-existing materials of the {a}."),
    ("Force Majeure", "Neither party shall be in breach of this Agreement if performance is prevented by events beyond its reasonable control."),
    ("Entire Agreement", "This Agreement constitutes the entire agreement between the parties and supersedes all prior negotiations, representations and understandings."),
    ("Assignment", "Neither party may assign or transfer its rights or obligations under this Agreement without the prior written consent of the other party."),
    ("Notices", "Any notice under this Agreement shall be in writing and delivered by hand, registered post or email to the addresses set out above."),
    ("Warranties", "The {a} warrants that it will perform its obligations with reasonable skill and care and in accordance with good industry practice."),
    ("Severability", "If any provision of this Agreement is held invalid or unenforceable, the remaining provisions shall remain in full force and effect."),
    ("Non-Solicitation", "During the term and for twelve months thereafter, neither party shall solicit the employees of the other party."),
    ("Rent and Deposit", "The {b} shall pay a monthly rent of {money} in advance and a security deposit equal to two months' rent."),
    ("Working Hours", "The normal working hours are 37.5 hours per week, Monday to Friday. The probationary period is six months."),
    ("Remuneration", "The {b} shall receive an annual gross salary of {money}, payable monthly in arrears, subject to statutory deductions."),
    ("Amendments", "No amendment to this Agreement is effective unless made in writing and signed by authorised representatives of both parties."),
]


def contract(g: Gen) -> str:
    title, a, b, subject = g.pick(_CONTRACT_KINDS)
    fill = {"job": g.fake.job(), "addr": g.address(), "topic": g.fake.bs(), "money": g.money(1000, 90000)}
    subject = subject.format(**fill)
    party_a, party_b = g.company(), g.pick([g.company(), g.person()])
    lines = [g.heading(g.pick([title, title.title(), title.title() + " (the \"Agreement\")"])),
             f"This {title.title()} is made and entered into {g.pick(['on', 'as of', 'with effect from'])} "
             f"{g.date()} (the \"Effective Date\") by and between:",
             f"{party_a}, {g.pick(['a company incorporated in', 'registered in', 'having its principal office in'])} "
             f"{g.fake.country()} (the \"{a}\"); and",
             f"{party_b}, of {g.address()} (the \"{b}\").", ""]
    if g.chance(0.7):
        lines += [g.heading("Recitals"),
                  f"WHEREAS the {b} wishes to engage the {a} for {subject}; and WHEREAS the {a} is willing to "
                  "do so on the terms set out below;",
                  "NOW, THEREFORE, in consideration of the mutual covenants herein, the parties agree as follows:", ""]
    clauses = g.some(_CLAUSES, 4, 9)
    for n, (name, text) in enumerate(clauses, start=1):
        body = text.format(a=a, b=b, n=g.r.randint(3, 36), d=g.pick([14, 30, 45, 60, 90]),
                           place=g.pick(["England and Wales", "the State of New York", "Ireland", "Ontario",
                                         "New South Wales", "Delaware", "Scotland"]), money=fill["money"])
        style = g.r.random()
        if style < 0.4:
            lines += [g.heading(f"{n}. {name}"), f"{n}.1 {body}", ""]
        elif style < 0.7:
            lines += [f"{n}. {name.upper()}. {body}", ""]
        else:
            lines += [f"Article {n} - {name}", body, ""]
    lines += [g.pick(["IN WITNESS WHEREOF, the parties have executed this Agreement as of the Effective Date.",
                      "Signed by the parties on the date first written above.",
                      "AGREED AND ACCEPTED by the duly authorised representatives of the parties:"]),
              f"For the {a}: ____________________  Name: {g.person()}  Title: {g.fake.job()}  Date: ________",
              f"For the {b}: ____________________  Name: {g.person()}  Date: ________"]
    return "\n".join(lines)


_PURPOSES = [
    ("I am writing to confirm our meeting on {date} to discuss the {topic} project.",
     ["Please let me know if the proposed time still suits you.", "I have attached the agenda for your review.",
      "Our team will bring the latest figures and a short demo."]),
    ("I am writing to apply for the position of {job} advertised on your website.",
     ["I believe my background makes me a strong fit for your team.", "I have enclosed my CV for your consideration.",
      "I would welcome the opportunity to discuss my application in an interview."]),
    ("Thank you for your letter of {date} regarding the late delivery of our order.",
     ["We appreciate your apology and the proposed discount.", "We would like the remaining goods delivered by the end of the month."]),
    ("I am writing to complain about the service I received at your branch on {date}.",
     ["I would appreciate a full refund of the charges.", "I look forward to your prompt reply."]),
    ("We are pleased to offer you the position of {job} at {company}.",
     ["Your start date will be {date}.", "Please sign and return a copy of this letter to confirm your acceptance.",
      "Your manager will contact you with details of your first week."]),
    ("Following our phone call yesterday, I am sending the documents you requested.",
     ["Let me know if anything is missing.", "I can also send the originals by post if needed."]),
    ("I would like to give notice of my resignation from my role as {job}, effective {date}.",
     ["Thank you for the opportunities you have given me.", "I will do everything I can to ensure a smooth handover."]),
    ("Just a quick note to let you know the {topic} release is delayed by a week.",
     ["QA found two blocking bugs.", "I'll send an update on Friday.", "Sorry for the short notice."]),
    ("We regret to inform you that your application for {job} was not successful on this occasion.",
     ["We received a large number of strong applications.", "We will keep your details on file for future vacancies."]),
    ("This letter is to confirm that {person} has been employed by {company} since {date}.",
     ["Please do not hesitate to contact me if you need further information."]),
    ("Your account shows an outstanding balance, and we kindly ask you to settle it within 14 days.",
     ["If you have already paid, please disregard this letter.", "Contact our accounts team if you wish to agree a payment plan."]),
    ("It was great catching up at the conference last week!",
     ["I've shared the slides we talked about.", "Would you be free for a call next Tuesday?", "Say hi to the team."]),
]


def letter(g: Gen) -> str:
    sender, recipient, company = g.person(), g.person(), g.company()
    opening, follow = g.pick(_PURPOSES)
    fill = {"date": g.date(), "topic": g.fake.bs(), "job": g.fake.job(), "company": company, "person": g.person()}
    body = [opening.format(**fill)] + [s.format(**fill) for s in g.some(follow, 1, len(follow))]
    extra = [g.en.paragraph(nb_sentences=g.r.randint(2, 4))] if g.chance(0.5) else []
    if g.chance(0.45):  # an email
        lines = [f"From: {sender} <{g.fake.email()}>", f"To: {recipient} <{g.fake.email()}>",
                 f"{g.pick(['Date', 'Sent'])}: {g.date()}",
                 f"Subject: {g.pick(['Re: ', 'Fwd: ', '', ''])}{g.fake.catch_phrase()}", "",
                 f"{g.pick(['Hi', 'Hello', 'Dear', 'Hey'])} {recipient.split()[0]},", "", " ".join(body), *extra, "",
                 g.pick(["Best,", "Thanks,", "Cheers,", "Kind regards,", "Best regards,"]), sender.split()[0]]
        if g.chance(0.4):
            lines += ["", f"{g.fake.job()} | {company} | {g.fake.phone_number()}"]
    else:
        lines = [sender, g.address(), "", g.date(), "", recipient, company, g.address(), "",
                 g.pick([f"Dear {recipient},", "Dear Sir or Madam,", "To whom it may concern,",
                         f"Dear Ms {recipient.split()[-1]},", f"Dear Mr {recipient.split()[-1]},"]), "",
                 " ".join(body), *extra, "",
                 g.pick(["Yours sincerely,", "Yours faithfully,", "Sincerely,", "Kind regards,", "Respectfully,"]),
                 "", sender]
        if g.chance(0.3):
            lines.append(g.pick(["Enclosure: CV", "Encl.", "cc: Human Resources"]))
    return "\n".join(lines)
