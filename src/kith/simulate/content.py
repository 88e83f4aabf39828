"""What the demo's people write: threads, questions with their answers, and facts, per kind
of community. Plain data, no randomness; :mod:`kith.simulate.demo` picks and times it.

Everything here is invented for a fictional software company ("Kith-Demo") and its
fictional customers and competitors; no line comes from real mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    accepted: bool = False  # the asker accepts it as the answer
    correction: bool = False  # it corrects the thread's first post


@dataclass(frozen=True, slots=True)
class Thread:
    title: str
    body: str
    question: bool = False
    urgent: bool = False
    replies: tuple[Reply, ...] = ()


@dataclass(frozen=True, slots=True)
class FactCard:
    title: str
    body: str
    source_url: str
    review_in_days: int  # from the demo's "today"; negative: overdue
    # A later edit that changes it (a correction for everyone who saw the first version).
    revision: str = ""


@dataclass(frozen=True, slots=True)
class Material:
    threads: tuple[Thread, ...]
    facts: tuple[FactCard, ...] = ()
    # Questions the live simulation asks and answers, (question, answer).
    live: tuple[tuple[str, str], ...] = field(default=())


CUSTOMER_FACING = Material(
    threads=(
        Thread(
            "Northwind is bundling SSO into their Standard tier",
            "Heard from two prospects in Germany this week: **Northwind** now includes SAML SSO in "
            "Standard, not just Enterprise. Both asked whether we would match. Anyone seeing this "
            "elsewhere?",
            replies=(
                Reply("Same in Singapore: Tan & Partners raised it on Tuesday's call."),
                Reply(
                    "Confirmed on their pricing page since Monday. Product is looking at it; for now "
                    "position our audit log and SCIM, which they still charge for."
                ),
                Reply("Seen it in São Paulo too. Thanks for the talking points."),
            ),
        ),
        Thread(
            "Does the EU data-residency option cover backups?",
            "Helios Bank (Frankfurt) asks whether backups stay in the EU region when they choose EU "
            "residency. Their DPO needs a written answer by Friday.",
            question=True,
            replies=(
                Reply("I believe backups are replicated to a second EU region, but let me check."),
                Reply(
                    "Yes: primary data and all backups stay in eu-central and eu-west. The "
                    "[residency sheet](https://docs.kith-demo.example/residency) has the wording the "
                    "DPO will want; section 3.",
                    accepted=True,
                ),
            ),
        ),
        Thread(
            "Renewal discount ceiling for multi-year deals?",
            "What is the most we can offer on a three-year renewal without deal-desk approval?",
            question=True,
            replies=(
                Reply("12 % on three years, 8 % on two; above that it goes to the deal desk.", accepted=True),
            ),
        ),
        Thread(
            "Client asked for a SOC 2 bridge letter",
            "Where do we keep the latest SOC 2 bridge letter? Aurora Retail needs it for their "
            "vendor review.",
            question=True,
            replies=(
                Reply(
                    "Trust portal, under Reports. If they have no access yet, request it for them "
                    "from the security team; it takes a day.",
                    accepted=True,
                ),
                Reply("Thanks, sent them the portal invitation."),
            ),
        ),
        Thread(
            "Tip: the new usage dashboard wins renewals",
            "Showed a hesitant customer their own usage trend in the new dashboard: adoption up 40 % "
            "since onboarding. They signed the renewal on the call. Worth opening every QBR with it.",
            replies=(
                Reply("Love this. Adding it to the QBR template."),
                Reply("Tried it in Tokyo today, same effect."),
            ),
        ),
        Thread(
            "Price list for 2026 is out: list prices up 4 %",
            "The 2026 price list is published: list prices up 4 % from 1 March. Existing contracts "
            "keep their price until renewal.",
            urgent=True,
            replies=(
                Reply(
                    "Correction: the increase is **5 %**, not 4 %, and it applies from 1 April. "
                    "Existing contracts keep their price until renewal, as said.",
                    correction=True,
                ),
            ),
        ),
        Thread(
            "Anyone supported a customer on Azure Government?",
            "A US public-sector prospect runs on Azure Government. Have we deployed there before, and "
            "who should I talk to?",
            question=True,
            replies=(
                Reply("Not that I know of in my region."),
                Reply(
                    "We did one pilot last year with Professional Services: talk to the PS lead in New "
                    "York, they have the runbook.",
                    accepted=True,
                ),
            ),
        ),
        Thread(
            "Client feedback: exports are too slow on large workspaces",
            "Three enterprise customers this month say CSV exports over 1M rows take more than ten "
            "minutes. Logged as feedback; sharing so you can set expectations.",
            replies=(Reply("Product says streaming exports ship next quarter."),),
        ),
        Thread(
            "How do we answer 'do you train AI on our data'?",
            "A procurement questionnaire asks whether we use customer data to train models. What is "
            "the approved answer?",
            question=True,
        ),
    ),
    facts=(
        FactCard(
            "Discount ceilings without deal-desk approval",
            "- One year: **5 %**\n- Two years: **8 %**\n- Three years: **12 %**\n\nAbove these, open a "
            "deal-desk request.",
            "https://wiki.kith-demo.example/sales/discounts",
            75,
        ),
        FactCard(
            "EU data residency: what stays in the EU",
            "Primary data, backups and logs stay in eu-central and eu-west. Support staff outside the "
            "EU access data only with the customer's approval.",
            "https://docs.kith-demo.example/residency",
            40,
        ),
        FactCard(
            "2026 price increase",
            "List prices rise **4 %** from 1 March 2026. Existing contracts keep their price until renewal.",
            "https://wiki.kith-demo.example/sales/pricing-2026",
            120,
            revision="List prices rise **5 %** from 1 April 2026. Existing contracts keep their price "
            "until renewal.",
        ),
        FactCard(
            "Competitor: Northwind tiers",
            "Standard now includes SAML SSO; audit log and SCIM remain Enterprise-only.",
            "https://intel.kith-demo.example/northwind",
            -6,
        ),
        FactCard(
            "Security documents and where to find them",
            "SOC 2 Type II report, bridge letter, pen-test summary: trust portal, Reports. Access is "
            "granted per customer by the security team within one working day.",
            "https://trust.kith-demo.example",
            30,
        ),
    ),
    live=(
        (
            "Does the Standard tier include the audit log?",
            "No: audit log is Enterprise only. Standard has 30 days of activity history.",
        ),
        (
            "Who owns the partnership with Globex in APAC?",
            "The Singapore partner manager; the partner page lists the contacts.",
        ),
        (
            "Can a customer pay by invoice in Brazil?",
            "Yes, with a local entity invoice in BRL; Finance sets it up, allow a week.",
        ),
        (
            "Is there a sandbox for trials longer than 30 days?",
            "Yes, extended trials up to 60 days with the trial-extension form.",
        ),
        (
            "What uptime do we commit to on Enterprise?",
            "99.9 % monthly, with service credits above that; see the SLA page.",
        ),
        (
            "Any customer references in retail for Japan?",
            "Two: ask marketing for the Aurora Retail case study, Japanese version.",
        ),
    ),
)

PRACTICE = Material(
    threads=(
        Thread(
            "Which load-testing tool are teams using now?",
            "We are choosing a load-testing tool for the next release. What do other teams use, and "
            "would you pick it again?",
            question=True,
            replies=(
                Reply("k6 in two teams here; scripts in JS, easy in CI."),
                Reply("Locust for us, since the team writes Python. Both fine.", accepted=True),
            ),
        ),
        Thread(
            "Write-up: what we learned from the March incident",
            "Our post-incident review is done. The short version: alerts fired, but the on-call "
            "runbook pointed at a dashboard that no longer existed. Runbooks now get a review date.",
            replies=(Reply("Good call on the review dates. We will copy that."),),
        ),
        Thread(
            "Style guide: American or British spelling in the product?",
            "Copy in the product mixes both. Which one is the rule?",
            question=True,
            replies=(Reply("American English in the product, British in internal docs.", accepted=True),),
        ),
        Thread(
            "Brown-bag next Thursday: feature flags at scale",
            "Short talk plus Q&A, recorded for the other time zones.",
        ),
    ),
    facts=(
        FactCard(
            "On-call handover checklist",
            "1. Open incidents and their owners\n2. Alerts silenced, and until when\n3. Deploys in flight",
            "https://wiki.kith-demo.example/oncall",
            20,
        ),
        FactCard(
            "Supported browsers",
            "The last two versions of Chrome, Edge, Firefox and Safari.",
            "https://docs.kith-demo.example/browsers",
            -3,
        ),
    ),
    live=(
        ("Is the staging database refreshed nightly?", "Yes, at 02:00 UTC from an anonymised copy."),
        ("Who approves a new third-party library?", "The architecture group; open a short request."),
    ),
)

PROJECT = Material(
    threads=(
        Thread(
            "Milestone 2 is at risk: vendor API delayed",
            "The vendor moved their API release by two weeks. Options: mock it and carry on, or move "
            "the milestone. Views by Wednesday please.",
            question=True,
            replies=(
                Reply("Mock it; we did the same last year and lost only two days at integration."),
                Reply("Agreed, mock it. I will update the plan.", accepted=True),
            ),
        ),
        Thread(
            "Decision log is now in the project space",
            "From today decisions go into facts here, each with an owner and a review date.",
        ),
        Thread(
            "Who can review the data-migration script?",
            "Needs someone who knows the billing schema.",
            question=True,
            replies=(Reply("I can take it tomorrow morning my time.", accepted=True),),
        ),
    ),
    facts=(
        FactCard(
            "Go-live date",
            "Planned go-live: **second Monday of next quarter**, subject to the vendor API.",
            "https://wiki.kith-demo.example/projects/go-live",
            14,
        ),
    ),
    live=(("Is the demo environment up today?", "Yes, redeployed this morning with last night's build."),),
)

SOCIAL = Material(
    threads=(
        Thread(
            "Running club: Sunday 10k, anyone?",
            "Meeting at the usual place at 08:00. All paces welcome.",
            replies=(Reply("In!"), Reply("Joining for the first 5k.")),
        ),
        Thread(
            "Book recommendations for the long flight?",
            "Twelve hours to Sydney next week. Fiction preferred.",
            question=True,
            replies=(Reply("Anything by Ursula K. Le Guin.", accepted=True),),
        ),
    ),
    live=(("Lunch walk at 12:30 today?", "Yes, meet at reception."),),
)

LEADERSHIP = Material(
    threads=(
        Thread(
            "Q3 priorities: draft for comment",
            "Draft priorities are in the doc. Comments by Friday, please; we finalise on Monday.",
            replies=(Reply("Added comments on hiring plan."),),
        ),
        Thread(
            "Board meeting prep: who presents the customer metrics?",
            "We need one owner for the customer-health section.",
            question=True,
            replies=(Reply("Customer Success will, with Sales supporting.", accepted=True),),
        ),
    ),
    live=(("Is the all-hands still on Thursday?", "Yes, 15:00 UTC, recorded."),),
)

BY_KIND = {
    "customer-facing": CUSTOMER_FACING,
    "practice": PRACTICE,
    "project": PROJECT,
    "social": SOCIAL,
    "leadership": LEADERSHIP,
}


def material_for(kind: str) -> Material:
    """The material for a community of ``kind`` (practice material for unknown kinds)."""
    return BY_KIND.get(kind, PRACTICE)
