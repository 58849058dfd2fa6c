"""The simulator's tenant file: one YAML document describing a whole contact-center organization.

Why this shape: the simulator must be a faithful stand-in for the real Webex Contact Center, and a
later issue serves the same tenant over the real configuration API (`/v2/user`, `/agent-profile`,
`/v2/team`, `/v2/dial-plan`, `/v2/auxiliary-code`). So the sections and field names copy the real
API's JSON, including its misspelled `deafultDialledNumber`. What the real API has no place for
(allowed roles that come from licences, pre-validated extensions and numbers, language, region, the
admin flag, skills, and sessions already open when the simulator starts) lives in a per-user
`simulator:` block, so a reader can always tell the real shape from the simulator's additions.

Every model forbids unknown keys: a misspelled key (say `defaultDialledNumber`, the correct spelling
that the real API does *not* use) must fail loudly rather than be ignored. Cross-references (a user's
profile, teams, site; a profile's dial plans and idle codes) are checked when the file loads, and
`load_tenant` reports any problem as `TenantFileError` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bot.backend.port import (
    Availability,
    CallPreference,
    DialPlan,
    DNValidation,
    IdleCode,
    Role,
    Team,
    UserProfile,
)

DEMO_TENANT_FILE: Path = Path(__file__).with_name("demo_tenant.yml")
"""The demo tenant shipped with the package; the default run, the README and the tests use it."""

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EXTENSION = re.compile(r"\d{2,15}")
_MAX_DIAL_NUMBER = 43  # `dialNumber` maxLength in POST /v1/agents/login


class TenantFileError(ValueError):
    """A tenant file that cannot be used; the message names the file and the offending field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid tenant file {path}:\n{lines}")


def _as_text(value: object) -> object:
    """YAML reads `1001` as an int; extensions and numbers are strings, so accept the unquoted form."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _e164(number: str) -> str:
    if not _E164.fullmatch(number):
        raise ValueError(f"{number!r} is not an E.164 number (+ and 7 to 15 digits)")
    return number


def _extension(extension: str) -> str:
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"{extension!r} is not 2 to 15 digits")
    return extension


Text = Annotated[str, BeforeValidator(_as_text)]
E164Number = Annotated[str, BeforeValidator(_as_text), AfterValidator(_e164)]
Extension = Annotated[str, BeforeValidator(_as_text), AfterValidator(_extension)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LoginVoiceOption(StrEnum):
    AGENT_DN = "AGENT_DN"
    EXTENSION = "EXTENSION"
    BROWSER = "BROWSER"


class WorkTypeCode(StrEnum):
    IDLE_CODE = "IDLE_CODE"
    WRAP_UP_CODE = "WRAP_UP_CODE"


class TeamType(StrEnum):
    AGENT = "AGENT"
    CAPACITY = "CAPACITY"


class TeamStatus(StrEnum):
    IN_SERVICE = "IN_SERVICE"
    NOT_AVAILABLE = "NOT_AVAILABLE"


class Access(StrEnum):
    """The profile's `accessIdleCode`: which idle codes the agent may pick."""

    ALL = "ALL"
    SPECIFIC = "SPECIFIC"


class AllowedRoles(StrEnum):
    """Simulator-only: what the user's licences allow (the real API derives this elsewhere)."""

    SUPERVISOR = "supervisor"
    AGENT = "agent"
    BOTH = "both"

    @property
    def sign_in_roles(self) -> tuple[Role, ...]:
        """The roles offered at sign-in; a user allowed both picks Supervisor or Supervisor and Agent (S1)."""
        return {
            AllowedRoles.SUPERVISOR: (Role.SUPERVISOR,),
            AllowedRoles.AGENT: (Role.AGENT,),
            AllowedRoles.BOTH: (Role.SUPERVISOR, Role.SUPERVISOR_AGENT),
        }[self]


class Site(_Model):
    id: str
    name: str


