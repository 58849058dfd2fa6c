# This files contains your custom actions which can be used to run
# custom Python code.
#
# See this guide on how to implement these action:
# https://rasa.com/docs/rasa/custom-actions

# loginbot's actions (the sign-in form, sign-out, availability, preferences, troubleshooting), served
# by this action server next to the team's own: `rasa run actions`, or
# `python -m rasa_sdk --actions actions`. Their services (store, backend, mailer) are built from
# loginbot's settings (LOGINBOT_*, WXCC_*) at the first call.
import bot.channels.rasa.actions  # noqa: F401
