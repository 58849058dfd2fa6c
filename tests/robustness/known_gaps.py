"""Dialogues that do not pass yet, by channel, and why. The corpus test fails when one of them
starts passing (then remove it here: the list only shrinks) and when any other dialogue fails."""

from __future__ import annotations

ROUTED_AWAY = "a typo the recognizer reads as another intent: Rasa routes it away from the form"
CHANGER_IS_CANCEL = "the recognizer reads « changer » as cancel: Rasa's own rule ends the form"
SAME_TEAM_AT_NUMBER = "the team already chosen, typed at the number question of the Rasa form"
OPENING_ROUTED_AWAY = "the recognizer reads the opening message as about automatic sign-in: no form starts"
DEFAULT_NOT_TAKEN = "a change to Dial number at the Rasa summary asks for the number instead of the default"
TEAM_AS_HELP = "a team name with a typo that the recognizer reads as a request for help"

KNOWN_GAPS: dict[str, dict[str, str]] = {
    "rasa": {
        "auto_login.sam.fr.False.typo5": ROUTED_AWAY,
        "confirm.ines.fr.change.text1": CHANGER_IS_CANCEL,
        "confirm.sam.fr.change.text0": CHANGER_IS_CANCEL,
        "confirm.sam.fr.change.text3": CHANGER_IS_CANCEL,
        "confirm.sam.fr.change.typo4": CHANGER_IS_CANCEL,
        "elsewhere.equipe_au_numero": SAME_TEAM_AT_NUMBER,
        "first.alex_extension_customer_care": OPENING_ROUTED_AWAY,
        "first.sam_telephone_chaque_fois": OPENING_ROUTED_AWAY,
        "repair.telephone_at_confirm": DEFAULT_NOT_TAKEN,
        "team.ava.en.t-returns.typo2": TEAM_AS_HELP,
    },
}