class AuxiliaryCode(_Model):
    """`/v2/auxiliary-code`: idle codes (for the Idle state) and wrap-up codes."""

    id: str
    name: str
    work_type_code: WorkTypeCode = Field(alias="workTypeCode")
    default_code: bool = Field(default=False, alias="defaultCode")
    active: bool = True
    description: str = ""


class DialPlanConfig(_Model):
    """`/v2/dial-plan`: the numbers an agent may sign in with, as a regular expression."""

    id: str
    name: str
    regular_expression: str = Field(alias="regularExpression")
    prefix: str = ""
    stripped_chars: str = Field(default="", alias="strippedChars")
    active: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _regex_compiles(self) -> Self:
        try:
            re.compile(self.regular_expression)
        except re.error as error:
            raise ValueError(f"regularExpression {self.regular_expression!r} is not valid: {error}") from None
        return self

    def to_port(self) -> DialPlan:
        return DialPlan(
            name=self.name,
            regular_expression=self.regular_expression,
            prefix=self.prefix,
            stripped_chars=self.stripped_chars,
            active=self.active,
        )


class AgentProfile(_Model):
    """`/agent-profile/{id}` (the desktop profile): call options and dial-number rules."""

    id: str
    name: str
    description: str = ""
    login_voice_options: tuple[LoginVoiceOption, ...] = Field(default=(), alias="loginVoiceOptions")
    agent_dn_validation: DNValidation = Field(default=DNValidation.ALL, alias="agentDNValidation")
    agent_dn_validation_criterions: tuple[str, ...] = Field(default=(), alias="agentDNValidationCriterions")
    dial_plan_enabled: bool = Field(default=False, alias="dialPlanEnabled")
    dial_plans: tuple[str, ...] = Field(default=(), alias="dialPlans")  # dial-plan ids (or names)
    access_idle_code: Access = Field(default=Access.ALL, alias="accessIdleCode")
    idle_codes: tuple[str, ...] = Field(default=(), alias="idleCodes")  # ids, for accessIdleCode SPECIFIC

    @model_validator(mode="after")
    def _criteria_usable(self) -> Self:
        if len(set(self.login_voice_options)) != len(self.login_voice_options):
            raise ValueError("loginVoiceOptions lists an option twice")
        if self.agent_dn_validation is DNValidation.SPECIFIC and not self.agent_dn_validation_criterions:
            raise ValueError("agentDNValidation SPECIFIC needs agentDNValidationCriterions entries")
        for expression in self.agent_dn_validation_criterions:
            try:
                re.compile(expression)
            except re.error as error:
                raise ValueError(f"agentDNValidationCriterions {expression!r}: {error}") from None
        return self

    @property
    def call_options(self) -> tuple[CallPreference, ...]:
        return tuple(CallPreference.from_device_type(option.value) for option in self.login_voice_options)


class TeamConfig(_Model):
    """`/v2/team`."""

    id: str = Field(max_length=36)
    name: str
    team_type: TeamType = Field(default=TeamType.AGENT, alias="teamType")
    team_status: TeamStatus = Field(default=TeamStatus.IN_SERVICE, alias="teamStatus")
    site_id: str = Field(default="", alias="siteId")
    user_ids: tuple[str, ...] = Field(default=(), alias="userIds")
    description: str = ""


class InitialSession(_Model):
    """Simulator-only: a station session already open when the simulator starts (or is reset)."""

    role: Role
    device_type: LoginVoiceOption = Field(alias="deviceType")
    dial_number: Text = Field(default="", alias="dialNumber")
    team_id: str | None = Field(default=None, alias="teamId")
    state: Availability = Availability.IDLE
    idle_code: str | None = Field(default=None, alias="idleCode")
    in_interaction: bool = Field(default=False, alias="inInteraction")
    in_wrap_up: bool = Field(default=False, alias="inWrapUp")

    @property
    def call_preference(self) -> CallPreference:
        return CallPreference.from_device_type(self.device_type.value)


