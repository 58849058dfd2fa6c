"""The `ContactCenter` contract: what every backend must do, written against the port only.

Each test gets a fresh demo tenant (see conftest). The same tests will run against the real-API
adapter talking to the simulator over HTTP, so nothing here reaches into the simulator, except the
`controls` that stand for a customer contact.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.backend.dialplan import matches_dial_plan
from bot.backend.port import (
    Availability,
    CallPreference,
    ContactCenter,
    ContactCenterError,
    DNValidation,
    FailureReason,
    LoginFailed,
    LoginRequest,
    LogoutRefused,
    Role,
    StateChangeFailed,
    UnknownUser,
    UserProfile,
)
from tests.backend.support import TenantControls, request, run

SAM = "sam.supervisor@example.com"
AVA = "ava.lead@example.com"
ALEX = "alex.agent@example.com"
DANA = "dana.digital@example.com"
PAT = "pat.provisioned@example.com"
INES = "ines.martin@example.com"
BUSY = "busy.agent@example.com"
ROOT = "root.admin@example.com"
CARL = "carl.closed@example.com"
SID = "sid.specific@example.com"
BUSY_NUMBER = "+14155550123"

DESKTOP, EXTENSION, DIAL = CallPreference.DESKTOP, CallPreference.EXTENSION, CallPreference.DIAL_NUMBER
SUPERVISOR, BOTH, AGENT = Role.SUPERVISOR, Role.SUPERVISOR_AGENT, Role.AGENT


def profile(backend: ContactCenter, email: str) -> UserProfile:
    return run(backend.get_profile(email))


def login_fails(backend: ContactCenter, email: str, login: LoginRequest) -> LoginFailed:
    user = profile(backend, email)
    before = run(backend.get_session(user))
    with pytest.raises(LoginFailed) as caught:
        run(backend.station_login(user, login))
    assert caught.value.tracking_id, "every failure carries the service's tracking id"
    assert run(backend.get_session(user)) == before, "a refused login changes no session"
    return caught.value


# -- profiles ---------------------------------------------------------------------------------------


def test_unknown_user_is_reported_with_a_tracking_id(backend: ContactCenter) -> None:
    with pytest.raises(UnknownUser) as caught:
        run(backend.get_profile("nobody@example.com"))
    assert caught.value.reason is FailureReason.USER_NOT_FOUND
    assert caught.value.email == "nobody@example.com"
    assert caught.value.tracking_id


def test_emails_match_whatever_their_case(backend: ContactCenter) -> None:
    assert profile(backend, "  Ava.Lead@EXAMPLE.com ").user_id == profile(backend, AVA).user_id


def test_sam_is_supervisor_only_with_desktop_and_one_dial_number(backend: ContactCenter) -> None:
    sam = profile(backend, SAM)
    assert sam.roles == (SUPERVISOR,)
    assert sam.call_options == (DESKTOP, DIAL)
    assert sam.dial_numbers == ("+14155550110",)
    assert sam.default_dn == "+14155550110"
    assert sam.extensions == ()
    assert not sam.is_admin


def test_ava_has_both_roles_every_option_and_a_dozen_teams(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    assert ava.roles == (SUPERVISOR, BOTH)
    assert set(ava.call_options) == {DESKTOP, EXTENSION, DIAL}
    assert ava.extensions == ("1001", "1002")
    assert ava.dial_numbers == ("+14155550101", "+12125550102")
    assert ava.default_dn == "+14155550101"
    assert len(ava.teams) == 12
    names = {team.name for team in ava.teams}
    assert {"Billing", "Billing Escalations", "Sales EMEA", "Sales APAC"} <= names
    assert ava.team("t-billing") is not None and ava.team("t-billing").name == "Billing"  # type: ignore[union-attr]
    assert ava.team("no-such-team") is None


def test_ava_dial_numbers_are_us_e164_and_pass_her_dial_plan(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    for number in ava.dial_numbers:
        assert number.startswith("+1") and len(number) == 12
        assert matches_dial_plan(number, ava.dial_plans)
    assert matches_dial_plan("+1 (212) 555-0199", ava.dial_plans)
    assert matches_dial_plan("+442079460123", ava.dial_plans)
    for nonsense in ("+1 555 0100", "+15550100", "5550100", "+1415555012", "+0123456789", "hello"):
        assert not matches_dial_plan(nonsense, ava.dial_plans), nonsense


def test_alex_is_an_agent_with_one_extension_and_two_teams(backend: ContactCenter) -> None:
    alex = profile(backend, ALEX)
    assert alex.roles == (AGENT,)
    assert alex.extensions == ("2001",)
    assert EXTENSION in alex.call_options and DIAL not in alex.call_options
    assert [team.name for team in alex.teams] == ["Technical Support", "Customer Care"]


def test_dana_is_digital_only(backend: ContactCenter) -> None:
    dana = profile(backend, DANA)
    assert dana.roles == (AGENT,)
    assert dana.call_options == ()
    assert len(dana.teams) >= 1


def test_pat_must_use_the_provisioned_number(backend: ContactCenter) -> None:
    pat = profile(backend, PAT)
    assert pat.dn_validation is DNValidation.PROVISIONED_VALUE
    assert pat.default_dn == "+13125550140"
    assert not pat.allows_other_numbers


def test_ines_speaks_french_and_may_use_french_or_international_numbers(backend: ContactCenter) -> None:
    ines = profile(backend, INES)
    assert (ines.language, ines.default_region) == ("fr", "FR")
    assert ines.dn_validation is DNValidation.ALL and ines.allows_other_numbers
    assert ines.dial_numbers and all(number.startswith("+33") for number in ines.dial_numbers)
    assert matches_dial_plan("+33 1 99 00 56 78", ines.dial_plans)
    assert matches_dial_plan("+442079460123", ines.dial_plans)
    assert not matches_dial_plan("+33012345678", ines.dial_plans)
    assert not matches_dial_plan("0199001234", ines.dial_plans)


def test_root_is_an_administrator(backend: ContactCenter) -> None:
    root = profile(backend, ROOT)
    assert root.is_admin
    assert root.roles == (SUPERVISOR,)


def test_every_demo_user_has_idle_codes_and_a_site(backend: ContactCenter) -> None:
    for email in (SAM, AVA, ALEX, DANA, PAT, INES, BUSY, ROOT):
        user = profile(backend, email)
        assert user.idle_codes, email
        assert user.site_id, email
        assert user.contact_center_enabled, email


def test_busy_agent_is_already_signed_in_on_the_shared_number(backend: ContactCenter) -> None:
    session = run(backend.get_session(profile(backend, BUSY)))
    assert session is not None
    assert session.dial_number == BUSY_NUMBER
    assert session.in_interaction
    assert run(backend.get_session(profile(backend, AVA))) is None


# -- login failures, one per reason ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "login", "reason"),
    [
        pytest.param(
            CARL,
            request(AGENT, EXTENSION, "2002", "t-customer-care"),
            FailureReason.CONTACT_CENTER_DISABLED,
            id="disabled",
        ),
        pytest.param(
            ALEX,
            request(SUPERVISOR, EXTENSION, "2001"),
            FailureReason.ROLE_NOT_PERMITTED,
            id="agent-as-supervisor",
        ),
        pytest.param(
            SAM,
            request(BOTH, DIAL, "+14155550110", "t-supervisors"),
            FailureReason.ROLE_NOT_PERMITTED,
            id="supervisor-as-agent",
        ),
        pytest.param(
            SAM,
            request(SUPERVISOR, EXTENSION, "1001"),
            FailureReason.DEVICE_NOT_PERMITTED,
            id="no-extension-option",
        ),
        pytest.param(
            DANA,
            request(AGENT, DIAL, "+14155550111", "t-chat-email"),
            FailureReason.DEVICE_NOT_PERMITTED,
            id="digital-only-dial-number",
        ),
        pytest.param(
            AVA,
            request(SUPERVISOR, DIAL, "+1 555 0100"),
            FailureReason.INVALID_DIAL_NUMBER,
            id="nonsense-number",
        ),
        pytest.param(AVA, request(SUPERVISOR, DIAL, ""), FailureReason.INVALID_DIAL_NUMBER, id="no-number"),
        pytest.param(
            AVA,
            request(SUPERVISOR, EXTENSION, "2001"),
            FailureReason.INVALID_DIAL_NUMBER,
            id="someone-elses-extension",
        ),
        pytest.param(
            INES,
            request(AGENT, DIAL, "+33012345678", "t-support-france"),
            FailureReason.INVALID_DIAL_NUMBER,
            id="bad-french-number",
        ),
        pytest.param(
            PAT,
            request(AGENT, DIAL, "+13125550141", "t-collections"),
            FailureReason.NUMBER_NOT_PROVISIONED,
            id="not-the-provisioned-number",
        ),
        pytest.param(
            SID,
            request(AGENT, DIAL, "+14155550111", "t-collections"),
            FailureReason.NUMBER_NOT_PROVISIONED,
            id="no-criterion-matches",
        ),
        pytest.param(
            ALEX, request(AGENT, EXTENSION, "2001", None), FailureReason.TEAM_REQUIRED, id="no-team"
        ),
        pytest.param(AVA, request(BOTH, DESKTOP, "", "  "), FailureReason.TEAM_REQUIRED, id="emptied-team"),
        pytest.param(
            ALEX,
            request(AGENT, EXTENSION, "2001", "t-billing"),
            FailureReason.TEAM_NOT_ASSIGNED,
            id="other-team",
        ),
        pytest.param(
            AVA, request(SUPERVISOR, DIAL, BUSY_NUMBER), FailureReason.DUPLICATE_LOCATION, id="busy-number"
        ),
        pytest.param(
            AVA,
            request(BOTH, DIAL, "+1 (415) 555-0123", "t-billing"),
            FailureReason.DUPLICATE_LOCATION,
            id="busy-number-formatted",
        ),
        pytest.param(
            BUSY,
            request(AGENT, DIAL, "+14155550124", "t-customer-care"),
            FailureReason.SESSION_ALREADY_ACTIVE,
            id="already-signed-in",
        ),
    ],
)
def test_login_refusals(
    backend: ContactCenter, email: str, login: LoginRequest, reason: FailureReason
) -> None:
    assert login_fails(backend, email, login).reason is reason


@pytest.mark.parametrize(
    ("email", "login", "reason"),
    [
        pytest.param(
            CARL,
            request(SUPERVISOR, DIAL, "x"),
            FailureReason.CONTACT_CENTER_DISABLED,
            id="disabled-before-role",
        ),
        pytest.param(
            ALEX, request(SUPERVISOR, DIAL, "x"), FailureReason.ROLE_NOT_PERMITTED, id="role-before-device"
        ),
        pytest.param(
            SAM,
            request(SUPERVISOR, EXTENSION, "x"),
            FailureReason.DEVICE_NOT_PERMITTED,
            id="device-before-number",
        ),
        pytest.param(
            PAT,
            request(AGENT, DIAL, "+1 555 0100", None),
            FailureReason.INVALID_DIAL_NUMBER,
            id="dial-plan-before-provisioning-and-team",
        ),
        pytest.param(
            PAT,
            request(AGENT, DIAL, "+14155550199", None),
            FailureReason.NUMBER_NOT_PROVISIONED,
            id="provisioning-before-team",
        ),
        pytest.param(
            AVA,
            request(BOTH, DIAL, BUSY_NUMBER, None),
            FailureReason.TEAM_REQUIRED,
            id="team-before-duplicate",
        ),
        pytest.param(
            AVA,
            request(BOTH, DIAL, BUSY_NUMBER, "t-chat-email"),
            FailureReason.TEAM_NOT_ASSIGNED,
            id="assignment-before-duplicate",
        ),
        pytest.param(
            BUSY,
            request(AGENT, DIAL, BUSY_NUMBER, None),
            FailureReason.TEAM_REQUIRED,
            id="team-before-session",
        ),
    ],
)
def test_login_checks_run_in_the_documented_order(
    backend: ContactCenter, email: str, login: LoginRequest, reason: FailureReason
) -> None:
    assert login_fails(backend, email, login).reason is reason


def test_duplicate_location_beats_session_already_active(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    run(backend.station_login(ava, request(SUPERVISOR, DESKTOP)))
    with pytest.raises(LoginFailed) as caught:
        run(backend.station_login(ava, request(SUPERVISOR, DIAL, BUSY_NUMBER)))
    assert caught.value.reason is FailureReason.DUPLICATE_LOCATION


def test_the_service_checks_its_own_configuration_not_the_callers(backend: ContactCenter) -> None:
    alex = profile(backend, ALEX)
    forged = replace(alex, roles=(SUPERVISOR,), call_options=(DIAL,))
    with pytest.raises(LoginFailed) as caught:
        run(backend.station_login(forged, request(SUPERVISOR, DIAL, "+14155550111")))
    assert caught.value.reason is FailureReason.ROLE_NOT_PERMITTED


def test_each_call_gets_its_own_tracking_id(backend: ContactCenter) -> None:
    ids = {login_fails(backend, ALEX, request(AGENT, EXTENSION, "2001")).tracking_id for _ in range(3)}
    ava = profile(backend, AVA)
    ids.add(run(backend.station_login(ava, request(SUPERVISOR, DESKTOP))).tracking_id)
    ids.add(run(backend.set_state(ava, Availability.AVAILABLE)).tracking_id)
    ids.add(run(backend.logout(ava)).tracking_id)
    assert len(ids) == 6 and all(ids)


# -- successful logins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "login", "number"),
    [
        pytest.param(ROOT, request(SUPERVISOR, DESKTOP), "", id="desktop-supervisor"),
        pytest.param(AVA, request(BOTH, DESKTOP, "", "t-sales-apac"), "", id="desktop-supervisor-agent"),
        pytest.param(DANA, request(AGENT, DESKTOP, "", "t-chat-email"), "", id="digital-only"),
        pytest.param(ALEX, request(AGENT, EXTENSION, "2001", "t-tech-support"), "2001", id="extension"),
        pytest.param(
            AVA, request(BOTH, EXTENSION, "1002", "t-billing-escalations"), "1002", id="second-extension"
        ),
        pytest.param(SAM, request(SUPERVISOR, DIAL, "+14155550110"), "+14155550110", id="dial-number"),
        pytest.param(
            AVA,
            request(BOTH, DIAL, "+1 (212) 555-0102", "t-sales-emea"),
            "+12125550102",
            id="formatted-dial-number",
        ),
        pytest.param(AVA, request(SUPERVISOR, DIAL, "+442079460123"), "+442079460123", id="international"),
        pytest.param(
            PAT, request(AGENT, DIAL, "+13125550140", "t-collections"), "+13125550140", id="provisioned"
        ),
        pytest.param(
            SID, request(AGENT, DIAL, "+13125550199", "t-collections"), "+13125550199", id="criterion"
        ),
        pytest.param(
            INES, request(AGENT, DIAL, "+33199001234", "t-support-france"), "+33199001234", id="french"
        ),
        pytest.param(
            INES,
            request(AGENT, DIAL, "+61291234567", "t-sales-emea"),
            "+61291234567",
            id="french-agent-abroad",
        ),
    ],
)
def test_login_succeeds(backend: ContactCenter, email: str, login: LoginRequest, number: str) -> None:
    user = profile(backend, email)
    outcome = run(backend.station_login(user, login))
    session = outcome.session
    assert outcome.tracking_id and session is not None
    assert session.agent_id == user.user_id
    assert session.role is login.role
    assert session.call_preference is login.call_preference
    assert session.dial_number == number
    assert session.team_id == (login.team_id if login.role.needs_team else None)
    assert session.state is Availability.IDLE, "a new session starts Idle, as the desktop does"
    assert session.idle_code in {code.id for code in user.idle_codes}
    assert not session.in_interaction and not session.in_wrap_up
    assert session.session_id
    assert run(backend.get_session(user)) == session


def test_a_signed_in_number_is_in_use_until_sign_out(backend: ContactCenter) -> None:
    ava, sam = profile(backend, AVA), profile(backend, SAM)
    run(backend.station_login(ava, request(SUPERVISOR, DIAL, "+14155550101")))
    with pytest.raises(LoginFailed) as caught:
        run(backend.station_login(sam, request(SUPERVISOR, DIAL, "+14155550101")))
    assert caught.value.reason is FailureReason.DUPLICATE_LOCATION
    run(backend.logout(ava))
    assert run(backend.station_login(sam, request(SUPERVISOR, DIAL, "+14155550101"))).session is not None


def test_a_second_login_is_refused_and_keeps_the_first_session(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    first = run(backend.station_login(ava, request(SUPERVISOR, DESKTOP))).session
    with pytest.raises(LoginFailed) as caught:
        run(backend.station_login(ava, request(SUPERVISOR, DIAL, "+14155550101")))
    assert caught.value.reason is FailureReason.SESSION_ALREADY_ACTIVE
    assert caught.value.tracking_id
    assert run(backend.get_session(ava)) == first


# -- take-over (S12) -----------------------------------------------------------------------------


def test_login_with_take_over_replaces_the_other_session(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    first = run(backend.station_login(ava, request(SUPERVISOR, DESKTOP))).session
    outcome = run(backend.station_login(ava, request(BOTH, DIAL, "+14155550101", "t-vip"), take_over=True))
    assert first is not None and outcome.session is not None
    assert outcome.session.session_id != first.session_id
    assert (outcome.session.call_preference, outcome.session.team_id) == (DIAL, "t-vip")
    assert run(backend.get_session(ava)) == outcome.session


def test_take_over_without_a_session_elsewhere_still_signs_in(backend: ContactCenter) -> None:
    alex = profile(backend, ALEX)
    login = request(AGENT, EXTENSION, "2001", "t-tech-support")
    outcome = run(backend.station_login(alex, login, take_over=True))
    assert outcome.session is not None and outcome.session.dial_number == "2001"


def test_take_over_keeps_the_existing_session_unchanged(backend: ContactCenter) -> None:
    busy = profile(backend, BUSY)
    before = run(backend.get_session(busy))
    outcome = run(backend.take_over(busy))
    assert outcome.tracking_id
    assert outcome.session == before
    assert run(backend.get_session(busy)) == before


def test_take_over_needs_a_session(backend: ContactCenter) -> None:
    with pytest.raises(ContactCenterError) as caught:
        run(backend.take_over(profile(backend, ALEX)))
    assert caught.value.reason is FailureReason.NOT_LOGGED_IN
    assert caught.value.tracking_id


# -- availability --------------------------------------------------------------------------------


def test_state_changes(backend: ContactCenter) -> None:
    ava = profile(backend, AVA)
    run(backend.station_login(ava, request(BOTH, DESKTOP, "", "t-billing")))
    available = run(backend.set_state(ava, Availability.AVAILABLE))
    assert available.session is not None and available.session.state is Availability.AVAILABLE
    assert available.session.idle_code is None
    lunch = run(backend.set_state(ava, Availability.IDLE, "aux-lunch"))
    assert lunch.session is not None and (lunch.session.state, lunch.session.idle_code) == (
        Availability.IDLE,
        "aux-lunch",
    )
    assert lunch.tracking_id and lunch.tracking_id != available.tracking_id
    default = run(backend.set_state(ava, Availability.IDLE))
    assert default.session is not None and default.session.idle_code in {c.id for c in ava.idle_codes}
    assert run(backend.get_session(ava)) == default.session


def test_state_change_needs_a_session(backend: ContactCenter) -> None:
    with pytest.raises(StateChangeFailed) as caught:
        run(backend.set_state(profile(backend, ALEX), Availability.AVAILABLE))
    assert caught.value.reason is FailureReason.NOT_LOGGED_IN
    assert caught.value.tracking_id


def test_an_idle_code_outside_the_profile_is_refused(backend: ContactCenter) -> None:
    sid = profile(backend, SID)
    assert {code.id for code in sid.idle_codes} == {"aux-break", "aux-lunch"}
    run(backend.station_login(sid, request(AGENT, DIAL, "+13125550177", "t-collections")))
    with pytest.raises(StateChangeFailed) as caught:
        run(backend.set_state(sid, Availability.IDLE, "aux-meeting"))
    assert caught.value.tracking_id
    session = run(backend.get_session(sid))
    assert session is not None and session.idle_code != "aux-meeting"


# -- sign-out (S13) ------------------------------------------------------------------------------


def test_sign_out_is_refused_during_an_interaction_and_a_wrap_up(
    backend: ContactCenter, controls: TenantControls
) -> None:
    busy = profile(backend, BUSY)
    with pytest.raises(LogoutRefused) as caught:
        run(backend.logout(busy))
    assert caught.value.reason is FailureReason.ACTIVE_INTERACTION and caught.value.tracking_id
    controls.start_wrap_up(BUSY)
    with pytest.raises(LogoutRefused) as caught:
        run(backend.logout(busy))
    assert caught.value.reason is FailureReason.WRAP_UP_IN_PROGRESS and caught.value.tracking_id
    assert run(backend.get_session(busy)) is not None
    controls.end_interaction(BUSY)
    outcome = run(backend.logout(busy))
    assert outcome.tracking_id and outcome.session is None
    assert run(backend.get_session(busy)) is None


def test_the_busy_number_is_free_once_its_user_signed_out(
    backend: ContactCenter, controls: TenantControls
) -> None:
    controls.end_interaction(BUSY)
    run(backend.logout(profile(backend, BUSY)))
    outcome = run(backend.station_login(profile(backend, AVA), request(SUPERVISOR, DIAL, BUSY_NUMBER)))
    assert outcome.session is not None and outcome.session.dial_number == BUSY_NUMBER


def test_an_interaction_started_after_sign_in_blocks_sign_out(
    backend: ContactCenter, controls: TenantControls
) -> None:
    alex = profile(backend, ALEX)
    run(backend.station_login(alex, request(AGENT, EXTENSION, "2001", "t-customer-care")))
    run(backend.set_state(alex, Availability.IDLE))
    controls.start_interaction(ALEX)
    with pytest.raises(LogoutRefused) as caught:
        run(backend.logout(alex))
    assert caught.value.reason is FailureReason.ACTIVE_INTERACTION
    controls.end_interaction(ALEX)
    assert run(backend.logout(alex)).session is None


def test_sign_out_without_a_session(backend: ContactCenter) -> None:
    with pytest.raises(LogoutRefused) as caught:
        run(backend.logout(profile(backend, ALEX)))
    assert caught.value.reason is FailureReason.NOT_LOGGED_IN
    assert caught.value.tracking_id


def test_sign_in_again_after_sign_out(backend: ContactCenter) -> None:
    pat = profile(backend, PAT)
    login = request(AGENT, DIAL, "+13125550140", "t-collections")
    first = run(backend.station_login(pat, login)).session
    run(backend.logout(pat, "end of shift"))
    second = run(backend.station_login(pat, login)).session
    assert first is not None and second is not None and first.session_id != second.session_id
