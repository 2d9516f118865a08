"""Artifacts on real synthesized templates: what triggers an environment update and what not,
and the synth-time guardrails on each artifact."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mwaa_constructs import DagBucket
from mwaa_constructs.artifacts import (
    LAMBDA_MAX_TMP_MIB,
    AirflowArtifacts,
    ArtifactError,
    build_plugins_zip,
    check_dags,
    check_startup_script,
    list_dag_files,
)
from platform_config import load_profile
from platform_config.profile import COMPLIANCE_PACKS
from stacks.compliance import compliance_checks
from stacks.layout import artifact_sources
from stacks.platform_stack import MwaaPlatformStack
from tests.infra.conftest import FIXTURE_DAGS, addons_off, cdk_context, copy_sources

CONSTRAINT = (
    '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"'
)
WHEELS_ROUTE = (
    "--no-index\n--find-links /usr/local/airflow/plugins\n"
    "--constraint /usr/local/airflow/plugins/constraints.txt\n"
)


def _template(root: Path, **profile_settings: Any) -> dict[str, Any]:
    context = cdk_context()
    context["profiles"]["dev"].update(profile_settings)
    app = cdk.App(context={k: v for k, v in context.items() if k != "profiles"}, outdir=str(root / "cdk.out"))
    profile = load_profile(context["profiles"], "dev", root=root)
    stack = MwaaPlatformStack(app, "MwaaPlatform", profile=profile, sources=artifact_sources(profile, root))
    app.synth()
    return json.loads((root / "cdk.out" / f"{stack.artifact_id}.template.json").read_text())


def _references(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def environment_inputs(template: dict[str, Any]) -> dict[str, Any]:
    """The environment resource and everything it reads, directly or through references."""
    resources = template["Resources"]
    (start,) = [k for k, r in resources.items() if r["Type"] == "AWS::MWAA::Environment"]
    seen: dict[str, Any] = {}
    pending = [start]
    while pending:
        logical_id = pending.pop()
        if logical_id in seen or logical_id not in resources:
            continue
        resource = resources[logical_id]
        seen[logical_id] = resource.get("Properties", {})
        pending.extend(_references(resource.get("Properties", {})))
    return seen


def _environment(template: dict[str, Any]) -> dict[str, Any]:
    (env,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::MWAA::Environment"]
    return env["Properties"]


def _dag_source_keys(template: dict[str, Any]) -> list[str]:
    (deployment,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "Custom::CDKBucketDeployment"
        and r["Properties"]["DestinationBucketKeyPrefix"] == "dags/"
    ]
    return deployment["SourceObjectKeys"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = copy_sources(tmp_path_factory.mktemp("baseline"))
    return root, _template(root)


def _variant(baseline_root: Path, tmp_path: Path) -> Path:
    root = copy_sources(tmp_path)
    assert list_dag_files(root / "dags") == list_dag_files(baseline_root / "dags")
    return root


def test_dag_edits_additions_and_removals_leave_the_environment_alone(baseline, tmp_path: Path) -> None:
    base_root, base = baseline
    root = _variant(base_root, tmp_path)
    dag = root / "dags" / "orders_dag.py"
    dag.write_text(dag.read_text() + "\n# edited\n")
    (root / "dags" / "another_dag.py").write_text("from airflow.sdk import dag\n")
    (root / "dags" / "reporting" / "summary.py").unlink()

    changed = _template(root)
    assert _dag_source_keys(changed) != _dag_source_keys(base)  # the DAG upload did change
    assert environment_inputs(changed) == environment_inputs(base)


@pytest.mark.parametrize(
    ("artifact", "edit", "property_name"),
    [
        (
            "plugins",
            lambda r: (r / "runtime" / "plugins" / "extra_module.py").write_text("X = 1\n"),
            "PluginsS3ObjectVersion",
        ),
        (
            "requirements",
            lambda r: (r / "runtime" / "mwaa-requirements.txt").write_text(
                f"{CONSTRAINT}\nsimplejson==3.20.1\n"
            ),
            "RequirementsS3ObjectVersion",
        ),
        (
            "startup",
            lambda r: (r / "runtime" / "startup.sh").write_text("#!/bin/bash\nexport EXTRA=1\n"),
            "StartupScriptS3ObjectVersion",
        ),
    ],
)
def test_content_changes_reach_the_object_version_inputs(
    baseline, tmp_path: Path, artifact, edit, property_name
) -> None:
    base_root, base = baseline
    root = _variant(base_root, tmp_path)
    edit(root)
    changed = _template(root)
    version_of = lambda t: _references(_environment(t)[property_name])  # noqa: E731
    (resource_id,) = version_of(changed)
    assert version_of(base) == {resource_id}
    assert changed["Resources"][resource_id]["Properties"] != base["Resources"][resource_id]["Properties"], (
        artifact
    )
    others = {"PluginsS3ObjectVersion", "RequirementsS3ObjectVersion", "StartupScriptS3ObjectVersion"} - {
        property_name
    }
    for other in others:
        (other_id,) = version_of_other = _references(_environment(changed)[other])
        assert changed["Resources"][other_id] == base["Resources"][other_id], (other, version_of_other)
    assert _dag_source_keys(changed) == _dag_source_keys(base)


def test_touching_files_changes_nothing(baseline, tmp_path: Path) -> None:
    base_root, base = baseline
    root = _variant(base_root, tmp_path)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))
            path.chmod(0o600)
    assert _template(root) == base


def test_an_isolated_network_gets_no_requirements_to_download(tmp_path: Path) -> None:
    root = copy_sources(tmp_path)
    isolated = {"network": {"mode": "isolated"}, **addons_off()}
    environment = _environment(_template(root, **isolated))
    assert "RequirementsS3Path" not in environment and "RequirementsS3ObjectVersion" not in environment
    assert "PluginsS3ObjectVersion" in environment and "StartupScriptS3ObjectVersion" in environment

    (root / "runtime" / "mwaa-requirements.txt").write_text(f"{CONSTRAINT}\nsimplejson==3.20.1\n")
    with pytest.raises(ArtifactError, match=r"no route to the internet .* simplejson==3\.20\.1 .*--no-index"):
        _template(root, **isolated)


def test_an_isolated_network_installs_wheels_from_plugins(tmp_path: Path) -> None:
    root = copy_sources(tmp_path)
    (root / "runtime" / "mwaa-requirements.txt").write_text(f"{WHEELS_ROUTE}simplejson==3.20.1\n")
    (root / "runtime" / "plugins" / "constraints.txt").write_text("simplejson==3.20.1\n")
    isolated = {"network": {"mode": "isolated"}, **addons_off()}
    with pytest.raises(ArtifactError, match=r"plugins\.zip has no wheel of it at its root \(found: none\)"):
        _template(root, **isolated)

    (root / "runtime" / "plugins" / "simplejson-3.20.1-py3-none-any.whl").write_bytes(b"PK\0")
    environment = _environment(_template(root, **isolated))
    assert environment["RequirementsS3Path"] == "requirements/requirements.txt"
    assert "RequirementsS3ObjectVersion" in environment


def test_bad_requirements_stop_synth_with_the_checker_message(tmp_path: Path) -> None:
    root = copy_sources(tmp_path)
    path = root / "runtime" / "mwaa-requirements.txt"
    path.write_text(f"{CONSTRAINT}\npandas==2.2.3\n")
    with pytest.raises(ArtifactError) as error:
        _template(root)
    assert str(error.value) == (
        f"{path}: line 2: 'pandas==2.2.3' contradicts the Airflow 3.3.1 constraints, which pin "
        "pandas==3.0.5; write 'pandas' (pip then installs 3.0.5) or 'pandas==3.0.5'"
    )


def test_the_artifacts_report_what_each_requirement_installs(tmp_path: Path) -> None:
    root = copy_sources(tmp_path)
    (root / "runtime" / "mwaa-requirements.txt").write_text(
        f"{CONSTRAINT}\napache-airflow-providers-slack\nsimplejson==3.20.1\n"
    )
    context = cdk_context()
    app = cdk.App(context={k: v for k, v in context.items() if k != "profiles"}, outdir=str(root / "cdk.out"))
    profile = load_profile(context["profiles"], "dev", root=root)
    stack = MwaaPlatformStack(app, "MwaaPlatform", profile=profile, sources=artifact_sources(profile, root))
    assert [(r.name, r.installs) for r in stack.artifacts.resolved_requirements] == [
        ("apache-airflow-providers-slack", "9.10.2"),
        ("simplejson", "3.20.1"),
    ]


def test_plugins_zip_is_byte_identical_and_rooted(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    (plugins / "operators").mkdir(parents=True)
    (plugins / "operators" / "custom.py").write_text("VALUE = 1\n")
    (plugins / "top.py").write_text("import operators\n")
    (plugins / "operators" / "__pycache__").mkdir()
    (plugins / "operators" / "__pycache__" / "custom.cpython-312.pyc").write_bytes(b"\0")
    folder, digest = build_plugins_zip(plugins)
    first = (folder / "plugins.zip").read_bytes()
    (folder / "plugins.zip").unlink()
    os.utime(plugins / "top.py", (2_000_000_000, 2_000_000_000))
    folder_again, digest_again = build_plugins_zip(plugins)
    assert (folder_again / "plugins.zip").read_bytes() == first and digest_again == digest
    with zipfile.ZipFile(folder / "plugins.zip") as archive:
        assert archive.namelist() == ["operators/custom.py", "top.py"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_oversized_plugins_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_bytes(os.urandom(4096))
    with pytest.raises(ArtifactError, match=r"plugins\.zip is \d+ bytes; this project allows at most 1024"):
        build_plugins_zip(tmp_path, size_limit=1024)


def _deployment_handlers(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The Lambda functions that serve the stack's BucketDeployments."""
    return [
        r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith("CustomCDKBucketDeployment")
    ]