class TeamsAuthStatus(StrEnum):
    """Simulator-only: the user's Microsoft Teams authentication status, as the desktop's profile
    settings show it under "Collaboration tools - Microsoft Teams" (T6)."""

    SUCCESS = "Success"
    FAILED = "Failed"
    PENDING = "Pending"


class SimulatorUserFields(_Model):
    """Simulator-only facts about a user that the real configuration API does not expose this way."""

    allowed_roles: AllowedRoles = Field(alias="allowedRoles")
    display_name: str | None = Field(default=None, alias="displayName")
    extensions: tuple[Extension, ...] = ()
    dial_numbers: tuple[E164Number, ...] = Field(default=(), alias="dialNumbers")
    language: str | None = None
    default_region: str = Field(default="US", alias="defaultRegion", pattern=r"^[A-Z]{2}$")
    admin: bool = False
    skills: tuple[str, ...] = ()
    session: InitialSession | None = None
    # T6: None means the tenant reports no Microsoft Teams authentication for this user.
    teams_auth_status: TeamsAuthStatus | None = Field(default=None, alias="teamsAuthStatus")


class UserConfig(_Model):
    """`/v2/user/by-ci-user-id/{id}`, plus the `simulator:` block."""

    ci_user_id: str = Field(alias="ciUserId")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    first_name: str = Field(default="", alias="firstName")
    last_name: str = Field(default="", alias="lastName")
    contact_center_enabled: bool = Field(default=True, alias="contactCenterEnabled")
    agent_profile_id: str = Field(alias="agentProfileId")
    site_id: str = Field(default="", alias="siteId")
    team_ids: tuple[str, ...] = Field(default=(), alias="teamIds")
    deafult_dialled_number: Text | None = Field(
        default=None, alias="deafultDialledNumber", max_length=_MAX_DIAL_NUMBER
    )
    simulator: SimulatorUserFields

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return self.simulator.display_name or full or self.email


