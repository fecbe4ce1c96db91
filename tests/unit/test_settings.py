"""Each function's settings: what a bad environment says at cold start, and that each class reads
exactly the environment template.yaml gives its function."""

import pytest

from dbguard.composition.cmdb_sync import CmdbSyncSettings
from dbguard.composition.rotation_status import RotationStatusSettings
from dbguard.composition.settings import EnvSettings
from dbguard.composition.token_rotation import TokenRotationSettings
from dbguard.errors import ConfigurationError
from dbguard.rotation.status import StatusRules
from dbguard_local.cfn import Template, load_template
from dbguard_local.functions import function_specs

# What the template always gives cmdb_sync and token_rotation (its Globals), as a deployment would
SHARED = {
    "JUMPSERVER_URL": "https://jumpserver.example.com",
    "JUMPSERVER_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:jms",
    "REGISTRY_TABLE_NAME": "registry",
    "JUMPSERVER_PROXY_HOST": "jms-proxy.example.com",
    "ROTATION_FUNCTION_ARN": "arn:aws:lambda:eu-central-1:123456789012:function:dbguard-token-rotation",
}
MINIMAL = {
    CmdbSyncSettings: {**SHARED, "CMDB_DEAD_LETTER_QUEUE_URL": "https://sqs.example.com/dlq"},
    TokenRotationSettings: SHARED,
}
FUNCTIONS = {"CmdbSyncFunction": CmdbSyncSettings, "TokenRotationFunction": TokenRotationSettings}
NOT_SETTINGS = ("POWERTOOLS_", "PYDANTIC_", "DBGUARD_ENVIRONMENT")  # read by Powertools, pydantic, the logger


def aliases(settings_class: type[EnvSettings]) -> set[str]:
    return {field.alias for field in settings_class.model_fields.values() if field.alias}


@pytest.mark.parametrize(
    ("settings_class", "variable"),
    [(settings_class, variable) for settings_class, minimal in MINIMAL.items() for variable in minimal],
)
def test_a_missing_required_variable_is_named(settings_class, variable):
    environ = {name: value for name, value in MINIMAL[settings_class].items() if name != variable}
    with pytest.raises(
        ConfigurationError, match=rf"{settings_class.__name__}: invalid or missing: {variable}"
    ):
        settings_class.load(environ)


def test_every_missing_required_variable_is_named_at_once():
    with pytest.raises(ConfigurationError) as raised:
        CmdbSyncSettings.load({})
    assert all(variable in str(raised.value) for variable in MINIMAL[CmdbSyncSettings])


def test_an_empty_variable_counts_as_missing():
    with pytest.raises(ConfigurationError, match="REGISTRY_TABLE_NAME"):
        TokenRotationSettings.load({**SHARED, "REGISTRY_TABLE_NAME": ""})


def test_reads_typed_values_and_defaults():
    settings = TokenRotationSettings.load(
        {**SHARED, "ROTATION_CONCURRENCY": "4", "JUMPSERVER_PLATFORM_IDS": '{"PostgreSQL": 20}'}
    )
    assert settings.rotation_concurrency == 4
    assert settings.jumpserver_platform_ids == {"PostgreSQL": 20}
    assert settings.rotation_deadline_margin_seconds == 30
    assert settings.jumpserver_proxy_port is None


def test_the_engine_map_is_merged_over_the_built_in_engines_by_lower_case_name():
    engine_map = '{"Vertica": {"platform": "Vertica", "protocol": "vertica", "secretEngine": "vertica"}}'
    settings = CmdbSyncSettings.load({**MINIMAL[CmdbSyncSettings], "ENGINE_MAP": engine_map})
    assert settings.engines["vertica"].platform == "Vertica"
    assert settings.engines["qhb"].platform == "PostgreSQL"


@pytest.mark.parametrize(
    ("settings_class", "variable", "value"),
    [
        (TokenRotationSettings, "ROTATION_CONCURRENCY", "987654321"),
        (TokenRotationSettings, "JUMPSERVER_REQUESTS_PER_MINUTE", "987654321"),
        (CmdbSyncSettings, "SECRET_RECOVERY_WINDOW_DAYS", "987654321"),
        (CmdbSyncSettings, "ROTATION_LEASE_SECONDS", "987654321"),
    ],
)
def test_rejects_an_out_of_range_value_without_echoing_it(settings_class, variable, value):
    with pytest.raises(ConfigurationError) as raised:
        settings_class.load({**MINIMAL[settings_class], variable: value})
    assert variable in str(raised.value)
    assert value not in str(raised.value)


@pytest.mark.parametrize("settings_class", list(MINIMAL))
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://jumpserver.example.com", True),
        ("http://jumpserver.example.com", False),
        ("http://10.0.0.5:8080", False),
        ("http://127.0.0.1:8080", True),  # local development and tests
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
    ],
)
def test_a_plain_http_jumpserver_is_refused_unless_allowed(settings_class, url, allowed):
    environ = {**MINIMAL[settings_class], "JUMPSERVER_URL": url}
    if allowed:
        assert settings_class.load(environ).jumpserver_url == url
        return
    with pytest.raises(ConfigurationError, match=r"JUMPSERVER_URL uses http://.*AllowInsecureJumpServer"):
        settings_class.load(environ)
    permitted = {**environ, "ALLOW_INSECURE_JUMPSERVER": "true"}
    assert settings_class.load(permitted).jumpserver_url == url


# ------------------------------------------------------------------ the template's environments
@pytest.fixture(scope="module")
def template():
    parameters = {
        "JumpServerUrl": SHARED["JUMPSERVER_URL"],
        "JumpServerProxyHost": SHARED["JUMPSERVER_PROXY_HOST"],
    }
    deployed = Template(load_template(), parameters=parameters)
    for logical_id in deployed.resources:
        deployed.record(logical_id, f"{logical_id}-physical-id", Arn=f"arn:aws:local:{logical_id}")
    return deployed


@pytest.mark.parametrize(("logical_id", "settings_class"), FUNCTIONS.items())
def test_each_function_loads_its_settings_from_the_template_environment(template, logical_id, settings_class):
    settings = settings_class.load(function_specs(template)[logical_id].environment)  # required: all given
    assert settings.registry_table_name == "RegistryTable-physical-id"
    assert settings.rotation_lease_seconds == int(template.parameters["RotationTimeoutSeconds"])


@pytest.mark.parametrize(("logical_id", "settings_class"), FUNCTIONS.items())
def test_each_variable_the_template_gives_a_function_of_its_own_is_read(template, logical_id, settings_class):
    variables = template.resources[logical_id]["Properties"]["Environment"]["Variables"]
    own = {name for name in variables if not name.startswith(NOT_SETTINGS)}
    assert own - aliases(settings_class) == set()


def test_each_shared_variable_of_the_template_is_read_by_a_function():
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    shared = {name for name in variables if not name.startswith(NOT_SETTINGS)}
    assert shared
    assert shared - aliases(CmdbSyncSettings) - aliases(TokenRotationSettings) == set()


def test_the_rotation_status_reads_the_timing_the_template_gives_every_function(template):
    settings = RotationStatusSettings.load(function_specs(template)["RotationStatusFunction"].environment)
    assert settings.registry_table_name == "RegistryTable-physical-id"
    assert settings.rules() == StatusRules(window_seconds=604_800, schedule_seconds=3600)
    with pytest.raises(ConfigurationError, match="ROTATION_SCHEDULE"):
        RotationStatusSettings.load(
            {"REGISTRY_TABLE_NAME": "registry", "ROTATION_SCHEDULE": "cron(0 * * * ? *)"}
        )
