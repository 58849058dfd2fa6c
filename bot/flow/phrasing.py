"""What people type to answer each question, in English and French. The step table (`steps.py`)
gives each question its vocabularies from here.

Two kinds per question: `*_WORDS` say the answer unmistakably wherever they appear ("extension",
"don't show again", "supervisor and agent"), so they are read in any message, at any question;
`*_REPLIES` are short forms that only answer the question being asked ("yes", "both", "les deux").
Matching forgives missing accents and small typos (see `vocabulary.py`).
"""

from __future__ import annotations

from bot.flow.vocabulary import Vocabulary

ROLE_WORDS = Vocabulary.of(
    supervisor=(
        "supervisor | supervisor only | only supervisor | just supervisor | supervisor role | "
        "superviseur | superviseuse | "
        "seulement superviseur | superviseur seulement | juste superviseur | "
        "uniquement superviseur"
    ),
    supervisor_agent=(
        "supervisor and agent | agent and supervisor | supervisor agent | supervisor + agent | "
        "supervisor & agent | both roles | superviseur et agent | agent et superviseur | "
        "superviseur agent | superviseur + agent | les deux roles"
    ),
    agent="agent only | only agent | just agent | agent seulement | juste agent | seulement agent",
)
ROLE_REPLIES = Vocabulary.of(
    supervisor="sup | supervision",
    supervisor_agent="both | both of them | the two | the second | les deux | les 2 | tous les deux",
    agent="agent",
)

CALL_WORDS = Vocabulary.of(
    desktop=(
        "desktop | the desktop | browser | web browser | webrtc | web rtc | computer | "
        "my computer | headset | softphone | bureau | le bureau | navigateur | le navigateur | "
        "ordinateur | mon ordinateur | casque"
    ),
    extension=(
        "extension | my extension | an extension | extension number | internal number | ext | "
        "poste | mon poste | numero de poste | un poste | extension interne"
    ),
    dial_number=(
        "dial number | a dial number | phone number | a phone number | my phone | mobile | "
        "my mobile | cell phone | my cell | telephone | a number | numero d appel | "
        "un numero d appel | numero de telephone | mon portable | portable | mon telephone | "
        "mon numero | un numero"
    ),
)
CALL_REPLIES = Vocabulary.of(
    desktop="pc | web",
    extension="extn",
    dial_number="phone | number | dn | numero | tel | dial",
)

AUTO_LOGIN_WORDS = Vocabulary.of(
    yes=(
        "don't show again | do not show again | dont show again | don't show this again | "
        "don't ask again | don't ask me again | never ask again | never ask me again | "
        "sign me in automatically | log me in automatically | "
        "automatically next time | remember my choice | remember my choices | "
        "ne plus afficher | ne plus demander | ne me demande plus | ne plus me demander | "
        "connecte moi automatiquement | automatiquement | "
        "sans me demander"
    ),
    no=(
        "ask me each time | ask me every time | ask each time | ask every time | each time | "
        "every time | keep asking | keep asking me | not automatically | no automatic sign in | "
        "show it again | demande moi a chaque fois | demandez moi a chaque fois | a chaque fois | "
        "chaque fois | pas automatiquement | pas de connexion automatique | continue a demander"
    ),
)
YES_NO_REPLIES = Vocabulary.of(
    yes=(
        "yes | y | yep | yeah | yup | ok | okay | sure | of course | please do | definitely | "
        "always | automatic | automatically | auto | oui | ouais | d accord | bien sur | "
        "volontiers | toujours | si | oui stp | oui merci"
    ),
    no=(
        "no | n | nope | nah | no thanks | not now | never | don't | do not | ask me | non | "
        "non merci | pas maintenant | jamais | demande moi"
    ),
)

CONFIRM_REPLIES = Vocabulary.of(
    yes=(
        "yes | y | yep | yeah | ok | okay | sure | save | save and continue | continue | submit | "
        "go | go ahead | do it | confirm | looks good | that's right | correct | all good | "
        "sign me in | log me in | oui | ouais | d accord | enregistrer | enregistrer et continuer | "
        "valider | je valide | confirmer | c est bon | vas y | allez | parfait | c est parfait | "
        "connecte moi"
    ),
    no=(
        "no | n | nope | change | modify | edit | not right | wrong | that's wrong | non | "
        "modifier | changer | corriger | pas correct | c est faux"
    ),
)

TAKE_OVER_REPLIES = Vocabulary.of(
    yes=(
        "yes | y | ok | sure | continue | continue here | here | move it here | take over | oui | "
        "continuer | continuer ici | ici | d accord"
    ),
    no="no | n | nope | leave it | keep it there | not here | non | laisse | laisser | pas ici",
)

AVAILABILITY_WORDS = Vocabulary.of(
    available="available | ready | disponible | dispo | pret | prete",
    idle=(
        "idle | not available | unavailable | not ready | on break | break | pause | en pause | "
        "indisponible | pas disponible | absent | occupe"
    ),
)

NUMBER_CHOICE_WORDS = Vocabulary.of(
    default=(
        "default | the default | use the default | my default | default number | usual | "
        "same as usual | the usual one | par defaut | le numero par defaut | celui par defaut | "
        "habituel | comme d habitude | le meme"
    ),
    international=(
        "international | international format | country code | another country | "
        "format international | indicatif | indicatif pays | autre pays"
    ),
    other="another number | other number | a different number | autre numero | un autre numero",
)

# The names of the answers, for "change the team", "modifier le numéro".
FIELD_WORDS = Vocabulary.of(
    role="role | my role",
    call_preference=(
        "handle calls | how to handle calls | call preference | calls | device | call handling | "
        "traitement des appels | appareil | les appels | appels"
    ),
    extension="extension | ext | poste",
    dial_number="number | dial number | phone number | phone | numero | numero d appel | telephone",
    team="team | my team | equipe | mon equipe",
    auto_login=(
        "automatic sign in | auto login | autologin | automatic | don't show again | "
        "connexion automatique | ne plus afficher"
    ),
)