def test_small_artifacts_keep_the_default_deployment_handler(baseline) -> None:
    """DAGs, plugins, requirements and startup script of the shipped layout fit the default
    /tmp: one shared handler with BucketDeployment's defaults, as before sizing existed."""
    _, template = baseline
    (handler,) = _deployment_handlers(template)
    assert handler["MemorySize"] == 1024
    assert "EphemeralStorage" not in handler


def _dag_folder_with(tmp_path: Path, size: int) -> Path:
    """The fixture DAG folder plus a sparse file of ``size`` bytes (zeros: instant to create,
    tiny when zipped, ``size`` bytes once the deployment handler unpacks it)."""
    dags = tmp_path / "dags"
    shutil.copytree(FIXTURE_DAGS, dags, ignore=shutil.ignore_patterns("__pycache__"))
    with (dags / "reference_data.bin").open("wb") as handle:
        handle.truncate(size)
    return dags


def _artifacts_stack(dags: Path) -> tuple[cdk.Stack, AirflowArtifacts]:
    # Assets are hashed but not copied into the cloud assembly: the test stays fast.
    app = cdk.App(context={"aws:cdk:disable-asset-staging": True})
    stack = cdk.Stack(app, "Artifacts", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    bucket = DagBucket(stack, "DagBucket", environment_name="env-x").bucket
    artifacts = AirflowArtifacts(stack, "Artifacts", bucket=bucket, airflow_version="3.3.1", dags_dir=dags)
    return stack, artifacts


def test_a_large_dag_folder_gets_a_handler_with_more_tmp_and_memory(tmp_path: Path) -> None:
    """The handler keeps the downloaded archive while it extracts it: 200 MiB of files need
    their archive and themselves in /tmp, with headroom over the default 512 MiB."""
    dags = _dag_folder_with(tmp_path, 200 * 1024**2)
    stack, artifacts = _artifacts_stack(dags)
    sizing = artifacts.deployment_sizes["Dags"]
    assert sizing.unpacked_bytes >= 200 * 1024**2
    assert sizing.tmp_bytes >= 2 * 200 * 1024**2
    assert (sizing.ephemeral_storage_mib, sizing.memory_mb) == (1024, 2048)
    (handler,) = _deployment_handlers(Template.from_stack(stack).to_json())
    assert handler["EphemeralStorage"] == {"Size": 1024}
    assert handler["MemorySize"] == 2048
    for pack in compliance_checks(COMPLIANCE_PACKS):
        report = pack.validate_scope(stack)
        assert report.success, [v.rule_name for v in report.violations]


def test_a_dag_folder_that_cannot_fit_in_lambda_tmp_is_refused_at_synth(tmp_path: Path) -> None:
    dags = _dag_folder_with(tmp_path, 6 * 1024**3)
    with pytest.raises(ArtifactError) as error:
        _artifacts_stack(dags)
    message = str(error.value)
    assert message.startswith(f"{dags} (DAG folder): its deployment needs ")
    assert re.search(r"plus (\d+) bytes unpacked", message).group(1) == str(  # type: ignore[union-attr]
        sum((dags / name).stat().st_size for name in list_dag_files(dags))
    )
    assert f"Lambda allows at most {LAMBDA_MAX_TMP_MIB} MiB of /tmp" in message
    assert "10240 MiB" in message


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"export A=1\n", "no shebang"), (b"#!/bin/bash\r\nexport A=1\r\n", "CRLF")],
)
def test_bad_startup_scripts_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "startup.sh"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=message):
        check_startup_script(path)


