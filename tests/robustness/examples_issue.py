"""The dialogues of issue 10's examples, one each, and what the hand-written dialogues share."""

from __future__ import annotations

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


def ava_path(lang: str, *clicks: str) -> tuple[Turn, ...]:
    return (START[lang], *(click(c) for c in clicks))


AVA_CALL = ("role:supervisor_agent",)
AVA_TEAM = (*AVA_CALL, "call:desktop")
AVA_AUTO = (*AVA_TEAM, "team:t-billing")
AVA_CONFIRM = (*AVA_AUTO, "auto:no")


def dialogue_of(
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


def issue_dialogues() -> list[Dialogue]:
    """The examples of the issue's first two sections, one dialogue each."""
    sam_auto = (START["en"], click("call:desktop"))
    ines_auto = (START["fr"], click("call:desktop"), click("team:t-support-france"))
    ines_team_dn = (START["fr"], click("call:dial_number"))
    signed_in_alex = (START["en"], click("call:desktop"), click("team:t-tech-support"), click("auto:no"))
    return [
        dialogue_of(
            "dont_show_again",
            SAM,
            "en",
            (*sam_auto, say("don't show again")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
            "ask_me_each_time",
            SAM,
            "en",
            (*sam_auto, say("ask me each time")),
            Expect(step="confirm", answers={"auto_login": False}, kind="summary"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
            "ne_plus_afficher",
            INES,
            "fr",
            (*ines_auto, say("ne plus afficher")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
            "demande_moi_a_chaque_fois",
            INES,
            "fr",
            (*ines_auto, say("demande-moi à chaque fois")),
            Expect(step="confirm", answers={"auto_login": False}, kind="summary"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
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
        dialogue_of(
            "desktop_instead_at_team",
            AVA,
            "en",
            (
                *ava_path("en", *AVA_CALL, "call:dial_number", "dn:+12125550102"),
                say("actually, use the desktop instead"),
            ),
            Expect(step="team", answers={"call_preference": "desktop", "team_id": None}, kind="prompt"),
            "team",
            "issue",
        ),
        dialogue_of(
            "number_at_team_ines",
            INES,
            "fr",
            (*ines_team_dn, say("06 12 34 56 78")),
            Expect(answers={"team_id": None}, kind="prompt", never=("error",)),
            "team",
            "issue",
        ),
        dialogue_of(
            "extention",
            AVA,
            "en",
            (*ava_path("en", *AVA_CALL), say("extention")),
            Expect(step="extension", answers={"call_preference": "extension"}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        dialogue_of(
            "numero_d_appel",
            AVA,
            "fr",
            (*ava_path("fr", *AVA_CALL), say("numero d appel")),
            Expect(step="dial_number", answers={"call_preference": "dial_number"}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        dialogue_of(
            "suprevisor",
            AVA,
            "en",
            (*ava_path("en"), say("suprevisor")),
            Expect(step="call_preference", answers={"role": "supervisor"}, kind="prompt"),
            "role",
            "issue",
        ),
        dialogue_of(
            "whats_my_status",
            BUSY,
            "en",
            (say("what's my status?"),),
            Expect(step=None, kind="info", mentions=("Customer Care",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        dialogue_of(
            "am_i_signed_in_while_signed_in",
            ALEX,
            "en",
            (*signed_in_alex, click("confirm:yes"), say("am I signed in?")),
            Expect(step=None, kind="info", mentions=("Technical Support",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        dialogue_of(
            "suis_je_connecte",
            INES,
            "fr",
            (*ines_auto, click("auto:no"), click("confirm:yes"), say("suis-je connecté ?")),
            Expect(step=None, kind="info", mentions=("Support France",)),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        dialogue_of(
            "exit",
            AVA,
            "en",
            (*ava_path("en", *AVA_CALL), say("exit"), say("1")),
            Expect(answers={"role": "supervisor_agent"}, ends_chat=True),
            "exit",
            "issue",
            ("terminal",),
        ),
        dialogue_of(
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
        dialogue_of(
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
        dialogue_of(
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
        dialogue_of(
            "dana_auto_login_on_at_the_summary",
            DANA,
            "en",
            (START["en"], click("auto:no"), say("turn automatic sign-in back on")),
            Expect(step="confirm", answers={"auto_login": True}, kind="summary"),
            "confirm",
            "issue",
        ),
        dialogue_of(
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
        dialogue_of(
            "dana_auto_login_on_then_save",
            DANA,
            "en",
            (START["en"], click("auto:no"), say("turn automatic sign-in back on"), click("confirm:yes")),
            Expect(step=None, kind="success", saved={"auto_login": True}),
            "confirm",
            "issue",
        ),
        dialogue_of(
            "checklist_in_line_mode",
            AVA,
            "en",
            (say("why can't I sign in?"),),
            Expect(step=None),
            "status",
            "issue",
            CHAT_CHANNELS,
        ),
        dialogue_of(
            "no_empty_extension_list",
            SAM,
            "en",
            (START["en"], say("extension 1002")),
            Expect(step="call_preference", answers={"call_preference": None}),
            "call_preference",
            "issue",
        ),
        dialogue_of(
            "what_does_dont_show_again_mean",
            SAM,
            "en",
            (*sam_auto, say("what does don't show again mean?")),
            Expect(step="auto_login", answers={"auto_login": None}, kind="prompt"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
            "how_do_i_log_out_of_the_desktop",
            AVA,
            "en",
            (*ava_path("en", *AVA_CALL), say("how do I log out of the desktop?")),
            Expect(step="call_preference", answers={"call_preference": None}, kind="prompt"),
            "call_preference",
            "issue",
        ),
        dialogue_of(
            "no_wait_extension_1002",
            AVA,
            "en",
            (*ava_path("en", *AVA_CALL, "call:extension", "ext:1001"), say("no wait, extension 1002")),
            Expect(step="team", answers={"extension": "1002", "call_preference": "extension"}, kind="prompt"),
            "team",
            "issue",
        ),
        dialogue_of(
            "change_the_team",
            AVA,
            "en",
            (*ava_path("en", *AVA_AUTO), say("change the team")),
            Expect(step="team", kind="prompt"),
            "auto_login",
            "issue",
        ),
        dialogue_of(
            "finalement_le_bureau",
            INES,
            "fr",
            (*ines_team_dn, say("finalement le bureau")),
            Expect(step="team", answers={"call_preference": "desktop", "team_id": None}, kind="prompt"),
            "team",
            "issue",
        ),
    ] + [
        dialogue_of(
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
            ("quit", AVA, "en", ava_path("en", *AVA_CALL), {"role": "supervisor_agent"}),
            ("bye", SAM, "en", sam_auto, {"call_preference": "desktop"}),
            ("au revoir", INES, "fr", ines_auto, {"team_id": "t-support-france"}),
            ("exit", AVA, "en", (), {}),
        )
    ]
