"""The simulator's in-memory JumpServer: platforms, nodes, assets, accounts, permissions, tokens.

Objects are rendered from templates extracted from real v3.10.23 / v4.10.16 responses
(templates.json, see scripts/extract_sim_templates.py), so every key and value type matches the
real servers; only the values are the simulator's own.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

TEMPLATES = json.loads((Path(__file__).with_name("templates.json")).read_text())
DEFAULT_ORG = "00000000-0000-0000-0000-000000000002"
SERVER_ZONE = timezone(timedelta(hours=8))  # the recorded servers ran in UTC+8
ONETIME_SECONDS = 300
REUSABLE_SECONDS = 30 * 86400

# accounts/const/account.py SecretType: value -> label
SECRET_TYPES = {
    "password": "Password",
    "ssh_key": "SSH key",
    "access_key": "Access key",
    "token": "Token",
    "api_key": "API key",
}

# name -> (id, protocol, hidden from the API). MySQL's and PostgreSQL's ids are the recorded servers'
# (tests/contract/recordings), MariaDB's the simulator's own; v3 open source hides PostgreSQL
# (apps/assets/const/database.py get_community_types)
PLATFORMS = {
    "v3": {
        "MySQL": (18, "mysql", False),
        "MariaDB": (19, "mariadb", False),
        "PostgreSQL": (20, "postgresql", True),
    },
    "v4": {
        "MySQL": (17, "mysql", False),
        "MariaDB": (18, "mariadb", False),
        "PostgreSQL": (19, "postgresql", False),
    },
}


def format_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, SERVER_ZONE).strftime("%Y/%m/%d %H:%M:%S %z")


@dataclass
class Node:
    id: str
    key: str
    value: str
    parent: Node | None

    @property
    def full_value(self) -> str:
        return f"{self.parent.full_value if self.parent else ''}/{self.value}"


@dataclass
class Account:
    id: str
    asset_id: str
    name: str
    username: str
    secret: str
    privileged: bool = False
    created: float = 0.0
    secret_type: str = "password"  # noqa: S105
    is_active: bool = True
    source: str = "local"  # "template" when made from an account template
    source_id: str | None = None


@dataclass
class AccountTemplate:
    """accounts/models/template.py AccountTemplate (a BaseAccount: name, username, secret...)."""

    id: str
    name: str
    username: str
    secret: str
    secret_type: str = "password"  # noqa: S105
    privileged: bool = False
    is_active: bool = True
    created: float = 0.0


@dataclass
class Asset:
    id: str
    name: str
    address: str
    platform: str
    db_name: str
    protocols: list[dict[str, Any]]
    node_ids: list[str]
    labels: list[str]
    is_active: bool = True
    comment: str = ""
    created: float = 0.0
    # JumpServer's date_updated is auto_now (apps/common/db/models.py BaseCreateUpdateModel, v3.10.23
    # and v4.10.16): the time of the last save, never before date_created
    updated: float = 0.0


@dataclass
class Permission:
    id: str
    name: str
    users: list[str]
    assets: list[str]
    nodes: list[str]
    accounts: list[str]  # account *usernames* and aliases (@ALL, @SPEC, ...), never account names
    protocols: list[str]
    is_active: bool = True
    created: float = 0.0
    date_start: float | None = None
    date_expired: float | None = None


@dataclass
class Token:
    id: str
    value: str
    user_id: str
    asset_id: str
    account: str  # as sent: a name on v3, a UUID on v4
    protocol: str
    connect_method: str
    is_reusable: bool
    created: float
    expires: float
    admin: bool = False  # an AdminConnectionToken (type "admin"), v4.8+


@dataclass
class User:
    id: str
    name: str
    username: str
    is_superuser: bool = True  # admin-connection-token is for superusers only


@dataclass
class State:
    version: str
    service_user: User
    reusable_allowed: bool = False  # CONNECTION_TOKEN_REUSABLE, off on a stock server (conf.py)
    xpack_license_valid: bool = False  # XPACK_LICENSE_IS_VALID: a community edition (settings/_xpack.py)
    magnus_enabled: bool = True  # TERMINAL_MAGNUS_ENABLED, on by default (conf.py)
    reusable_seconds: int = REUSABLE_SECONDS
    nodes: dict[str, Node] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    templates: dict[str, AccountTemplate] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # label id -> "name:value"
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        root = Node(str(uuid.uuid4()), "1", "Default" if self.version == "v3" else "DEFAULT", None)
        self.nodes[root.id] = root

    # ------------------------------------------------------------------ lookups
    @property
    def root(self) -> Node:
        return next(node for node in self.nodes.values() if node.parent is None)

    def platform(self, name: str) -> tuple[int, str, bool]:
        return PLATFORMS[self.version][name]

    def platform_by_id(self, platform_id: int) -> str | None:
        return next((name for name, spec in PLATFORMS[self.version].items() if spec[0] == platform_id), None)

    def ancestors(self, node_id: str) -> list[str]:
        chain, node = [], self.nodes.get(node_id)
        while node is not None:
            chain.append(node.id)
            node = node.parent
        return chain

    def ensure_path(self, full_value: str) -> Node:
        parts = [part for part in full_value.split("/") if part]
        if parts and parts[0] == self.root.value:
            parts = parts[1:]  # a path not starting at the root's value lands under the root
        node = self.root
        for part in parts:
            child = next((n for n in self.nodes.values() if n.parent is node and n.value == part), None)
            node = child if child is not None else self.add_child(node, part)
        return node

    def add_child(self, parent: Node, value: str) -> Node:
        siblings = sum(1 for n in self.nodes.values() if n.parent is parent)
        child = Node(str(uuid.uuid4()), f"{parent.key}:{siblings}", value, parent)
        self.nodes[child.id] = child
        return child

    # ------------------------------------------------------------------ tokens
    def label_id(self, label: str) -> str:
        """labels/models.py Label: get_or_create by (name, value); the id is stable here."""
        label_id = str(uuid.uuid5(uuid.NAMESPACE_OID, label))
        self.labels.setdefault(label_id, label)
        return label_id

    def new_token(
        self,
        asset_id: str,
        account: str,
        protocol: str,
        method: str,
        reusable: bool,
        now: float,
        admin: bool = False,
    ) -> Token:
        token = Token(
            id=str(uuid.uuid4()),
            value=secrets.token_urlsafe(12)[:16],
            user_id=self.service_user.id,
            asset_id=asset_id,
            account=account,
            protocol=protocol,
            connect_method=method,
            is_reusable=reusable,
            created=now,
            expires=now + ONETIME_SECONDS,  # even when created reusable (the reuse call extends it)
            admin=admin,
        )
        self.tokens[token.id] = token
        return token

    def live_token(self, token_id: str, now: float) -> Token | None:
        token = self.tokens.get(token_id)
        return token if token is not None and token.expires > now else None

    # ------------------------------------------------------------------ rendering
    def render(self, kind: str, **values: Any) -> dict[str, Any]:
        body = copy.deepcopy(TEMPLATES[self.version]["objects"][kind])
        body.update({key: value for key, value in values.items() if key in body})  # fields differ by version
        if "org_id" in body:
            body["org_id"], body["org_name"] = DEFAULT_ORG, self.root.value
        return body

    def render_node(self, node: Node) -> dict[str, Any]:
        return self.render(
            "node", id=node.id, key=node.key, value=node.value, name=node.value, full_value=node.full_value
        )

    def render_asset(self, asset: Asset) -> dict[str, Any]:
        platform_id, protocol, _ = self.platform(asset.platform)
        template = TEMPLATES[self.version]["objects"]["asset"]
        platform = {"id": platform_id, "name": asset.platform}
        if "type" in template["platform"]:
            platform["type"] = protocol
        body = self.render(
            "asset",
            id=asset.id,
            name=asset.name,
            address=asset.address,
            platform=platform,
            nodes=[{"id": nid, "name": self.nodes[nid].value} for nid in asset.node_ids],
            nodes_display=[self.nodes[nid].full_value for nid in asset.node_ids],
            labels=self._labels(asset.labels),
            protocols=copy.deepcopy(asset.protocols),
            db_name=asset.db_name,
            is_active=asset.is_active,
            date_created=format_date(asset.created),
            date_updated=format_date(max(asset.updated, asset.created)),
        )
        body["spec_info"] = {**body.get("spec_info", {}), "db_name": asset.db_name}
        if "accounts_amount" in body:
            body["accounts_amount"] = sum(1 for a in self.accounts.values() if a.asset_id == asset.id)
        return body

    def _labels(self, labels: list[str]) -> list[Any]:
        if self.version == "v3":
            return list(labels)
        rendered = []
        for label in labels:
            name, _, value = label.partition(":")
            rendered.append({"id": self.label_id(label), "name": name, "value": value, "color": ""})
        return rendered

    def render_account(self, account: Account) -> dict[str, Any]:
        body = self.render(
            "account",
            id=account.id,
            name=account.name,
            username=account.username,
            privileged=account.privileged,
            is_active=account.is_active,
            secret_type={"value": account.secret_type, "label": SECRET_TYPES.get(account.secret_type, "")},
            source={"value": account.source, "label": account.source.title()},
            source_id=account.source_id,
            date_created=format_date(account.created),
            date_updated=format_date(account.created),
        )
        asset = self.assets.get(account.asset_id)
        if asset is not None:
            body["asset"] = {**body["asset"], "id": asset.id, "name": asset.name, "address": asset.address}
        return body

    def render_token(self, token: Token, now: float) -> dict[str, Any]:
        asset = self.assets.get(token.asset_id)
        asset_name = asset.name if asset else ""
        return self.render(
            "token",
            id=token.id,
            value=token.value,
            user={"id": self.service_user.id, "name": self.service_user.name},
            asset={"id": token.asset_id, "name": asset_name} if asset else None,  # null once deleted
            account=token.account,
            protocol=token.protocol,
            connect_method=token.connect_method,
            is_reusable=token.is_reusable,
            is_expired=token.expires <= now,
            expire_time=max(int(token.expires - now), 0),
            date_created=format_date(token.created),
            date_updated=format_date(token.created),
            date_expired=format_date(token.expires),
            asset_display=f"{asset_name}({asset.address if asset else ''})",
        )

    def render_permission(self, permission: Permission) -> dict[str, Any]:
        return self.render(
            "permission",
            id=permission.id,
            name=permission.name,
            users=[{"id": user, "name": self.service_user.name} for user in permission.users],
            assets=[{"id": a, "name": self.assets[a].name} for a in permission.assets if a in self.assets],
            nodes=[{"id": n, "name": self.nodes[n].value} for n in permission.nodes if n in self.nodes],
            accounts=permission.accounts,
            protocols=permission.protocols,
            is_active=permission.is_active,
            users_amount=len(permission.users),
            assets_amount=len(permission.assets),
            nodes_amount=len(permission.nodes),
        )

    def render_template(self, template: AccountTemplate) -> dict[str, Any]:
        """accounts/serializers/account/template.py: v3 AccountTemplateSerializer, v4
        AccountDetailTemplateSerializer (+ spec_info); secret and passphrase are write-only."""
        body = {
            "id": template.id,
            "name": template.name,
            "username": template.username,
            "secret_type": {"value": template.secret_type, "label": SECRET_TYPES[template.secret_type]},
            "privileged": template.privileged,
            "is_active": template.is_active,
            "created_by": "Administrator",
            "date_created": format_date(template.created),
            "date_updated": format_date(template.created),
            "comment": "",
            "labels": [],
            "secret_strategy": {"value": "specific", "label": "Specific secret"},
            "password_rules": {},
            "auto_push": False,
            "push_params": {},
            "platforms": [],
            "su_from": None,
        }
        if self.version == "v4":
            body["spec_info"] = {}
        return body

    def render_user(self) -> dict[str, Any]:
        user = self.service_user
        return self.render("user", id=user.id, name=user.name, username=user.username)

    def render_platform(self, name: str, detail: bool = False) -> dict[str, Any]:
        platform_id, protocol, _ = self.platform(name)
        known = TEMPLATES[self.version]["platforms"]
        template = TEMPLATES[self.version]["platform_detail"] if detail else None
        body = copy.deepcopy(template or known.get(name) or known["MySQL"])
        body.update(id=platform_id, name=name)
        body["type"] = {"value": protocol, "label": name}
        for item in body.get("protocols", []):
            item["name"] = protocol
        return body