def test_a_dag_folder_without_a_dag_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "test_dag.py").write_text("from airflow.sdk import DAG\n")  # excluded: a test file
    with pytest.raises(ArtifactError, match="no DAG found"):
        check_dags(tmp_path, list_dag_files(tmp_path))


def test_caches_and_tests_are_not_deployed(tmp_path: Path) -> None:
    for name in (
        "dag.py",
        "lib/util.py",
        "lib/__pycache__/util.cpython-312.pyc",
        "tests/test_dag.py",
        "test_x.py",
        "conftest.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert list_dag_files(tmp_path) == ["dag.py", "lib/util.py"]


def test_object_version_reader_decrypts_only_through_s3(tmp_path: Path) -> None:
    """HeadObject of an SSE-KMS object needs kms:Decrypt; the custom resource that reads the
    versions back may use the environment key only through S3 of this region."""
    template = _template(copy_sources(tmp_path), encryption="customer_managed", **addons_off())
    resources = template["Resources"]
    (key_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::KMS::Key"]
    (provider_role,) = [
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::Role" and k.startswith("AWS679f53fac002430cb0da5b")
    ]
    statements = [
        statement
        for r in resources.values()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": provider_role} in r["Properties"].get("Roles", [])
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    kms = [s for s in statements if "kms" in json.dumps(s["Action"])]
    assert kms, "the reader must be able to decrypt the SSE-KMS objects it reads"
    for statement in kms:
        assert statement["Action"] == "kms:Decrypt"
        assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert statement["Condition"] == {
            "StringEquals": {
                "kms:ViaService": {"Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
            }
        }
