"""Hand-written dialogues: every example of the issue, changes of mind at each question, answers that
belong to another question, questions about the question, status questions, multi-answer first
messages and the ways out of the terminal chat. Each expectation says what a careful reader of the
question would expect, not what the bot does today."""

from __future__ import annotations

from dataclasses import replace

from tests.robustness.corpus import (
    ALEX,
    AVA,
    BUSY,
    CHAT_CHANNELS,
    DANA,
    INES,
    SAM,
    Dialogue,
    Expect,
    Turn,
    click,
    say,
)

START = {"en": say("log me in"), "fr": say("connecte-moi")}


def _ava(lang: str, *clicks: str) -> tuple[Turn, ...]:
    return (START[lang], *(click(c) for c in clicks))


AVA_CALL = ("role:supervisor_agent",)
AVA_TEAM = (*AVA_CALL, "call:desktop")
AVA_AUTO = (*AVA_TEAM, "team:t-billing")
AVA_CONFIRM = (*AVA_AUTO, "auto:no")


def _d(
    name: str,
    user: str,
    lang: str,
    turns: tuple[Turn, ...],
    expect: Expect,
    question: str,
    origin: str = "repair",
    channels: tuple[str, ...] | None = None,
) -> Dialogue:
    return Dialogue(
        id=f"{origin}.{name}",
        user=user,
        lang=lang,
        turns=turns,
        expect=expect,
        question=question,
        origin=origin,
        channels=channels or ("terminal", "slack", "rasa"),
    )


