"""The words of each question's options, in English and French, and the sentences around them.

`{w}` in a template is replaced by each of the option's words. Add a phrasing by adding a word to an
option (it is then tried in every template) or a template to a question (tried with every word).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Options that leave the question's answer unfilled: a national number waits for its country code.
PENDING = ("national", "0612345678", "0199001235")


@dataclass(frozen=True)
class Option:
    value: Any
    words: dict[str, tuple[str, ...]]  # language -> words that choose this option
    templates: dict[str, tuple[str, ...]] | None = None  # sentences of its own, instead of the question's


@dataclass(frozen=True)
class Question:
    name: str
    field: str | None  # the answer it fills (None: the confirmation)
    templates: dict[str, tuple[str, ...]]
    options: tuple[Option, ...]
    protected: tuple[str, ...] = ()  # words never misspelled (a misspelling would be another word)
    # The words of an option for one user only, where they depend on the user's other options
    # ("sales" is Inès's only sales team, one of Ava's three).
    by_user: dict[tuple[str, Any], Option] | None = None

    def values(self) -> tuple[Any, ...]:
        return tuple(o.value for o in self.options)

    def option(self, value: Any, user: str = "") -> Option:
        if self.by_user and (user, value) in self.by_user:
            return self.by_user[(user, value)]
        return next(o for o in self.options if o.value == value)

    def sentences(self, option: Option, language: str) -> tuple[str, ...]:
        return (option.templates or self.templates)[language]

    def answers(self, value: Any) -> dict[str, Any]:
        if not self.field or value in PENDING:
            return {}
        return {self.field: value}


def _o(
    value: Any,
    en: tuple[str, ...],
    fr: tuple[str, ...],
    templates: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> Option:
    return Option(
        value, {"en": en, "fr": fr}, {"en": templates[0], "fr": templates[1]} if templates else None
    )


INES = "ines.martin@example.com"
DEFAULT_NUMBER_TEMPLATES = (
    ("{w}", "{w} please", "use {w}", "I'll take {w}"),
    ("{w}", "{w} stp", "{w} s'il te plaît", "je prends {w}"),
)


ROLE = Question(
    "role",
    "role",
    {
        "en": ("{w}", "{w} please", "as {w}", "sign me in as {w}", "I'm {w}", "{w} pls", "make it {w}"),
        "fr": ("{w}", "{w} stp", "en tant que {w}", "je suis {w}", "{w} s'il te plaît", "plutôt {w}"),
    },
    (
        _o(
            "supervisor",
            ("supervisor", "just supervisor", "supervisor only", "only supervisor", "just the supervisor"),
            ("superviseur", "juste superviseur", "superviseur seulement", "uniquement superviseur"),
        ),
        _o(
            "supervisor_agent",
            ("supervisor and agent", "both", "agent and supervisor", "supervisor + agent", "both roles"),
            (
                "les deux",
                "superviseur et agent",
                "agent et superviseur",
                "superviseur + agent",
                "les 2 rôles",
            ),
        ),
    ),
)

CALL_PREFERENCE = Question(
    "call_preference",
    "call_preference",
    {
        "en": ("{w}", "{w} please", "use {w}", "I'll use {w}", "with {w}", "{w} pls"),
        "fr": ("{w}", "{w} stp", "avec {w}", "je prends {w}", "plutôt {w}", "{w} s'il te plaît"),
    },
    (
        _o(
            "desktop",
            ("desktop", "the desktop", "browser", "the browser", "webrtc", "my computer"),
            ("navigateur", "le navigateur", "bureau", "le bureau", "ordinateur", "webrtc"),
        ),
        _o(
            "extension",
            ("extension", "my extension", "ext", "an extension", "extention"),
            ("poste", "mon poste", "extension", "le poste", "une extension", "ext"),
        ),
        _o(
            "dial_number",
            ("dial number", "a dial number", "phone number", "my phone", "dial num", "my mobile"),
            ("numéro d'appel", "numero d appel", "numéro de téléphone", "mon téléphone", "mon portable"),
        ),
    ),
    protected=("extention",),  # already the misspelling under test
)

EXTENSION = Question(
    "extension",
    "extension",
    {
        "en": ("{w}", "{w} please", "use {w}", "it's {w}"),
        "fr": ("{w}", "{w} stp", "le {w}", "c'est le {w}"),
    },
    (
        _o("1001", ("1001", "ext 1001", "extension 1001", "ext. 1001"), ("1001", "poste 1001", "ext 1001")),
        _o(
            "1002",
            ("1002", "ext 1002", "extension 1002", "ext. 1002"),
            ("1002", "poste 1002", "extension 1002"),
        ),
    ),
)

DIAL_NUMBER = Question(
    "dial_number",
    "dial_number",
    {
        "en": ("{w}", "my number is {w}", "call me on {w}", "use {w}", "{w} please"),
        "fr": ("{w}", "mon numéro est le {w}", "appelle-moi au {w}", "le {w}", "{w} stp"),
    },
    (
        _o(
            "+12125550102",
            (
                "+12125550102",
                "+1 212 555 0102",
                "+1 (212) 555-0102",
                "011 1 212 555 0102",
                "+1.212.555.0102",
            ),
            ("+12125550102", "+1 212 555 0102", "+1 (212) 555-0102", "+1.212.555.0102"),
        ),
        # A national number with no country to read it in: its country code is asked.
        _o(
            "national",
            ("(212) 555-0102", "212-555-0102", "212 555 0102", "2125550102"),
            ("(212) 555-0102", "212 555 0102", "2125550102"),
        ),
        _o(
            "+14155550101",
            ("default", "the default", "the default one", "the default number", "the default num"),
            ("par défaut", "le numéro par défaut", "celui par défaut", "le num par défaut"),
            DEFAULT_NUMBER_TEMPLATES,
        ),
        _o(
            "+33612345678",
            (),
            ("+33 6 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "00 33 6 12 34 56 78"),
        ),
        _o("+33199001235", (), ("+33 1 99 00 12 35", "00 33 1 99 00 12 35", "+33.1.99.00.12.35")),
        # National numbers: the country code is asked, whatever the user's country.
        _o("0612345678", (), ("06 12 34 56 78", "0612345678", "06.12.34.56.78")),
        _o("0199001235", (), ("01 99 00 12 35", "0199001235")),
        _o(
            "+33199001234",
            (),
            ("par défaut", "le numéro par défaut", "celui par défaut", "le num par défaut"),
            DEFAULT_NUMBER_TEMPLATES,
        ),
    ),
)

TEAM = Question(
    "team",
    "team_id",
    {
        "en": ("{w}", "team {w}", "the {w} team", "{w} team", "{w} please", "put me in {w}"),
        "fr": ("{w}", "l'équipe {w}", "équipe {w}", "{w} stp", "dans l'équipe {w}", "mets-moi dans {w}"),
    },
    (
        _o("t-billing", ("billing", "Billing"), ("billing", "Billing")),
        _o(
            "t-billing-escalations",
            ("billing escalations", "escalations", "Billing Escalations"),
            ("billing escalations", "escalations"),
        ),
        _o("t-sales-emea", ("sales emea", "Sales EMEA"), ("sales emea", "emea")),
        _o("t-sales-apac", ("sales apac", "apac"), ("sales apac", "apac")),
        _o("t-sales-americas", ("sales americas", "americas"), ("sales americas", "americas")),
        _o(
            "t-tech-support",
            ("technical support", "tech support", "technical"),
            ("technical support", "tech support", "support technique"),
        ),
        _o("t-customer-care", ("customer care", "care"), ("customer care", "care")),
        _o("t-retention", ("retention", "Retention"), ("retention", "rétention")),
        _o("t-onboarding", ("onboarding", "on-boarding"), ("onboarding", "Onboarding")),
        _o("t-vip", ("vip", "VIP accounts"), ("vip", "comptes VIP")),
        _o("t-collections", ("collections", "Collections"), ("collections", "Collections")),
        _o("t-returns", ("returns and refunds", "refunds"), ("returns", "refunds")),
        _o("t-support-france", (), ("support france", "support", "france", "Support France")),
    ),
    protected=("france", "sales", "emea", "apac"),
    by_user={
        # Team names are the tenant's; "ventes" is what a French speaker calls her only sales team.
        (INES, "t-sales-emea"): _o("t-sales-emea", (), ("sales emea", "emea", "sales", "ventes")),
    },
)

AUTO_LOGIN = Question(
    "auto_login",
    "auto_login",
    {
        "en": ("{w}", "hmm, {w}", "{w}, thanks", "{w} please"),
        "fr": ("{w}", "euh, {w}", "{w}, merci", "{w} stp"),
    },
    (
        _o(
            True,
            (
                "don't show again",
                "dont show again",
                "do not show again",
                "don't show this again",
                "yes",
                "sign me in automatically",
                "automatically",
                "don't ask me again",
            ),
            (
                "ne plus afficher",
                "ne plus me demander",
                "oui",
                "automatiquement",
                "connecte-moi automatiquement",
                "ne plus demander",
                "connexion automatique",
            ),
        ),
        _o(
            False,
            (
                "ask me each time",
                "ask me every time",
                "ask each time",
                "no",
                "no thanks",
                "not automatically",
            ),
            (
                "demande-moi à chaque fois",
                "demande moi a chaque fois",
                "à chaque fois",
                "non",
                "non merci",
                "pas automatiquement",
            ),
        ),
    ),
)

CONFIRM = Question(
    "confirm",
    None,
    {"en": ("{w}", "{w}!", "ok {w}"), "fr": ("{w}", "{w} !", "ok {w}")},
    (
        _o(
            "yes",
            ("save and continue", "go ahead", "yes", "looks good", "confirm", "save", "all good"),
            ("enregistrer et continuer", "c'est bon", "oui", "vas-y", "valider", "confirmer", "parfait"),
        ),
        _o(
            "change",
            ("change", "change something", "edit"),
            ("modifier", "changer", "je veux changer"),
            (("{w}", "{w} please", "no, {w}"), ("{w}", "{w} stp", "non, {w}")),
        ),
    ),
)

QUESTIONS = {q.name: q for q in (ROLE, CALL_PREFERENCE, EXTENSION, DIAL_NUMBER, TEAM, AUTO_LOGIN, CONFIRM)}
