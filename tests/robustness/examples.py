"""Hand-written dialogues: every example of the issue, changes of mind at each question, answers that
belong to another question, questions about the question, status questions, multi-answer first
messages and the ways out of the terminal chat. Each expectation says what a careful reader of the
question would expect, not what the bot does today."""

from __future__ import annotations

from tests.robustness.corpus import ALEX, AVA, BUSY, CHAT_CHANNELS, INES, SAM, Dialogue, Expect, click, say
from tests.robustness.examples_issue import START, dialogue_of, issue_dialogues
from tests.robustness.examples_repairs import elsewhere_dialogues, repair_dialogues


def _first_messages() -> list[Dialogue]:
    cases = [
        (
            "golden_multi",
            AVA,
            "en",
            "sign me in as supervisor and agent on extension 1001, team Billing",
            Expect(
                step="auto_login",
                answers={
                    "role": "supervisor_agent",
                    "call_preference": "extension",
                    "extension": "1001",
                    "team_id": "t-billing",
                },
            ),
        ),
        (
            "both_dial_number_escalations",
            AVA,
            "en",
            "log me in as both with dial number +1 212 555 0102 in billing escalations",
            Expect(
                step="auto_login",
                answers={
                    "role": "supervisor_agent",
                    "call_preference": "dial_number",
                    "dial_number": "+12125550102",
                    "team_id": "t-billing-escalations",
                },
            ),
        ),
        (
            "superviseur_navigateur_ne_plus_afficher",
            AVA,
            "fr",
            "connecte-moi en tant que superviseur avec le navigateur et ne plus afficher",
            Expect(
                step="confirm",
                kind="summary",
                answers={"role": "supervisor", "call_preference": "desktop", "auto_login": True},
            ),
        ),
        (
            "les_deux_poste_billing",
            AVA,
            "fr",
            "connecte-moi comme superviseur et agent sur le poste 1002 dans l'équipe Billing",
            Expect(
                step="auto_login",
                answers={
                    "role": "supervisor_agent",
                    "call_preference": "extension",
                    "extension": "1002",
                    "team_id": "t-billing",
                },
            ),
        ),
        (
            "ines_navigateur_support",
            INES,
            "fr",
            "connecte-moi avec le navigateur dans l'équipe support",
            Expect(step="auto_login", answers={"call_preference": "desktop", "team_id": "t-support-france"}),
        ),
        (
            "sam_desktop_ask_each_time",
            SAM,
            "en",
            "sign me in with desktop and ask me each time",
            Expect(
                step="confirm", kind="summary", answers={"call_preference": "desktop", "auto_login": False}
            ),
        ),
        (
            "alex_extension_customer_care",
            ALEX,
            "en",
            "sign me in with my extension on customer care, don't show again",
            Expect(
                step="confirm",
                kind="summary",
                answers={
                    "call_preference": "extension",
                    "extension": "2001",
                    "team_id": "t-customer-care",
                    "auto_login": True,
                },
            ),
        ),
        (
            "sam_telephone_chaque_fois",
            SAM,
            "fr",
            "connecte-moi avec mon téléphone, demande-moi à chaque fois",
            Expect(
                step="confirm",
                kind="summary",
                answers={
                    "call_preference": "dial_number",
                    "dial_number": "+14155550110",
                    "auto_login": False,
                },
            ),
        ),
        (
            "ines_numero_francais",
            INES,
            "fr",
            "connecte-moi sur le 06 12 34 56 78 avec l'équipe sales",
            Expect(  # a national number: its country code is asked, the rest is kept
                step="country_code",
                answers={
                    "call_preference": "dial_number",
                    "pending_national": "0612345678",
                    "team_id": "t-sales-emea",
                },
            ),
        ),
        (
            "ava_desktop_vip",
            AVA,
            "en",
            "log me in as supervisor and agent using the browser, VIP team",
            Expect(
                step="auto_login",
                answers={"role": "supervisor_agent", "call_preference": "desktop", "team_id": "t-vip"},
            ),
        ),
    ]
    return [dialogue_of(n, u, lang, (say(text),), e, "start", "first") for n, u, lang, text, e in cases]


def _status() -> list[Dialogue]:
    cases = [
        ("busy_am_i_signed_in", BUSY, "en", (say("am I signed in?"),), ("Customer Care",)),
        ("busy_suis_je_connecte", BUSY, "fr", (say("est-ce que je suis connecté ?"),), ("Customer Care",)),
        ("ava_not_signed_in", AVA, "en", (say("am I signed in?"),), ()),
        ("ava_pas_connectee", AVA, "fr", (say("suis-je connectée ?"),), ()),
        (
            "sam_status_after_sign_in",
            SAM,
            "en",
            (
                START["en"],
                click("call:desktop"),
                click("auto:no"),
                click("confirm:yes"),
                say("what's my status?"),
            ),
            (),
        ),
        (
            "ines_mon_statut",
            INES,
            "fr",
            (
                START["fr"],
                click("call:desktop"),
                click("team:t-sales-emea"),
                click("auto:no"),
                click("confirm:yes"),
                say("quel est mon statut ?"),
            ),
            ("Sales EMEA",),
        ),
    ]
    return [
        dialogue_of(
            n, u, lang, turns, Expect(step=None, kind="info", mentions=m), "status", "status", CHAT_CHANNELS
        )
        for n, u, lang, turns, m in cases
    ]


def examples() -> list[Dialogue]:
    return [*issue_dialogues(), *repair_dialogues(), *elsewhere_dialogues(), *_first_messages(), *_status()]