class Tenant(_Model):
    """A whole simulated organization, cross-checked at load time."""

    organization_id: str = Field(default="demo-org", alias="organizationId")
    name: str = ""
    sites: tuple[Site, ...] = ()
    auxiliary_codes: tuple[AuxiliaryCode, ...] = Field(default=(), alias="auxiliaryCodes")
    dial_plans: tuple[DialPlanConfig, ...] = Field(default=(), alias="dialPlans")
    agent_profiles: tuple[AgentProfile, ...] = Field(alias="agentProfiles")
    teams: tuple[TeamConfig, ...] = ()
    users: tuple[UserConfig, ...]

    # -- cross-reference checks -------------------------------------------------------------------

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        problems = list(self._problems())
        if problems:
            raise ValueError("\n".join(problems))  # one line per problem; load_tenant splits them
        return self

    def _problems(self) -> Iterator[str]:
        for section, ids in (
            ("sites", [s.id for s in self.sites]),
            ("auxiliaryCodes", [c.id for c in self.auxiliary_codes]),
            ("dialPlans", [d.id for d in self.dial_plans]),
            ("agentProfiles", [p.id for p in self.agent_profiles]),
            ("teams", [t.id for t in self.teams]),
            ("users.ciUserId", [u.ci_user_id for u in self.users]),
            ("users.email", [u.email.lower() for u in self.users]),
        ):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                yield f"{section}: duplicate {', '.join(map(repr, duplicates))}"
        yield from self._profile_problems()
        for index, user in enumerate(self.users):
            yield from self._user_problems(f"users[{index}] ({user.email})", user)
        user_teams = {user.ci_user_id: set(user.team_ids) for user in self.users}
        for index, team in enumerate(self.teams):
            where = f"teams[{index}] ({team.name})"
            for user_id in team.user_ids:
                if user_id not in user_teams:
                    yield f"{where}.userIds: unknown user {user_id!r}"
                elif team.id not in user_teams[user_id]:
                    yield f"{where}.userIds: {user_id!r} does not list this team in its teamIds"

    def _profile_problems(self) -> Iterator[str]:
        idle_ids = {c.id for c in self.auxiliary_codes if c.work_type_code is WorkTypeCode.IDLE_CODE}
        for index, profile in enumerate(self.agent_profiles):
            where = f"agentProfiles[{index}] ({profile.id})"
            for ref in profile.dial_plans:
                if self._dial_plan(ref) is None:
                    yield f"{where}.dialPlans: unknown dial plan {ref!r}"
            for ref in profile.idle_codes:
                if ref not in idle_ids:
                    yield f"{where}.idleCodes: {ref!r} is not an IDLE_CODE auxiliary code"

    def _user_problems(self, where: str, user: UserConfig) -> Iterator[str]:
        profile = self.agent_profile(user.agent_profile_id)
        if profile is None:
            yield f"{where}.agentProfileId: unknown agent profile {user.agent_profile_id!r}"
        if self.sites and user.site_id and user.site_id not in {s.id for s in self.sites}:
            yield f"{where}.siteId: unknown site {user.site_id!r}"
        for team_id in user.team_ids:
            if self.team(team_id) is None:
                yield f"{where}.teamIds: unknown team {team_id!r}"
        if (
            profile is not None
            and profile.agent_dn_validation is DNValidation.PROVISIONED_VALUE
            and LoginVoiceOption.AGENT_DN in profile.login_voice_options
            and not user.deafult_dialled_number
        ):
            yield f"{where}.deafultDialledNumber: required, the profile forces the provisioned value"
        session = user.simulator.session
        if session is not None:
            yield from self._session_problems(f"{where}.simulator.session", user, profile, session)

    def _session_problems(
        self, where: str, user: UserConfig, profile: AgentProfile | None, session: InitialSession
    ) -> Iterator[str]:
        if session.role not in user.simulator.allowed_roles.sign_in_roles:
            yield f"{where}.role: {session.role.value!r} is not allowed for this user"
        options = profile.login_voice_options if profile is not None else tuple(LoginVoiceOption)
        digital_only = not options and session.device_type is LoginVoiceOption.BROWSER
        if session.device_type not in options and not digital_only:
            yield f"{where}.deviceType: {session.device_type.value!r} is not in the loginVoiceOptions"
        if session.device_type is not LoginVoiceOption.BROWSER and not session.dial_number:
            yield f"{where}.dialNumber: required for deviceType {session.device_type.value}"
        if session.team_id is not None and session.team_id not in user.team_ids:
            yield f"{where}.teamId: {session.team_id!r} is not one of the user's teamIds"
        if session.role.needs_team and session.team_id is None:
            yield f"{where}.teamId: required for role {session.role.value!r}"
        if session.in_interaction and session.in_wrap_up:
            yield f"{where}: inInteraction and inWrapUp cannot both be true"

    # -- lookups ------------------------------------------------------------------------------------

    # The tenant is frozen, so its indexes are built once, at first use: the simulator serves a
    # 1,000-user storm, where a scan of every user at every request was most of its CPU.

    @cached_property
    def _users_by_email(self) -> dict[str, UserConfig]:
        found: dict[str, UserConfig] = {}
        for user in self.users:
            found.setdefault(user.email.lower(), user)
        return found

    @cached_property
    def _users_by_id(self) -> dict[str, UserConfig]:
        found: dict[str, UserConfig] = {}
        for user in self.users:
            found.setdefault(user.ci_user_id, user)
        return found

    @cached_property
    def _team_members(self) -> dict[str, tuple[str, ...]]:
        members: dict[str, list[str]] = {}
        for user in self.users:
            for team_id in user.team_ids:
                members.setdefault(team_id, []).append(user.ci_user_id)
        return {team_id: tuple(dict.fromkeys(ids)) for team_id, ids in members.items()}

    def user_by_email(self, email: str) -> UserConfig | None:
        return self._users_by_email.get(email.strip().lower())

    def user_by_id(self, ci_user_id: str) -> UserConfig | None:
        return self._users_by_id.get(ci_user_id)

    def team_members(self, team_id: str) -> tuple[str, ...]:
        """The ids of the users whose `teamIds` name the team, in the tenant's order."""
        return self._team_members.get(team_id, ())

    def agent_profile(self, profile_id: str) -> AgentProfile | None:
        return next((p for p in self.agent_profiles if p.id == profile_id), None)

    def team(self, team_id: str) -> TeamConfig | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def _dial_plan(self, ref: str) -> DialPlanConfig | None:
        """Profiles name dial plans by id here; the real API's examples use names, so accept both."""
        by_id = next((d for d in self.dial_plans if d.id == ref), None)
        return by_id or next((d for d in self.dial_plans if d.name == ref), None)

    def idle_codes_for(self, profile: AgentProfile) -> tuple[AuxiliaryCode, ...]:
        codes = [c for c in self.auxiliary_codes if c.work_type_code is WorkTypeCode.IDLE_CODE and c.active]
        if profile.access_idle_code is Access.SPECIFIC:
            codes = [c for c in codes if c.id in profile.idle_codes]
        return tuple(codes)

    def default_idle_code(self, profile: AgentProfile) -> AuxiliaryCode | None:
        """The code a fresh or Idle-without-reason session shows: the tenant's default, else the first."""
        codes = self.idle_codes_for(profile)
        return next((c for c in codes if c.default_code), codes[0] if codes else None)

    def profile_of(self, user: UserConfig) -> AgentProfile:
        profile = self.agent_profile(user.agent_profile_id)
        assert profile is not None, "checked at load time"
        return profile

    def user_profile(self, user: UserConfig) -> UserProfile:
        """The port's view of one user, as the real adapter assembles it from the configuration reads.

        Dial plans count only when the profile enables them (`dialPlanEnabled`): with none, the
        dial-plan rule accepts any number, as the real desktop does.
        """
        profile = self.profile_of(user)
        plans: tuple[DialPlan, ...] = ()
        if profile.dial_plan_enabled:
            resolved = (self._dial_plan(ref) for ref in profile.dial_plans)
            plans = tuple(plan.to_port() for plan in resolved if plan is not None)
        teams = tuple(Team(id=t.id, name=t.name) for t in map(self.team, user.team_ids) if t is not None)
        sim = user.simulator
        return UserProfile(
            user_id=user.ci_user_id,
            email=user.email,
            display_name=user.display_name,
            roles=sim.allowed_roles.sign_in_roles,
            call_options=profile.call_options,
            extensions=sim.extensions,
            dial_numbers=sim.dial_numbers,
            default_dn=user.deafult_dialled_number,
            dn_validation=profile.agent_dn_validation,
            dn_criteria=profile.agent_dn_validation_criterions,
            dial_plans=plans,
            teams=teams,
            idle_codes=tuple(IdleCode(id=c.id, name=c.name) for c in self.idle_codes_for(profile)),
            default_region=sim.default_region,
            language=sim.language,
            is_admin=sim.admin,
            contact_center_enabled=user.contact_center_enabled,
            site_id=user.site_id,
            skills=sim.skills,
        )


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """`('users', 2, 'simulator', 'dialNumbers', 0)` -> `users[2] (ava@x).simulator.dialNumbers[0]`."""
    text = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("email"), str):
                text += f" ({node['email']})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text or "(top level)"


def load_tenant(path: str | Path) -> Tenant:
    """Read and check a tenant file; raises `TenantFileError` that names the file and each bad field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TenantFileError(path, [f"cannot read the file: {error}"]) from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TenantFileError(path, [f"not valid YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise TenantFileError(path, ["the top level must be a mapping (organizationId, users, ...)"])
    try:
        return Tenant.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["loc"]:
                problems.append(f"{_location(tuple(item['loc']), data)}: {message}")
            else:
                problems.extend(message.splitlines())  # cross-reference problems name their own field
        raise TenantFileError(path, problems) from error
