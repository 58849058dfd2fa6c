"""Request bodies of the runtime API, checked as Cisco's OpenAPI document defines them, and the
API's error envelope.

The OpenAPI schemas (`NotificationRequest`, `LogInResourceRequest`, `LogOutResourceRequest`,
`StateResourceRequest`) state some limits only in their prose ("maximum length 43 characters"); the
simulator enforces those too, since the real service refuses longer values. Unknown properties are
ignored, as the real service's JSON binding does. Values of the wrong JSON type are refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

MAX_CLIENT_TYPE = 20
MAX_DIAL_NUMBER = 43
MAX_DEVICE_ID = 43
MAX_ID = 36  # teamId, agentId, auxCodeId
MAX_REASON = 128  # logoutReason, lastStateChangeReason


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class NotificationRequest(_Body):
    """`POST /v1/notification/subscribe`."""

    is_keep_alive_enabled: StrictBool = Field(default=False, alias="isKeepAliveEnabled")
    client_type: StrictStr = Field(default="DefaultClient", alias="clientType", max_length=MAX_CLIENT_TYPE)
    allow_multi_login: StrictBool = Field(default=False, alias="allowMultiLogin")
    force: StrictBool = False


class LogInResourceRequest(_Body):
    """`POST /v1/agents/login`: `dialNumber` and `roles` are required."""

    dial_number: StrictStr = Field(alias="dialNumber", max_length=MAX_DIAL_NUMBER)
    roles: list[StrictStr]
    team_id: StrictStr = Field(default="", alias="teamId", max_length=MAX_ID)
    is_extension: StrictBool = Field(default=False, alias="isExtension")
    device_type: StrictStr | None = Field(default=None, alias="deviceType")
    device_id: StrictStr | None = Field(default=None, alias="deviceId", max_length=MAX_DEVICE_ID)


class LogOutResourceRequest(_Body):
    """`PUT /v1/agents/logout`: `logoutReason` is required."""

    logout_reason: StrictStr = Field(alias="logoutReason", max_length=MAX_REASON)
    agent_id: StrictStr | None = Field(default=None, alias="agentId", max_length=MAX_ID)


class StateResourceRequest(_Body):
    """`PUT /v1/agents/session/state`: `state` and `auxCodeId` are required."""

    state: StrictStr
    aux_code_id: StrictStr = Field(alias="auxCodeId", max_length=MAX_ID)
    last_state_change_reason: StrictStr | None = Field(
        default=None, alias="lastStateChangeReason", max_length=MAX_REASON
    )
    agent_id: StrictStr | None = Field(default=None, alias="agentId", max_length=MAX_ID)


def problems(error: ValidationError) -> list[str]:
    """One readable line per schema violation, naming the JSON field."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "body"
        lines.append(f"{where}: {item['msg']}")
    return lines


def api_error(tracking_id: str, status: int, description: str) -> dict[str, Any]:
    """The API's error envelope (`ApiErrorResponse`): `{trackingId, error: {key, reason, message}}`."""
    return {
        "trackingId": tracking_id,
        "error": {
            "key": str(status),
            "reason": _REASONS.get(status, "Error"),
            "message": [{"description": description, "code": str(status)}],
        },
    }


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized, Token is Invalid",
    403: "Forbidden Request",
    404: "Resource not found or URI is invalid",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
