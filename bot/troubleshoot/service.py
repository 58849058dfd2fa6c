"""`Troubleshooter`: the checklist (U3) and the failure report, behind the authorization rule (T9).

T9: anyone may see their own checklist; only an administrator may see another user's (or the
failure report). An administrator is an email listed in `LOGINBOT_ADMINS` (`admins`) or a user whose
contact-center profile carries the tenant's admin flag. Every query, allowed or refused, writes one
line to the `loginbot.audit` logger: who asked, about whom, the decision and why. Those lines carry
emails and tracking ids only, never a phone number or a token (X4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.backend.port import ContactCenter, ContactCenterError
from bot.troubleshoot.checklist import Checklist
from bot.troubleshoot.diagnostics import Diagnostics, diagnostics_for
from bot.troubleshoot.directory import Directory, Person, directory_for, match_people
from bot.troubleshoot.probes import gather
from bot.troubleshoot.report import Report, failure_report
from bot.troubleshoot.rules import build_checklist
from bot.troubleshoot.texts import language_of, texts
from storage import Store

audit = logging.getLogger("loginbot.audit")
log = logging.getLogger(__name__)

OPERATOR = "terminal-operator"
"""The requester the `loginbot troubleshoot` command uses: whoever runs the command on the host has
the database and the configuration already, so the command treats them as an administrator."""


class NotAllowed(Exception):
    """T9: a non-administrator asked about someone else (or for the report). `message(language)`
    is the sentence to show them."""

    def __init__(self, requester: str, target: str, *, report: bool = False) -> None:
        super().__init__(f"{requester} may not see the troubleshooting data of {target}")
        self.requester = requester
        self.target = target
        self.report = report

    def message(self, language: str | None = None) -> str:
        key = "access.report_refused" if self.report else "access.refused"
        return texts().text(language_of(language), key)


class DirectoryUnavailable(LookupError):
    """Users cannot be looked up by name (this backend cannot, or not for this requester right
    now): ask for an email address instead."""


class TrackingIdNotFound(LookupError):
    """No recorded sign-in attempt carries this tracking id."""

    def __init__(self, tracking_id: str) -> None:
        super().__init__(f"no sign-in attempt with tracking id {tracking_id!r}")
        self.tracking_id = tracking_id

    def message(self, language: str | None = None) -> str:
        return texts().text(language_of(language), "access.tracking_not_found", tracking_id=self.tracking_id)


def _fold(email: str) -> str:
    return email.strip().casefold()


class Troubleshooter:
    """Builds checklists and reports for a requester, after checking that they may see them."""

    def __init__(
        self,
        backend: ContactCenter,
        store: Store,
        *,
        admins: frozenset[str] = frozenset(),
        diagnostics: Diagnostics | None = None,
        directory: Directory | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.backend = backend
        self.store = store
        self.admins = frozenset(_fold(a) for a in admins)
        self.diagnostics = diagnostics if diagnostics is not None else diagnostics_for(backend)
        self.directory = directory if directory is not None else directory_for(backend)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def admin_basis(self, requester: str) -> str | None:
        """Why `requester` is an administrator ("LOGINBOT_ADMINS" or "tenant"), or None."""
        who = _fold(requester)
        if who in self.admins:
            return "LOGINBOT_ADMINS"
        try:
            profile = await self.backend.get_profile(who)
        except ContactCenterError:
            return None
        except Exception:
            log.exception("troubleshooting: the requester's profile read failed")
            return None
        return "tenant" if profile.is_admin else None

    async def authorize(self, requester: str, target: str, *, query: str = "checklist") -> None:
        """Raise `NotAllowed` unless `requester` may see `target`'s data; audit the decision."""
        who, whom = _fold(requester), _fold(target)
        basis = "self" if who == whom else await self.admin_basis(who)
        if basis is None:
            audit.warning(
                "troubleshoot query=%s requester=%s target=%s decision=refused reason=not-admin",
                query,
                who,
                whom,
            )
            raise NotAllowed(who, whom)
        audit.info(
            "troubleshoot query=%s requester=%s target=%s decision=allowed basis=%s", query, who, whom, basis
        )

    async def find_people(self, requester_email: str, name: str) -> list[Person]:
        """The tenant users called `name` ("Ava"), for a checklist by name.

        T9 holds here too: an administrator learns who matches; anyone else only ever finds
        themselves, and a name that designates someone else is refused (`NotAllowed`) without saying
        whether such a user exists. Raises `DirectoryUnavailable` when this backend cannot list its users.
        """
        who = _fold(requester_email)
        basis = await self.admin_basis(who)
        people = await self.directory.people(name, who)
        if people is None:
            audit.info("troubleshoot query=name requester=%s decision=no-directory", who)
            raise DirectoryUnavailable(name)
        found = match_people(name, people)
        if basis is None and [p.email for p in found] != [who]:
            audit.warning(
                "troubleshoot query=name requester=%s name=%r decision=refused reason=not-admin", who, name
            )
            raise NotAllowed(who, name)
        audit.info(
            "troubleshoot query=name requester=%s name=%r decision=allowed basis=%s matches=%d",
            who,
            name,
            basis or "self",
            len(found),
        )
        return found

    async def checklist(
        self, requester_email: str, target_email: str, language: str | None = "en"
    ) -> Checklist:
        """The checklist of `target_email` for `requester_email`; raises `NotAllowed` (T9)."""
        await self.authorize(requester_email, target_email)
        facts = await gather(self.backend, self.store, self.diagnostics, target_email, now=self._clock())
        return build_checklist(facts, language_of(language))

    async def by_tracking_id(
        self, requester_email: str, tracking_id: str, language: str | None = "en"
    ) -> Checklist:
        """The checklist of the user whose attempt carries `tracking_id`, led by that attempt.

        Raises `TrackingIdNotFound` or `NotAllowed` (T9, checked on the attempt's user); both audited.
        Saying "not found" to anyone leaks nothing: tracking ids are random UUIDs, never guessed.
        """
        wanted = tracking_id.strip()
        attempt = self.store.attempt_by_tracking_id(wanted) if wanted else None
        if attempt is None:
            audit.info(
                "troubleshoot query=tracking-id tracking_id=%s requester=%s decision=not-found",
                wanted,
                _fold(requester_email),
            )
            raise TrackingIdNotFound(wanted)
        await self.authorize(requester_email, attempt.email, query=f"tracking-id tracking_id={wanted}")
        facts = await gather(
            self.backend, self.store, self.diagnostics, attempt.email, now=self._clock(), focus=attempt
        )
        return build_checklist(facts, language_of(language))

    async def report(self, requester_email: str, days: int = 7) -> Report:
        """The failure report (administrators only); raises `NotAllowed`."""
        who = _fold(requester_email)
        basis = await self.admin_basis(who)
        if basis is None:
            audit.warning("troubleshoot query=report requester=%s decision=refused reason=not-admin", who)
            raise NotAllowed(who, "*", report=True)
        audit.info(
            "troubleshoot query=report requester=%s decision=allowed basis=%s days=%d", who, basis, days
        )
        return failure_report(self.store, days, now=self._clock())