def _issue() -> list[Dialogue]:
    """The examples of the issue's first two sections, one dialogue each."""
    sam_auto = (START["en"], click("call:desktop"))
    ines_auto = (START["fr"], click("call:desktop"), click("team:t-support-france"))
    ines_team_dn = (START["fr"], click("call:dial_number"))
    signed_in_alex = (START["en"], click("call:desktop"), click("team:t-tech-support"), click("auto:no"))
    return [
        _d(
            "dont_show_again",
            SAM,
            "en",
            (*sam_auto, say("don't show again")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "auto_login",
            "issue",
        ),
        _d(
            "ask_me_each_time",
            SAM,
            "en",
            (*sam_auto, say("ask me each time")),
            Expect(step="confirm", answers={"auto_login": False}, kind="summary"),
            "auto_login",
            "issue",
        ),
        _d(
            "ne_plus_afficher",
            INES,
            "fr",
            (*ines_auto, say("ne plus afficher")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "auto_login",
            "issue",
        ),
        _d(
            "demande_moi_a_chaque_fois",
            INES,
            "fr",
            (*ines_auto, say("demande-moi à chaque fois")),
            Expect(step="confirm", answers={"auto_login": False}, kind="summary"),
            "auto_login",
            "issue",
        ),
        _d(
            "multi_answer_first_message",
            AVA,
            "en",
            (say("sign me in as supervisor with desktop and don't show again"),),
            Expect(
                step="confirm",
                kind="summary",
                answers={"role": "supervisor", "call_preference": "desktop", "auto_login": True},
            ),
            "start",
            "issue",
        ),
        _d(
            "desktop_instead_at_team",
            AVA,
            "en",
            (
                *_ava("en", *AVA_CALL, "call:dial_number", "dn:+12125550102"),
                say("actually, use the desktop instead"),
            ),
            Expect(step="team", answers={"call_preference": "desktop", "team_id": None}, kind="prompt"),
            "team",
            "issue",
        ),
        _d(
            "number_at_team_ines",
            INES,
            "fr",
            (*ines_team_dn, say("06 12 34 56 78")),
            Expect(answers={"team_id": None}, kind="prompt", never=("error",)),
            "team",
            "issue",
        ),
        _d(
            "extention",
            AVA,
            "en",
            (*_ava("en", *AVA_CALL), say("extention")),
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        _d(
            "numero_d_appel",
            AVA,
            "fr",
            (*_ava("fr", *AVA_CALL), say("numero d appel")),
            Expect(step="dial_number", answers={"call_preference": "dial_number"}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        _d(
            "suprevisor",
            AVA,
            "en",
            (*_ava("en"), say("suprevisor")),
            Expect(step="call_preference", answers={"role": "supervisor"}, kind="prompt"),
            "role",
            "issue",
        ),
        _d(
            "whats_my_status",
            BUSY,
            "en",
            (say("what's my status?"),),
            Expect(step=None, kind="info", mentions=("Customer Care",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "am_i_signed_in_while_signed_in",
            ALEX,
            "en",
            (*signed_in_alex, click("confirm:yes"), say("am I signed in?")),
            Expect(step=None, kind="info", mentions=("Technical Support",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "suis_je_connecte",
            INES,
            "fr",
            (*ines_auto, click("auto:no"), click("confirm:yes"), say("suis-je connecté ?")),
            Expect(step=None, kind="info", mentions=("Support France",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "exit",
            AVA,
            "en",
            (*_ava("en", *AVA_CALL), say("exit"), say("1")),
            Expect(answers={"role": "supervisor_agent"}, ends_chat=True),
            "exit",
            "issue",
            ("terminal",),
        ),
        _d(
            "ines_any_number",
            INES,
            "fr",
            (
                say("connecte-moi avec le numéro +1 415 555 0123"),
                click("team:t-support-france"),
                click("auto:no"),
                click("confirm:yes"),
            ),
            Expect(step="dial_number", mentions=("+14155550123", "LOGINBOT-")),
            "start",
            "issue",
        ),
        _d(
            "dana_auto_login_back_on",
            DANA,
            "en",
            (
                START["en"],
                click("auto:no"),
                click("confirm:yes"),
                say("sign me out"),
                say("turn automatic sign-in back on"),
            ),
            Expect(step=None, kind="success", saved={"auto_login": True}),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "dana_auto_login_back_on_then_sign_in",
            DANA,
            "en",
            (
                START["en"],
                click("auto:no"),
                click("confirm:yes"),
                say("sign me out"),
                say("turn automatic sign-in back on"),
                say("log me in"),
            ),
            Expect(step=None, kind="success", saved={"auto_login": True}),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "dana_auto_login_on_at_the_summary",
            DANA,
            "en",
            (START["en"], click("auto:no"), say("turn automatic sign-in back on")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "confirm",
            "issue",
        ),
        _d(
            "dana_auto_login_on_at_the_next_summary",
            DANA,
            "en",
            (
                START["en"],
                click("auto:no"),
                click("confirm:yes"),
                say("sign me out"),
                START["en"],
                say("turn automatic sign-in back on"),
            ),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "confirm",
            "issue",
        ),
        _d(
            "dana_auto_login_on_then_save",
            DANA,
            "en",
            (START["en"], click("auto:no"), say("turn automatic sign-in back on"), click("confirm:yes")),
            Expect(step=None, kind="success", saved={"auto_login": True}),
            "confirm",
            "issue",
        ),
        _d(
            "checklist_in_line_mode",
            AVA,
            "en",
            (say("why can't I sign in?"),),
            Expect(step=None),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        _d(
            "no_empty_extension_list",
            SAM,
            "en",
            (START["en"], say("extension 1002")),
            Expect(step="call_preference", answers={"call_preference": None}),
            "call_preference",
            "issue",
        ),
        _d(
            "what_does_dont_show_again_mean",
            SAM,
            "en",
            (*sam_auto, say("what does don't show again mean?")),
            Expect(step="auto_login", answers={"auto_login": None}, kind="prompt"),
            "auto_login",
            "issue",
        ),
        _d(
            "how_do_i_log_out_of_the_desktop",
            AVA,
            "en",
            (*_ava("en", *AVA_CALL), say("how do I log out of the desktop?")),
            Expect(step="call_preference", answers={"call_preference": None}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        _d(
            "no_wait_extension_1002",
            AVA,
            "en",
            (*_ava("en", *AVA_CALL, "call:extension", "ext:1001"), say("no wait, extension 1002")),
            Expect(step="team", answers={"extension": "1002", "call_preference": "extension"}, kind="prompt"),
            "team",
            "issue",
        ),
        _d(
            "change_the_team",
            AVA,
            "en",
            (*_ava("en", *AVA_AUTO), say("change the team")),
            Expect(step="team", kind="prompt"),
            "auto_login",
            "issue",
        ),
        _d(
            "finalement_le_bureau",
            INES,
            "fr",
            (*ines_team_dn, say("finalement le bureau")),
            Expect(step="team", answers={"call_preference": "desktop", "team_id": None}, kind="prompt"),
            "team",
            "issue",
        ),
    ] + [
        _d(
            f"{word.replace(' ', '_')}_ends_the_chat",
            user,
            lang,
            (*turns, say(word), say("1")),
            Expect(answers=kept, ends_chat=True),
            "exit",
            "issue",
            ("terminal",),
        )
        for word, user, lang, turns, kept in (
            ("quit", AVA, "en", _ava("en", *AVA_CALL), {"role": "supervisor_agent"}),
            ("bye", SAM, "en", sam_auto, {"call_preference": "desktop"}),
            ("au revoir", INES, "fr", ines_auto, {"team_id": "t-support-france"}),
            ("exit", AVA, "en", (), {}),
        )
    ]


def _repairs() -> list[Dialogue]:
    """A change of mind at each question: the field changes and the flow goes on from there."""
    cases = [
        (
            "extension_instead_at_team",
            AVA,
            "en",
            _ava("en", *AVA_TEAM),
            "actually, use the extension instead",
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "team",
        ),
        (
            "changer_d_equipe",
            AVA,
            "fr",
            _ava("fr", *AVA_AUTO),
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
            _ava("en", *AVA_CONFIRM),
            "actually make it Billing Escalations",
            Expect(step="confirm", answers={"team_id": "t-billing-escalations"}, kind="summary"),
            "confirm",
        ),
        (
            "change_the_role_at_confirm",
            AVA,
            "en",
            _ava("en", *AVA_CONFIRM),
            "change the role",
            Expect(step="role", kind="prompt"),
            "confirm",
        ),
        (
            "extension_at_dial_number",
            AVA,
            "en",
            _ava("en", *AVA_CALL, "call:dial_number"),
            "no, extension please",
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "dial_number",
        ),
        (
            "desktop_at_extension",
            AVA,
            "en",
            _ava("en", *AVA_CALL, "call:extension"),
            "actually, the desktop",
            Expect(step="team", answers={"call_preference": "desktop"}, kind="prompt"),
            "extension",
        ),
        (
            "poste_1002_at_team",
            AVA,
            "fr",
            _ava("fr", *AVA_TEAM),
            "non attends, poste 1002",
            Expect(step="team", answers={"call_preference": "extension", "extension": "1002"}, kind="prompt"),
            "team",
        ),
        (
            "only_supervisor_at_call",
            AVA,
            "en",
            _ava("en", *AVA_CALL),
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
            _ava("fr", "role:supervisor"),
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
    return [_d(n, u, lang, (*turns, say(text)), e, q) for n, u, lang, turns, text, e, q in cases]


def _elsewhere() -> list[Dialogue]:
    """Answers that belong to another question, and questions about the question: never taken as an
    answer to the question asked."""
    other = [
        (
            "number_at_team_ava",
            AVA,
            "en",
            _ava("en", *AVA_CALL, "call:dial_number", "dn:+14155550101"),
            "+1 212 555 0102",
            Expect(answers={"team_id": None}, kind="prompt"),
            "team",
        ),
        (
            "team_at_dial_number",
            AVA,
            "en",
            _ava("en", *AVA_CALL, "call:dial_number"),
            "billing",
            Expect(answers={"dial_number": None}, kind="prompt"),
            "dial_number",
        ),
        (
            "team_at_extension",
            AVA,
            "en",
            _ava("en", *AVA_CALL, "call:extension"),
            "billing escalations",
            Expect(answers={"extension": None}, kind="prompt"),
            "extension",
        ),
        (
            "extension_at_team",
            AVA,
            "en",
            _ava("en", *AVA_TEAM),
            "1002",
            Expect(answers={"team_id": None}, kind="prompt"),
            "team",
        ),
        (
            "desktop_at_role",
            AVA,
            "en",
            _ava("en"),
            "desktop",
            Expect(answers={"role": None}, kind="prompt"),
            "role",
        ),
        (
            "numero_a_l_equipe",
            AVA,
            "fr",
            _ava("fr", *AVA_TEAM),
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
            Expect(answers={"dial_number": "+33199001234"}, kind="prompt"),
            "dial_number",
        ),
    ]
    explain = [
        (
            "what_is_a_dial_number",
            AVA,
            "en",
            _ava("en", *AVA_CALL),
            "what is a dial number?",
            "call_preference",
        ),
        (
            "desktop_or_extension",
            AVA,
            "en",
            _ava("en", *AVA_CALL),
            "what's the difference between desktop and extension?",
            "call_preference",
        ),
        (
            "c_est_quoi_un_numero_d_appel",
            AVA,
            "fr",
            _ava("fr", *AVA_CALL),
            "c'est quoi un numéro d'appel ?",
            "call_preference",
        ),
        ("which_team", AVA, "en", _ava("en", *AVA_TEAM), "which team should I pick?", "team"),
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
            _ava("en", *AVA_CALL, "call:dial_number"),
            "what number should I use?",
            "dial_number",
        ),
        (
            "supervisor_or_agent",
            AVA,
            "en",
            _ava("en"),
            "what's the difference between supervisor and agent?",
            "role",
        ),
        (
            "superviseur_ou_agent",
            AVA,
            "fr",
            _ava("fr"),
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
            _ava("en", *AVA_CALL, "call:extension"),
            "which extension is mine?",
            "extension",
        ),
        ("am_i_signed_in_mid_flow", AVA, "en", _ava("en", *AVA_TEAM), "am I signed in?", "team"),
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
        _d(n, u, lang, (*turns, say(text)), replace(e, never=("error",)), q, "elsewhere")
        for n, u, lang, turns, text, e, q in other
    ]
    dialogues += [
        _d(
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
    return [_d(n, u, lang, (say(text),), e, "start", "first") for n, u, lang, text, e in cases]


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
        _d(n, u, lang, turns, Expect(step=None, kind="info", mentions=m), "status", "status", CHAT_CHANNELS)
        for n, u, lang, turns, m in cases
    ]


def examples() -> list[Dialogue]:
    return [*_issue(), *_repairs(), *_elsewhere(), *_first_messages(), *_status()]
