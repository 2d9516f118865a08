"""The profile schema (``platform_config.schema``) and what is generated from it: the committed
JSON Schemas and the configuration table of docs/configuration.md are current, its links work from
that page, the JSON Schema refuses what the reader refuses for one value alone, and each setting
says what a change does to an environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from platform_config import ProfileError, generated, load_profile, read_cdk_profiles
from platform_config.profile import addon_manifests
from platform_config.schema import BY_KEY, SETTINGS, Impact

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
BASE: dict[str, Any] = {"environment_name": "mwaa-test", "airflow_version": "3.3.1"}


def test_the_committed_schemas_and_configuration_table_are_current() -> None:
    outdated = [path.relative_to(ROOT).as_posix() for path in generated.stale(ROOT)]
    assert outdated == [], "not current: run python -m platform_config.generated"


def _docs_copy(destination: Path) -> Path:
    """The documentation pages of the repository, copied into ``destination``/docs."""
    for page in (ROOT / "docs").rglob("*.md"):
        target = destination / page.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.read_text())
    return destination / "docs"


def test_the_generator_writes_what_check_then_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A repository whose configuration table is out of date and which has no schemas yet.
    page = _docs_copy(tmp_path) / "configuration.md"
    page.write_text(page.read_text().replace("| `encryption` |", "| `encryption (old)` |"))
    assert generated.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "error: schemas/profile.schema.json is not current" in err
    assert "error: docs/configuration.md is not current" in err
    assert generated.main(["--root", str(tmp_path)]) == 0
    assert generated.main(["--check", "--root", str(tmp_path)]) == 0
    assert "| `encryption` |" in page.read_text()
    assert "`encryption (old)`" not in page.read_text()
    assert (tmp_path / "schemas" / "cdk.schema.json").is_file()


def test_a_configuration_page_without_the_markers_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "configuration.md").write_text("# no table here\n")
    with pytest.raises(ValueError, match=r"docs/configuration\.md: no '<!-- configuration:begin"):
        generated.generated(tmp_path)


def test_the_declarations_links_are_rewritten_to_work_from_the_page(tmp_path: Path) -> None:
    # Declarations write links from the repository's top folder: a path, or an anchor that names
    # a section of some page of docs/. The page itself wins, then a page titled so, then any.
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "ops.md").write_text("# Operations\n\n## Upgrades\n\n```sh\n# Not a heading\n```\n")
    (docs / "security.md").write_text("# Security\n\n## Upgrades\n")  # after ops.md by name
    (docs / "guides" / "zz.md").write_text("## Only here: `code` & more\n")
    page = docs / "configuration.md"
    text = (
        "# Configuration\n\n## Local\n\n"
        "[a](#upgrades) [b](#security) [c](#local) [d](#only-here-code--more) [e](#not-a-heading) "
        "[f](sample/) [g](docs/ops.md#upgrades) [h](https://example.com/x#y)\n"
    )
    relinked = generated.relinked(text, page=page, page_text=text, root=tmp_path)
    assert relinked.splitlines()[-1] == (
        "[a](ops.md#upgrades) [b](security.md) [c](#local) [d](guides/zz.md#only-here-code--more) "
        "[e](#not-a-heading) [f](../sample/) [g](ops.md#upgrades) [h](https://example.com/x#y)"
    )


def test_github_anchors_of_headings() -> None:
    page = (
        "# Change review: `make review`\n## Connections and variables (secrets backend)\n"
        '## A — B\n## Repeat\n## Repeat\n<a id="custom"></a>\n```\n## fenced\n```\n'
    )
    assert generated.anchors(page) == [
        "change-review-make-review",
        "connections-and-variables-secrets-backend",
        "a--b",
        "repeat",
        "repeat-1",
        "custom",
    ]


# --- the JSON Schema agrees with the reader -----------------------------------------------------


def _validator() -> jsonschema.Draft202012Validator:
    profile = json.loads((SCHEMAS / "profile.schema.json").read_text())
    cdk = json.loads((SCHEMAS / "cdk.schema.json").read_text())
    for document in (profile, cdk):
        jsonschema.Draft202012Validator.check_schema(document)
    registry = Registry().with_resources(
        [
            (name, Resource.from_contents(doc))
            for name, doc in (("profile.schema.json", profile), ("cdk.schema.json", cdk))
        ]
    )
    return jsonschema.Draft202012Validator(cdk, registry=registry)


def test_the_cdk_json_schema_accepts_the_shipped_cdk_json() -> None:
    assert list(_validator().iter_errors(json.loads((ROOT / "cdk.json").read_text()))) == []


def test_a_profile_in_a_file_of_its_own_may_name_its_schema() -> None:
    profile = json.loads((SCHEMAS / "profile.schema.json").read_text())
    own_file = {"$schema": "../schemas/profile.schema.json", **read_cdk_profiles(ROOT / "cdk.json")["prod"]}
    jsonschema.validate(own_file, profile, cls=jsonschema.Draft202012Validator)


# One value each that the reader refuses on its own; the JSON Schema must refuse it too.
REFUSED: list[dict[str, Any]] = [
    {"max_worker": 5},
    {"max_workers": "10"},
    {"max_workers": True},
    {"max_workers": 26},
    {"environment_class": "mw1.huge"},
    {"account": "1234"},
    {"region": "europe"},
    {"environment_name": "1mwaa"},
    {"airflow_version": "3.1.0"},
    {"webserver_access_mode": "PUBLIC"},
    {"weekly_maintenance_window_start": "TUE:03:15"},
    {"worker_replacement_strategy": "SLOW"},
    {"log_retention_days": 31},
    {"noncurrent_version_expiration_days": 0},
    {"removal_policy": "keep"},
    {"encryption": "none"},
    {"dag_s3_path": "/dags"},
    {"termination_protection": "true"},
    {"network": {"cidr": "10.0.0.0/16"}},
    {"network": {"mode": "vpn"}},
    {"network": {"nat_gateways": 3}},
    {"network": "nat"},
    {"alarms": {"enabled": 1}},
    {"alarms": {"email": ["not-an-address"]}},
    {"alarms": {"topic_arn": "arn:aws:sns:eu-west-1:1111:x"}},
    {"artifacts": {"plugins": 3}},
    {"artifacts": {"dags": None}},
    {"tags": {"aws:owner": "me"}},
    {"tags": {"team": 3}},
    {"compliance": ["nist"]},
    {"compliance": ["hipaa", "hipaa"]},
    {"access": {"cli": ["role/x"]}},
    {"access": {"web_login": [{"role_arn": "arn:aws:iam::111122223333:role/a", "airflow_role": "Root"}]}},
    {"logging": {"task": "info"}},
    {"logging": {"triggerer": "INFO"}},
    {"airflow_configuration_options": {"core.retries": 3}},
    {"webserver_access": {"security_groups": ["sg-1"]}},
    {"secrets_backend": {"connections_prefix": "/airflow"}},
]


@pytest.mark.parametrize("settings", REFUSED, ids=lambda s: json.dumps(s)[:60])
def test_what_the_reader_refuses_for_one_value_the_json_schema_refuses(settings: dict[str, Any]) -> None:
    profile = {**BASE, **settings}
    with pytest.raises(ProfileError):
        load_profile({"p": profile}, "p", manifests=[])
    document = {"context": {"profiles": {"p": profile}}}
    assert list(_validator().iter_errors(document)), f"the JSON Schema accepts {settings}"


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"network": {"mode": "isolated", "vpc_cidr": "10.10.0.0/20"}},
        {"artifacts": {"plugins": None, "requirements": None}},
        {"logging": {"task": "DISABLED"}},
        {
            "access": {
                "rest_api": [{"role_arn": "arn:aws-cn:iam::111122223333:role/ci/x", "airflow_role": "Op"}]
            }
        },
        {
            "environment_class": "mw1.micro",
            "schedulers": 1,
            "min_webservers": 1,
            "max_webservers": 1,
            "max_workers": 1,
        },
    ],
    ids=lambda s: json.dumps(s)[:60],
)
def test_what_the_reader_accepts_the_json_schema_accepts(settings: dict[str, Any]) -> None:
    profile = {**BASE, **settings}
    load_profile({"p": profile}, "p", manifests=[])
    assert list(_validator().iter_errors({"context": {"profiles": {"p": profile}}})) == []


# --- what a change does to the environment ----------------------------------------------------

# AWS::MWAA::Environment's create-only properties (its resource schema, createOnlyProperties):
# Name, KmsKey, NetworkConfiguration.SubnetIds, EndpointManagement. Another account or region is
# another environment.
REPLACING = {
    "account",
    "region",
    "environment_name",
    "encryption",
    "endpoint_management",
    "network.mode",
    "network.vpc_cidr",
    "network.vpc_id",
    "network.subnet_ids",
}
# Settings that never reach the environment resource: they change resources around it only.
AROUND_THE_ENVIRONMENT = {
    "upgrade_from",
    "webserver_access.cidrs",
    "webserver_access.security_groups",
    "network.nat_gateways",
    "log_retention_days",
    "noncurrent_version_expiration_days",
    "removal_policy",
    "termination_protection",
    "artifacts.dags",
    "alarms.enabled",
    "alarms.email",
    "alarms.topic_arn",
    "access.web_login",
    "access.rest_api",
    "access.cli",
    "compliance",
    # Serverless workflows are resources beside the environment; classic_environment false
    # deletes it (its documentation says so in bold), which no impact class describes.
    "classic_environment",
    "serverless.workflows",
    "serverless.code",
    "serverless.network",
    # Backups: a bucket, a function, a schedule, alarms and replicas beside the environment.
    "backup.enabled",
    "backup.schedule",
    "backup.retention_days",
    "backup.window_days",
    "backup.xcom",
    "backup.object_lock_days",
    "backup.replica_region",
    "standby",
}


def test_each_setting_says_what_a_change_does_to_the_environment() -> None:
    leaves = {
        s.key
        for s in SETTINGS
        if s.type != "object" or s.key in ("logging", "tags", "airflow_configuration_options")
    }
    assert {k for k in leaves if BY_KEY[k].impact is Impact.REPLACEMENT} == REPLACING
    assert {k for k in leaves if BY_KEY[k].impact is Impact.NONE} == AROUND_THE_ENVIRONMENT
    # The rest are properties of the environment: a change runs an environment update.
    assert BY_KEY["airflow_version"].impact is Impact.UPDATE
    assert BY_KEY["artifacts.requirements"].impact is Impact.UPDATE


def test_the_configuration_table_shows_the_impact_and_the_add_ons_settings() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert "| `encryption` | `customer_managed` | **replacement** |" in page
    assert "| `max_workers` | `10` (micro: `1`) | update |" in page
    assert "| `alarms.email` | `[]` | — |" in page
    schema = json.loads((SCHEMAS / "profile.schema.json").read_text())
    for manifest in addon_manifests(ROOT):
        for setting in manifest.settings:
            assert f"| `{setting.key}` | `{json.dumps(setting.default)}` |" in page
            assert schema["properties"][setting.key]["default"] == setting.default
