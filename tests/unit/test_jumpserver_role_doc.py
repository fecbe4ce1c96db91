"""docs/jumpserver.md's role table against what dbguard's JumpServer adapter calls: each endpoint's
permission, as JumpServer checks it (v3.10.23 and v4.10.16, sources cited), is in the table, so a
new call cannot go undocumented and the service user's role is never short of one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "layers" / "common" / "dbguard" / "adapters" / "jumpserver"
DOC = (ROOT / "docs" / "jumpserver.md").read_text()
ROLE_SECTION = DOC.split("## 1. The service user", 1)[1].split("\n## 2.", 1)[0]

# endpoint -> the permissions of the organisation role it needs (RBAC's action -> perm mapping, or the
# view's rbac_perms), or what stands in for them
NEEDS = {
    "/api/v1/assets/platforms/": {"assets.view_platform"},
    "/api/v1/assets/nodes/": {"assets.view_node", "assets.add_node"},
    "/api/v1/assets/databases/": {"assets.view_asset", "assets.add_asset", "assets.change_asset"},
    "/api/v1/accounts/accounts/": {
        "accounts.view_account", "accounts.add_account", "accounts.change_account",
    },
    # AccountTemplateViewSet (apps/accounts/api/account/template.py): retrieve -> view_accounttemplate
    "/api/v1/accounts/account-templates/": {"accounts.view_accounttemplate"},
    "/api/v1/perms/asset-permissions/": {
        "perms.view_assetpermission", "perms.add_assetpermission", "perms.change_assetpermission",
    },
    # ConnectionTokenViewSet.rbac_perms; all four in rbac/builtin.py system_user_perms (role "User")
    "/api/v1/authentication/connection-token/": "User system role",
    # AdminConnectionTokenViewSet.check_permissions: is_superuser only (v4.10.16)
    "/api/v1/authentication/admin-connection-token/": "superuser",
    # any authenticated user: the caller's own profile, public settings, directories, connect methods
    "/api/v1/users/profile/": None,
    "/api/v1/settings/public/": None,
    "/api/v1/assets/directories/": None,
    "/api/v1/terminal/components/connect-methods/": None,
}  # fmt: skip


def called_endpoints() -> set[str]:
    found = set()
    for path in ADAPTER.rglob("*.py"):
        for literal in re.findall(r'"(/api/v1/[^"?{]*)', path.read_text()):
            found.add(literal)
    return found


def test_every_endpoint_the_adapter_calls_is_known_here():
    unknown = {path for path in called_endpoints() if not any(path.startswith(known) for known in NEEDS)}
    assert unknown == set(), "add their permissions to NEEDS and docs/jumpserver.md's role table"


def test_the_role_table_lists_each_permission_the_calls_need():
    needed = set().union(*(perms for perms in NEEDS.values() if isinstance(perms, set)))
    missing = sorted(perm for perm in needed if f"`{perm}`" not in ROLE_SECTION)
    assert missing == []


def test_the_table_says_what_replaces_a_permission():
    flat = " ".join(ROLE_SECTION.split())
    assert "come with the built-in **User** system role" in flat
    assert "`('authentication', 'connectiontoken', 'add,view,reuse,expire', 'connectiontoken')`" in flat
    assert "the service user must be a **superuser**" in flat
    assert "`authentication.add_superconnectiontoken` neither suffices nor is needed" in flat
    assert "an administrator - even a superuser - who asks" in flat
    assert "gets **404**" in flat
    assert "make token-status DATABASE=<name> TOKEN_ID=<id>" in flat
