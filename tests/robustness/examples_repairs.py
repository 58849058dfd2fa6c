"""Changes of mind at each question, answers that belong to another question, and questions about the
question: the field changes where it should, and nothing is ever taken for the question asked."""

from __future__ import annotations

from dataclasses import replace

from tests.robustness.corpus import ALEX, AVA, INES, SAM, Dialogue, Expect, click, say
from tests.robustness.examples_issue import (
    AVA_AUTO,
    AVA_CALL,
    AVA_CONFIRM,
    AVA_TEAM,
    START,
    ava_path,
    dialogue_of,
)


def repair_dialogues() -> list[Dialogue]:
    """A change of mind at each question: the field changes and the flow goes on from there."""
    cases = [
        (
            "extension_instead_at_team",
            AVA,
            "en",
            ava_path("en", *AVA_TEAM),
            "actually, use the extension instead",
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "team",
        ),
        (
            "changer_d_equipe",
            AVA,
            "fr",
            ava_path("fr", *AVA_AUTO),
            "changer d'équipe",
            Expect(step="team", kind="prompt"),
            "auto_login",
        ),
        (
            "finalement_sales",
            INES,
            "fr",
            (START["fr"], click("call:desktop"), click("team:t-support-france")),
            "finalement l'équipe sales",
            Expect(step="auto_login", answers={"team_id": "t-sales-emea"}, kind="prompt"),
            "auto_login",
        ),
        (
            "phone_instead_at_auto_login",
            SAM,
            "en",
            (START["en"], click("call:desktop")),
            "actually I'd rather use my phone",
            Expect(
                step="auto_login",
                answers={"call_preference": "dial_number", "dial_number": "+14155550110"},
                kind="prompt",
            ),
            "auto_login",
        ),
        (
            "other_team_at_confirm",
            AVA,
            "en",
            ava_path("en", *AVA_CONFIRM),
            "actually make it Billing Escalations",
            Expect(step="confirm", answers={"team_id": "t-billing-escalations"}, kind="summary"),
            "confirm",
        ),
        (
            "change_the_role_at_confirm",
            AVA,
            "en",
            ava_path("en", *AVA_CONFIRM),
            "change the role",
            Expect(step="role", kind="prompt"),
            "confirm",
        ),
        (
            "extension_at_dial_number",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:dial_number"),
            "no, extension please",
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "dial_number",
        ),
        (
            "desktop_at_extension",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:extension"),
            "actually, the desktop",
            Expect(step="team", answers={"call_preference": "desktop"}, kind="prompt"),
            "extension",
        ),
        (
            "poste_1002_at_team",
            AVA,
            "fr",
            ava_path("fr", *AVA_TEAM),
            "non attends, poste 1002",
            Expect(step="team", answers={"call_preference": "extension", "extension": "1002"}, kind="prompt"),
            "team",
        ),
        (
            "only_supervisor_at_call",
            AVA,
            "en",
            ava_path("en", *AVA_CALL),
            "wait, I'm only a supervisor",
            Expect(step="call_preference", answers={"role": "supervisor"}, kind="prompt"),
            "call_preference",
        ),
        (
            "customer_care_at_auto_login",
            ALEX,
            "en",
            (START["en"], click("call:desktop"), click("team:t-tech-support")),
            "no wait, customer care",
            Expect(step="auto_login", answers={"team_id": "t-customer-care"}, kind="prompt"),
            "auto_login",
        ),
        (
            "telephone_at_confirm",
            SAM,
            "fr",
            (START["fr"], click("call:desktop"), click("auto:no")),
            "finalement avec mon téléphone",
            Expect(step="confirm", answers={"call_preference": "dial_number"}, kind="summary"),
            "confirm",
        ),
        (
            "plutot_les_deux_at_call",
            AVA,
            "fr",
            ava_path("fr", "role:supervisor"),
            "non, plutôt les deux",
            Expect(step="call_preference", answers={"role": "supervisor_agent"}, kind="prompt"),
            "call_preference",
        ),
        (
            "changer_le_numero_at_auto_login",
            INES,
            "fr",
            (START["fr"], click("call:dial_number"), click("team:t-support-france")),
            "changer le numéro",
            Expect(step="dial_number", kind="prompt"),
            "auto_login",
        ),
    ]
    return [dialogue_of(n, u, lang, (*turns, say(text)), e, q) for n, u, lang, turns, text, e, q in cases]


