"""The tenant file: the shipped demo loads, and every kind of mistake is reported with the file and
the field, never as a traceback deep inside the simulator."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.backend.port import DNValidation
from bot.backend.simulator import DEMO_TENANT_FILE, TenantFileError, load_tenant
from bot.backend.simulator.tenant import Tenant

Document = dict[str, Any]
SAM_AT = "users[0] (sam.supervisor@example.com)"


@pytest.fixture(scope="module")
def demo_document() -> Document:
    loaded: Document = yaml.safe_load(DEMO_TENANT_FILE.read_text(encoding="utf-8"))
    return loaded


def write(tmp_path: Path, document: Document) -> Path:
    path = tmp_path / "tenant.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def user(document: Document, email: str) -> Document:
    found: Document = next(u for u in document["users"] if u["email"] == email)
    return found


def test_the_demo_tenant_ships_inside_the_package() -> None:
    assert DEMO_TENANT_FILE.name == "demo_tenant.yml"
    assert DEMO_TENANT_FILE.parent.name == "simulator" and DEMO_TENANT_FILE.is_file()


def test_the_demo_tenant_has_the_documented_users(demo_tenant: Tenant) -> None:
    emails = {u.email for u in demo_tenant.users}
    assert {
        "sam.supervisor@example.com",
        "ava.lead@example.com",
        "alex.agent@example.com",
        "dana.digital@example.com",
        "pat.provisioned@example.com",
        "ines.martin@example.com",
        "busy.agent@example.com",
        "root.admin@example.com",
    } <= emails
    busy = demo_tenant.user_by_email("busy.agent@example.com")
    assert busy is not None and busy.simulator.session is not None
    assert busy.simulator.session.dial_number == "+14155550123"


def test_a_round_trip_of_the_demo_document_loads(tmp_path: Path, demo_document: Document) -> None:
    assert load_tenant(write(tmp_path, demo_document)) == load_tenant(DEMO_TENANT_FILE)


def test_unquoted_extensions_and_numbers_are_read_as_text(tmp_path: Path, demo_document: Document) -> None:
    document = copy.deepcopy(demo_document)
    user(document, "alex.agent@example.com")["simulator"]["extensions"] = [2001]
    tenant = load_tenant(write(tmp_path, document))
    alex = tenant.user_by_email("alex.agent@example.com")
    assert alex is not None and alex.simulator.extensions == ("2001",)


def test_dial_plans_count_only_when_the_profile_enables_them(tmp_path: Path, demo_document: Document) -> None:
    document = copy.deepcopy(demo_document)
    next(p for p in document["agentProfiles"] if p["id"] == "ap-all-options")["dialPlanEnabled"] = False
    tenant = load_tenant(write(tmp_path, document))
    ava = tenant.user_by_email("ava.lead@example.com")
    assert ava is not None and tenant.user_profile(ava).dial_plans == ()


def test_profiles_may_name_dial_plans_by_name_as_the_real_api_does(
    tmp_path: Path, demo_document: Document
) -> None:
    document = copy.deepcopy(demo_document)
    next(p for p in document["agentProfiles"] if p["id"] == "ap-provisioned")["dialPlans"] = ["US"]
    tenant = load_tenant(write(tmp_path, document))
    pat = tenant.user_by_email("pat.provisioned@example.com")
    assert pat is not None
    profile = tenant.user_profile(pat)
    assert [plan.name for plan in profile.dial_plans] == ["US"]
    assert profile.dn_validation is DNValidation.PROVISIONED_VALUE


def _set(path: list[Any], value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _sam(key: str, value: Any) -> Callable[[Document], None]:
    return lambda d: user(d, "sam.supervisor@example.com").__setitem__(key, value)


def _sam_sim(key: str, value: Any) -> Callable[[Document], None]:
    return lambda d: user(d, "sam.supervisor@example.com")["simulator"].__setitem__(key, value)


def _busy_session(key: str, value: Any) -> Callable[[Document], None]:
    return lambda d: user(d, "busy.agent@example.com")["simulator"]["session"].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _sam("defaultDialledNumber", "+14155550110"),
            SAM_AT + ".defaultDialledNumber: Extra inputs are not permitted",
            id="correct-spelling-is-not-the-real-field",
        ),
        pytest.param(
            _sam("agentProfileId", "ap-missing"),
            SAM_AT + ".agentProfileId: unknown agent profile 'ap-missing'",
            id="unknown-profile",
        ),
        pytest.param(
            _sam("teamIds", ["t-nowhere"]), SAM_AT + ".teamIds: unknown team 't-nowhere'", id="unknown-team"
        ),
        pytest.param(
            _sam("siteId", "site-moon"), SAM_AT + ".siteId: unknown site 'site-moon'", id="unknown-site"
        ),
        pytest.param(
            _sam("email", "not-an-email"),
            "users[0] (not-an-email).email: String should match",
            id="bad-email",
        ),
        pytest.param(
            _sam_sim("allowedRoles", "janitor"),
            SAM_AT + ".simulator.allowedRoles: Input should be",
            id="bad-role",
        ),
        pytest.param(
            _sam_sim("dialNumbers", ["4155550110"]),
            SAM_AT + ".simulator.dialNumbers[0]: '4155550110' is not an E.164",
            id="number-not-e164",
        ),
        pytest.param(_sam_sim("defaultRegion", "usa"), SAM_AT + ".simulator.defaultRegion", id="bad-region"),
        pytest.param(
            lambda d: d["users"][0].pop("simulator"),
            SAM_AT + ".simulator: Field required",
            id="missing-block",
        ),
        pytest.param(
            lambda d: d["users"].append(
                copy.deepcopy(d["users"][0]) | {"ciUserId": "x", "email": "SAM.supervisor@example.com"}
            ),
            "users.email: duplicate 'sam.supervisor@example.com'",
            id="duplicate-email",
        ),
        pytest.param(
            _set(["agentProfiles", 0, "loginVoiceOptions"], ["PHONE"]),
            "agentProfiles[0].loginVoiceOptions[0]: Input should be 'AGENT_DN', 'EXTENSION' or",
            id="bad-voice-option",
        ),
        pytest.param(
            _set(["agentProfiles", 0, "agentDNValidation"], "SPECIFIC"),
            "agentProfiles[0]: agentDNValidation SPECIFIC needs agentDNValidationCriterions",
            id="specific-without-criteria",
        ),
        pytest.param(
            _set(["agentProfiles", 0, "dialPlans"], ["dp-mars"]),
            "agentProfiles[0] (ap-supervisor).dialPlans: unknown dial plan 'dp-mars'",
            id="unknown-dial-plan",
        ),
        pytest.param(
            _set(["dialPlans", 0, "regularExpression"], "+1("),
            "dialPlans[0]: regularExpression '+1(' is not valid",
            id="bad-regex",
        ),
        pytest.param(
            _set(["auxiliaryCodes", 0, "workTypeCode"], "LUNCH_CODE"),
            "auxiliaryCodes[0].workTypeCode: Input should be 'IDLE_CODE' or 'WRAP_UP_CODE'",
            id="bad-work-type",
        ),
        pytest.param(
            lambda d: user(d, "pat.provisioned@example.com").pop("deafultDialledNumber"),
            "(pat.provisioned@example.com).deafultDialledNumber: required, the profile forces",
            id="provisioned-without-default",
        ),
        pytest.param(
            _busy_session("teamId", "t-billing"),
            "(busy.agent@example.com).simulator.session.teamId: 't-billing' is not one of",
            id="session-team-not-assigned",
        ),
        pytest.param(
            _busy_session("deviceType", "EXTENSION"),
            "(busy.agent@example.com).simulator.session.deviceType: 'EXTENSION' is not in",
            id="session-device-not-allowed",
        ),
        pytest.param(
            _busy_session("inWrapUp", True),
            "(busy.agent@example.com).simulator.session: inInteraction and inWrapUp",
            id="both-flags",
        ),
        pytest.param(
            _set(["teams", 0, "userIds"], ["ci-sam-supervisor"]),
            "teams[0] (Billing).userIds: 'ci-sam-supervisor' does not list this team",
            id="team-members-disagree",
        ),
        pytest.param(lambda d: d.pop("users"), "users: Field required", id="no-users"),
    ],
)
def test_mistakes_name_the_file_and_the_field(
    tmp_path: Path, demo_document: Document, change: Callable[[Document], None], expected: str
) -> None:
    document = copy.deepcopy(demo_document)
    change(document)
    path = write(tmp_path, document)
    with pytest.raises(TenantFileError) as caught:
        load_tenant(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message, message
    assert caught.value.path == path


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path, demo_document: Document) -> None:
    document = copy.deepcopy(demo_document)
    _sam("agentProfileId", "ap-missing")(document)
    _sam("teamIds", ["t-nowhere"])(document)
    with pytest.raises(TenantFileError) as caught:
        load_tenant(write(tmp_path, document))
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("users: [\n  - email: ", "not valid YAML", id="yaml-syntax"),
        pytest.param("- just\n- a list\n", "the top level must be a mapping", id="list"),
        pytest.param("", "the top level must be a mapping", id="empty"),
    ],
)
def test_unreadable_documents(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "tenant.yml"
    path.write_text(content)
    with pytest.raises(TenantFileError) as caught:
        load_tenant(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TenantFileError) as caught:
        load_tenant(tmp_path / "absent.yml")
    assert "cannot read the file" in str(caught.value)
