"""The configuration API's JSON (`cjp:config_read`), rendered from the tenant file.

Field names and envelopes follow Cisco's OpenAPI document: `UserResponseDTO...`,
`AgentProfileResponseDTO`, and `{meta, data}` listings for teams, dial plans and auxiliary codes,
with the paging meta of `MetaDataWithPagingInfo` (`page`, `pageSize`, `totalPages`,
`totalRecords`, `links`). The misspelled `deafultDialledNumber` is the real field name.

Simulator rules:

* Facts the real API has no place for (allowed roles, pre-validated extensions and dial numbers,
  language, default region, display name, admin flag, skills) are in the user object under one
  vendor-extension key, `loginbotSimulator` (`SIMULATOR_KEY`); real clients ignore unknown keys.
* The schemas require `organizationId`/`orgid` to be a UUID. A tenant whose `organizationId` is not
  one (the demo's `demo-org`) gets those fields left out rather than filled with an invalid value.
* Listings accept `page` (from 0), `pageSize` (default 100, capped at 1000), `search` (a keyword
  matched in `name` and `description`), `attributes` (a comma-separated list of fields to keep,
  `id` always kept) and `filter` in the RSQL subset `field==v`, `field!=v`, `field=in=(a,b)`,
  `field=out=(a,b)`, joined by `;` (and) and `,` (or); teams also accept `userId==<ciUserId>`.
  Anything else is refused with 400, where the real service would filter more.
* Every listing's `meta` is the paging meta above, including dial plans, although Cisco's
  `ResponseEnvelopeDialPlanDTO` types each `meta` value as an object (a schema-generator artifact).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from bot.backend.simulator.tenant import (
    AgentProfile,
    AllowedRoles,
    AuxiliaryCode,
    DialPlanConfig,
    TeamConfig,
    Tenant,
    UserConfig,
    WorkTypeCode,
)

SIMULATOR_KEY = "loginbotSimulator"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_CREATED = 1_700_000_000_000  # a fixed epoch-millis time: the tenant file has no history
_WORK_TYPE_IDS = {
    WorkTypeCode.IDLE_CODE: "work-type-idle-code",
    WorkTypeCode.WRAP_UP_CODE: "work-type-wrap-up",
}

Json = dict[str, Any]


class ListingError(ValueError):
    """A listing query the simulator cannot answer (400)."""


def _org(tenant: Tenant, key: str = "organizationId") -> Json:
    return {key: tenant.organization_id} if _UUID.match(tenant.organization_id) else {}


def _stamps() -> Json:
    return {"version": 1, "createdTime": _CREATED, "lastUpdatedTime": _CREATED}


def profile_type(user: UserConfig, *, agent: str) -> str:
    """The user's profile type: `agent` names an agent-only user's (the configuration API and the
    runtime messages spell it differently)."""
    if user.simulator.admin:
        return "ADMINISTRATOR"
    if user.simulator.allowed_roles is AllowedRoles.AGENT:
        return agent
    return "SUPERVISOR"


def user_json(tenant: Tenant, user: UserConfig) -> Json:
    """`GET /organization/{orgid}/v2/user/by-ci-user-id/{id}`."""
    sim = user.simulator
    site = next((s for s in tenant.sites if s.id == user.site_id), None)
    body: Json = {
        **_org(tenant),
        "id": user.ci_user_id,
        **_stamps(),
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "ciUserId": user.ci_user_id,
        "contactCenterEnabled": user.contact_center_enabled,
        "siteId": user.site_id,
        "siteName": site.name if site is not None else "",
        "teamIds": list(user.team_ids),
        "agentProfileId": user.agent_profile_id,
        "userProfileType": profile_type(user, agent="STANDARD_AGENT"),
        "active": True,
        "systemDefault": False,
    }
    if user.deafult_dialled_number:
        body["deafultDialledNumber"] = user.deafult_dialled_number
    body[SIMULATOR_KEY] = {
        "allowedRoles": sim.allowed_roles.value,
        "displayName": user.display_name,
        "extensions": list(sim.extensions),
        "dialNumbers": list(sim.dial_numbers),
        "language": sim.language,
        "defaultRegion": sim.default_region,
        "admin": sim.admin,
        "skills": list(sim.skills),
    }
    return body


def agent_profile_json(tenant: Tenant, profile: AgentProfile) -> Json:
    """`GET /organization/{orgid}/agent-profile/{id}` (`AgentProfileResponseDTO`)."""
    return {
        **_org(tenant),
        "id": profile.id,
        "version": 1,
        "name": profile.name,
        "description": profile.description,
        "parentType": "ORGANIZATION",
        "screenPopup": False,
        "lastAgentRouting": False,
        "autoWrapUp": False,
        "autoAnswer": False,
        "agentAvailableAfterOutdial": False,
        "allowAutoWrapUpExtension": False,
        "accessWrapUpCode": "ALL",
        "wrapUpCodes": [],
        "accessIdleCode": profile.access_idle_code.value,
        "idleCodes": list(profile.idle_codes),
        "accessQueue": "ALL",
        "queues": [],
        "accessEntryPoint": "ALL",
        "entryPoints": [],
        "accessBuddyTeam": "ALL",
        "buddyTeams": [],
        "consultToQueue": False,
        "outdialEnabled": False,
        "dialPlanEnabled": profile.dial_plan_enabled,
        "dialPlans": list(profile.dial_plans),
        "agentDNValidation": profile.agent_dn_validation.value,
        "agentDNValidationCriterions": list(profile.agent_dn_validation_criterions),
        "loginVoiceOptions": [option.value for option in profile.login_voice_options],
        "active": True,
        "systemDefault": False,
        "createdTime": _CREATED,
        "lastUpdatedTime": _CREATED,
    }


def team_json(tenant: Tenant, team: TeamConfig) -> Json:
    """One `TeamResponseDTO`; `userIds` lists every user whose `teamIds` names the team."""
    site = next((s for s in tenant.sites if s.id == team.site_id), None)
    return {
        **_org(tenant),
        "id": team.id,
        **_stamps(),
        "name": team.name,
        "teamType": team.team_type.value,
        "teamStatus": team.team_status.value,
        "active": True,
        "siteId": team.site_id,
        "siteName": site.name if site is not None else "",
        "userIds": list(tenant.team_members(team.id)),
        "description": team.description,
        "systemDefault": False,
        "rankQueuesForTeam": False,
    }


def dial_plan_json(tenant: Tenant, plan: DialPlanConfig) -> Json:
    """One `DialPlanDTO`."""
    return {
        **_org(tenant),
        "id": plan.id,
        **_stamps(),
        "name": plan.name,
        "description": plan.description,
        "regularExpression": plan.regular_expression,
        "prefix": plan.prefix,
        "strippedChars": plan.stripped_chars,
        "active": plan.active,
        "systemDefault": False,
    }


def auxiliary_code_json(tenant: Tenant, code: AuxiliaryCode) -> Json:
    """One `AuxiliaryCodeDTO` (its required `workTypeId` is a fixed id per work type)."""
    return {
        **_org(tenant),
        "id": code.id,
        **_stamps(),
        "name": code.name,
        "description": code.description,
        "defaultCode": code.default_code,
        "active": code.active,
        "isSystemCode": False,
        "workTypeId": _WORK_TYPE_IDS[code.work_type_code],
        "workTypeCode": code.work_type_code.value,
        "systemDefault": False,
    }


# -- listings ------------------------------------------------------------------------------------


def listing(
    tenant: Tenant,
    path: str,
    items: Iterable[Json],
    query: Mapping[str, str],
    *,
    extra_fields: Mapping[str, Callable[[Json, str], bool]] | None = None,
) -> Json:
    """A `{meta, data}` page of `items` after `filter`, `search` and `attributes`."""
    page = _integer(query.get("page"), "page", 0)
    size = min(_integer(query.get("pageSize"), "pageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    if page < 0 or size < 1:
        raise ListingError("page must be >= 0 and pageSize >= 1")
    selected = list(items)
    if query.get("filter"):
        test = parse_filter(query["filter"], extra_fields or {})
        selected = [item for item in selected if test(item)]
    if query.get("search"):
        word = query["search"].strip().strip('"').lower()
        selected = [
            item
            for item in selected
            if word in str(item.get("name", "")).lower() or word in str(item.get("description", "")).lower()
        ]
    if query.get("attributes"):
        keep = {name.strip() for name in query["attributes"].split(",") if name.strip()} | {"id"}
        selected = [{k: v for k, v in item.items() if k in keep} for item in selected]
    total = len(selected)
    pages = max(1, math.ceil(total / size))
    data = selected[page * size : (page + 1) * size]

    def link(number: int) -> str:
        params = {k: v for k, v in query.items() if k not in ("page", "pageSize")}
        return f"{path}?{urlencode({**params, 'page': number, 'pageSize': size})}"

    links = {"self": link(page), "first": link(0), "last": link(pages - 1)}
    if page + 1 < pages:
        links["next"] = link(page + 1)
    if page > 0:
        links["prev"] = link(min(page - 1, pages - 1))
    meta: Json = {
        **_org(tenant, "orgid"),
        "page": page,
        "pageSize": size,
        "totalPages": pages,
        "totalRecords": total,
        "links": links,
    }
    return {"meta": meta, "data": data}


def _integer(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ListingError(f"{name} must be an integer") from None


# -- the RSQL subset -------------------------------------------------------------------------------

Test = Callable[[Json], bool]
_COMPARISON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|=in=|=out=)\s*(.+?)\s*$", re.S)


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes and brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote or depth:
        raise ListingError("unbalanced quotes or brackets in filter")
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_filter(text: str, extra_fields: Mapping[str, Callable[[Json, str], bool]]) -> Test:
    """`a==1;b=in=(x,y),c!=z` as a predicate: `;` binds tighter than `,`, as in RSQL."""
    alternatives = [
        [_comparison(term, extra_fields) for term in _split(group, ";")] for group in _split(text, ",")
    ]

    def test(item: Json) -> bool:
        return any(all(term(item) for term in terms) for terms in alternatives)

    return test


def _comparison(term: str, extra_fields: Mapping[str, Callable[[Json, str], bool]]) -> Test:
    match = _COMPARISON.match(term)
    if match is None:
        raise ListingError(f"unsupported filter term {term.strip()!r}")
    name, operator, raw = match.groups()
    if operator in ("=in=", "=out="):
        if not (raw.startswith("(") and raw.endswith(")")):
            raise ListingError(f"{operator} needs a bracketed list")
        values = {_unquote(v) for v in _split(raw[1:-1], ",") if v.strip()}
    else:
        values = {_unquote(raw)}
    special = extra_fields.get(name)

    def matches(item: Json) -> bool:
        if special is not None:
            return any(special(item, value) for value in values)
        return _text(item.get(name)) in values

    if operator in ("==", "=in="):
        return matches
    return lambda item: not matches(item)