def elsewhere_dialogues() -> list[Dialogue]:
    """Answers that belong to another question, and questions about the question: never taken as an
    answer to the question asked."""
    other = [
        (
            "number_at_team_ava",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:dial_number", "dn:+14155550101"),
            "+1 212 555 0102",
            Expect(answers={"team_id": None}, kind="prompt"),
            "team",
        ),
        (
            "team_at_dial_number",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:dial_number"),
            "billing",
            Expect(answers={"dial_number": None}, kind="prompt"),
            "dial_number",
        ),
        (
            "team_at_extension",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:extension"),
            "billing escalations",
            Expect(answers={"extension": None}, kind="prompt"),
            "extension",
        ),
        (
            "extension_at_team",
            AVA,
            "en",
            ava_path("en", *AVA_TEAM),
            "1002",
            Expect(answers={"team_id": None}, kind="prompt"),
            "team",
        ),
        (
            "desktop_at_role",
            AVA,
            "en",
            ava_path("en"),
            "desktop",
            Expect(answers={"role": None}, kind="prompt"),
            "role",
        ),
        (
            "numero_a_l_equipe",
            AVA,
            "fr",
            ava_path("fr", *AVA_TEAM),
            "+1 212 555 0102",
            Expect(answers={"team_id": None}, kind="prompt"),
            "team",
        ),
        (
            "equipe_au_numero",
            INES,
            "fr",
            (
                START["fr"],
                click("call:dial_number"),
                click("team:t-support-france"),
                click("auto:no"),
                click("confirm:change"),
                click("change:dial_number"),
            ),
            "support france",
            # The team she already has: no change to make, and the number asked for is still asked.
            Expect(
                step="dial_number",
                answers={"team_id": "t-support-france", "dial_number": None},
                kind="prompt",
            ),
            "dial_number",
        ),
    ]
    explain = [
        (
            "what_is_a_dial_number",
            AVA,
            "en",
            ava_path("en", *AVA_CALL),
            "what is a dial number?",
            "call_preference",
        ),
        (
            "desktop_or_extension",
            AVA,
            "en",
            ava_path("en", *AVA_CALL),
            "what's the difference between desktop and extension?",
            "call_preference",
        ),
        (
            "c_est_quoi_un_numero_d_appel",
            AVA,
            "fr",
            ava_path("fr", *AVA_CALL),
            "c'est quoi un numéro d'appel ?",
            "call_preference",
        ),
        ("which_team", AVA, "en", ava_path("en", *AVA_TEAM), "which team should I pick?", "team"),
        (
            "c_est_quoi_une_equipe",
            INES,
            "fr",
            (START["fr"], click("call:desktop")),
            "c'est quoi une équipe ?",
            "team",
        ),
        (
            "what_number",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:dial_number"),
            "what number should I use?",
            "dial_number",
        ),
        (
            "supervisor_or_agent",
            AVA,
            "en",
            ava_path("en"),
            "what's the difference between supervisor and agent?",
            "role",
        ),
        (
            "superviseur_ou_agent",
            AVA,
            "fr",
            ava_path("fr"),
            "quelle est la différence entre superviseur et agent ?",
            "role",
        ),
        (
            "ca_veut_dire_quoi",
            INES,
            "fr",
            (START["fr"], click("call:desktop"), click("team:t-support-france")),
            "ça veut dire quoi ne plus afficher ?",
            "auto_login",
        ),
        (
            "what_if_i_say_yes",
            SAM,
            "en",
            (START["en"], click("call:desktop")),
            "what happens if I pick don't show again?",
            "auto_login",
        ),
        (
            "which_extension",
            AVA,
            "en",
            ava_path("en", *AVA_CALL, "call:extension"),
            "which extension is mine?",
            "extension",
        ),
        ("am_i_signed_in_mid_flow", AVA, "en", ava_path("en", *AVA_TEAM), "am I signed in?", "team"),
        (
            "status_mid_flow",
            SAM,
            "en",
            (START["en"], click("call:desktop")),
            "what's my status?",
            "auto_login",
        ),
        (
            "suis_je_connecte_mid_flow",
            INES,
            "fr",
            (START["fr"], click("call:desktop")),
            "suis-je connecté ?",
            "team",
        ),
    ]
    field = {
        "call_preference": "call_preference",
        "team": "team_id",
        "dial_number": "dial_number",
        "role": "role",
        "auto_login": "auto_login",
        "extension": "extension",
    }
    dialogues = [
        dialogue_of(n, u, lang, (*turns, say(text)), replace(e, never=("error",)), q, "elsewhere")
        for n, u, lang, turns, text, e, q in other
    ]
    dialogues += [
        dialogue_of(
            n,
            u,
            lang,
            (*turns, say(text)),
            Expect(step=q, answers={field[q]: None}, kind="prompt", never=("error",)),
            q,
            "explain",
        )
        for n, u, lang, turns, text, q in explain
    ]
    return dialogues
