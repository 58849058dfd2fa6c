"""A generated simulator tenant: `count` agents who may sign in as supervisor and agent, each with two
extensions of their own and four teams, so that every sign-in asks role, call option, extension,
team and "don't show again" before the summary (a few steps, as the storm wants)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ORG_ID = "bench-org"
TEAMS = (
    ("t-billing", "Billing"),
    ("t-sales-emea", "Sales EMEA"),
    ("t-retention", "Retention"),
    ("t-tech-support", "Technical Support"),
    ("t-customer-care", "Customer Care"),
    ("t-onboarding", "Onboarding"),
)
FIRST_EXTENSION = 10_000


@dataclass(frozen=True)
class BenchUser:
    index: int
    email: str
    slack_id: str
    extensions: tuple[str, str]
    team_ids: tuple[str, ...]

    @property
    def team_id(self) -> str:
        """The team this user picks: the third of their four (never the first, to make it a choice)."""
        return self.team_ids[2]

    @property
    def team_name(self) -> str:
        return dict(TEAMS)[self.team_id]

    @property
    def extension(self) -> str:
        """The extension this user picks: the second of their two."""
        return self.extensions[1]


def bench_users(count: int) -> list[BenchUser]:
    users = []
    for i in range(count):
        teams = tuple(TEAMS[(i + k) % len(TEAMS)][0] for k in range(4))
        first = FIRST_EXTENSION + 2 * i
        users.append(
            BenchUser(
                index=i,
                email=f"bench.user{i:05d}@example.com",
                slack_id=f"UBENCH{i:05d}",
                extensions=(str(first), str(first + 1)),
                team_ids=teams,
            )
        )
    return users


def tenant_document(users: list[BenchUser]) -> dict[str, Any]:
    return {
        "organizationId": ORG_ID,
        "name": "loginbot benchmark tenant",
        "sites": [{"id": "site-1", "name": "Bench"}],
        "auxiliaryCodes": [
            {"id": "aux-break", "name": "Break", "workTypeCode": "IDLE_CODE", "defaultCode": True},
            {"id": "wrap-done", "name": "Done", "workTypeCode": "WRAP_UP_CODE", "defaultCode": True},
        ],
        "dialPlans": [
            {
                "id": "dp-us",
                "name": "US",
                "regularExpression": r"\+1[2-9]\d{2}[2-9]\d{6}",
                "strippedChars": " ()-.",
                "active": True,
            }
        ],
        "agentProfiles": [
            {
                "id": "ap-bench",
                "name": "Bench - every call option",
                "loginVoiceOptions": ["BROWSER", "EXTENSION", "AGENT_DN"],
                "agentDNValidation": "ALL",
                "dialPlanEnabled": True,
                "dialPlans": ["dp-us"],
            }
        ],
        "teams": [{"id": tid, "name": name, "siteId": "site-1"} for tid, name in TEAMS],
        "users": [
            {
                "ciUserId": f"ci-bench-{u.index:05d}",
                "email": u.email,
                "firstName": "Bench",
                "lastName": f"User{u.index:05d}",
                "agentProfileId": "ap-bench",
                "siteId": "site-1",
                "teamIds": list(u.team_ids),
                "simulator": {
                    "allowedRoles": "both",
                    "extensions": list(u.extensions),
                    "language": "en",
                },
            }
            for u in users
        ],
    }


def write_tenant(path: Path, users: list[BenchUser]) -> Path:
    path.write_text(yaml.safe_dump(tenant_document(users), sort_keys=False))
    return path
