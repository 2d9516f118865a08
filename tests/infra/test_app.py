"""The shipped profiles end to end: cdk-nag, cfn-lint, outputs, determinism, bad profiles."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import build_app
from platform_config import load_profile, load_profiles, read_cdk_profiles
from platform_config.profile import COMPLIANCE_PACKS
from stacks import build_profile_stacks
from stacks.compliance import compliance_checks
from tests.infra.conftest import ROOT, addons_off, cdk_context, copy_sources

PROFILES = tuple(read_cdk_profiles(ROOT / "cdk.json"))  # every profile, a team's added ones too


def _cdk_json(folder: Path, context: dict[str, Any]) -> Path:
    """A copy of cdk.json in ``folder`` whose context is ``context`` (profiles edited by a test):
    the app reads its profiles from cdk.json, as the CDK CLI would find it in that folder."""
    document = json.loads((ROOT / "cdk.json").read_text())
    document["context"] = context
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cdk.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def _edited_app(tmp_path: Path, context: dict[str, Any], profile: str) -> tuple[list[Any], Path]:
    """Build the app the way ``cdk synth -c profile=...`` runs it on an edited cdk.json: the
    context as the CLI passes it (the jsii bridge drops its null members on the way in), and
    the profiles read from the file. Returns what ``build_app`` built and the output folder."""
    outdir = tmp_path / "out"
    app = cdk.App(context={**context, "profile": profile}, outdir=str(outdir))
    return build_app(app, cdk_json=_cdk_json(tmp_path / "repo", context)), outdir


def _synth(profile: str, outdir: Path) -> tuple[cdk.Stack, Path]:
    app = cdk.App(context={**cdk_context(), "profile": profile}, outdir=str(outdir))
    (built,) = build_app(app)
    app.synth()
    return built.platform, outdir / f"{built.platform.artifact_id}.template.json"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[cdk.Stack, Path]]:
    return {p: _synth(p, tmp_path_factory.mktemp(p)) for p in PROFILES}


def _stacks(stack: cdk.Stack) -> list[cdk.Stack]:
    return [c for c in stack.node.scope.node.children if isinstance(c, cdk.Stack)]


def _expected_stacks(profile: str) -> list[str]:
    """The stacks a shipped profile should have: the platform, then each add-on's it switches on."""
    from platform_config.profile import addon_manifests

    settings = cdk_context()["profiles"][profile]
    name = settings["environment_name"]
    addons = [f"{name}-{m.stack_suffix}" for m in addon_manifests(ROOT) if settings.get(m.enabled_by) is True]
    return [f"{name}-platform", *addons]


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_synthesize_their_stacks(synthesized, profile: str) -> None:
    stacks = _stacks(synthesized[profile][0])
    assert [s.node.id for s in stacks] == _expected_stacks(profile)
    # One name for the CLI, cdk.out/ and CloudFormation.
    assert all(s.node.id == s.stack_name == s.artifact_id for s in stacks)
    assert sorted(p.name for p in synthesized[profile][1].parent.glob("*.template.json")) == [
        f"{name}.template.json" for name in _expected_stacks(profile)
    ]


@pytest.mark.parametrize("profile", PROFILES)
def test_cfn_lint_reports_nothing(synthesized, profile: str) -> None:
    _, template = synthesized[profile]
    templates = sorted(str(t) for t in template.parent.glob("*.template.json"))
    assert len(templates) == len(_stacks(synthesized[profile][0]))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_every_pack_has_no_unacknowledged_finding(synthesized, profile: str) -> None:
    """AwsSolutions and all three compliance packs, whichever the profile selects."""
    stack, _ = synthesized[profile]
    for pack in compliance_checks(COMPLIANCE_PACKS):
        for each in _stacks(stack):
            report = pack.validate_scope(each)
            assert report.success, [
                (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
            ]


def test_prod_synth_fails_on_a_nist_or_hipaa_finding(tmp_path: Path) -> None:
    """The packs prod selects run at synth: an unencrypted log group stops it."""
    app = cdk.App(context={**cdk_context(), "profile": "prod"}, outdir=str(tmp_path))
    (built,) = build_app(app)
    cdk.aws_logs.LogGroup(built.platform, "Unencrypted", retention=cdk.aws_logs.RetentionDays.ONE_YEAR)
    with pytest.raises(Exception, match="ValidationFailed") as caught:
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = {
        (plugin["pluginName"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    }
    assert found == {
        ("NIST.800.53.R5", "NIST.800.53.R5-CloudWatchLogGroupEncrypted"),
        ("HIPAA.Security", "HIPAA.Security-CloudWatchLogGroupEncrypted"),
    }, caught.value


def test_dev_profile_is_low_cost_and_destroyable(synthesized) -> None:
    stack, path = synthesized["dev"]
    template = Template.from_json(json.loads(path.read_text()))
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::KMS::Key", 0)
    buckets = template.find_resources("AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Delete"}
    template.has_resource_properties("AWS::MWAA::Environment", {"WebserverAccessMode": "PUBLIC_ONLY"})
    assert not stack.termination_protection


def test_prod_profile_is_retained_private_and_protected(synthesized) -> None:
    stack, path = synthesized["prod"]
    template = Template.from_json(json.loads(path.read_text()))
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    # Kept on stack deletion and replacement (RetainExceptOnCreate also deletes them after a
    # failed first create, so that the create can be retried).
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Logs::LogGroup"):
        resources = template.find_resources(resource_type).values()
        assert {r["DeletionPolicy"] for r in resources} <= {"Retain", "RetainExceptOnCreate"}
        assert {r["UpdateReplacePolicy"] for r in resources} == {"Retain"}
    template.has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "WebserverAccessMode": "PRIVATE_ONLY",
            "KmsKey": Match.any_value(),
            "WorkerReplacementStrategy": "GRACEFUL",
        },
    )
    assert stack.termination_protection


def test_outputs_name_the_environment_and_how_to_log_in(synthesized) -> None:
    _, path = synthesized["prod"]
    outputs = json.loads(path.read_text())["Outputs"]
    assert set(outputs) >= {
        "EnvironmentName",
        "EnvironmentArn",
        "WebserverUrl",
        "DagBucketName",
        "ExecutionRoleArn",
        "LogGroupNames",
        "WebLoginTokenCommand",
        "DashboardName",
        "AlarmTopicArn",
    }
    assert outputs["LogGroupNames"]["Value"].split(",") == [
        f"airflow-mwaa-prod-{c}" for c in ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")
    ]
    assert "create-web-login-token --name mwaa-prod" in json.dumps(outputs["WebLoginTokenCommand"])


def test_environment_waits_for_the_first_dag_upload(synthesized) -> None:
    _, path = synthesized["dev"]
    resources = json.loads(path.read_text())["Resources"]
    (environment,) = [r for r in resources.values() if r["Type"] == "AWS::MWAA::Environment"]
    dag_deployments = [
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "Custom::CDKBucketDeployment"
        and r["Properties"]["DestinationBucketKeyPrefix"] == "dags/"
    ]
    assert len(dag_deployments) == 1
    assert dag_deployments[0] in environment["DependsOn"]


@pytest.mark.parametrize("profile", PROFILES)
def test_synthesis_is_deterministic(synthesized, tmp_path: Path, profile: str) -> None:
    _, first = synthesized[profile]
    _, second = _synth(profile, tmp_path)
    for template in first.parent.glob("*.template.json"):
        assert template.read_bytes() == (second.parent / template.name).read_bytes(), template.name
    comparison = filecmp.dircmp(first.parent, second.parent)
    assert sorted(comparison.left_only + comparison.right_only) == []
    assert comparison.diff_files == []


def test_a_bad_profile_stops_the_app_with_a_short_message(tmp_path: Path) -> None:
    context = cdk_context()
    context["profiles"]["dev"]["max_workers"] = 40
    _cdk_json(tmp_path, context)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 1
    assert "profile 'dev' is invalid" in result.stderr
    assert "max_workers: got 40" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))


def test_a_custom_bootstrap_qualifier_keeps_cdk_nag_clean(tmp_path: Path) -> None:
    context = {**cdk_context(), "profile": "dev", "@aws-cdk/core:bootstrapQualifier": "team42xyz"}
    app = cdk.App(context=context, outdir=str(tmp_path))
    (built,) = build_app(app)
    app.synth()  # runs the app's cdk-nag plugin: an unacknowledged finding raises
    assert "team42xyz" in (tmp_path / f"{built.platform.artifact_id}.assets.json").read_text()


def test_an_account_and_region_need_no_lookup_at_synth(tmp_path: Path) -> None:
    context = cdk_context()
    context["profiles"]["dev"] |= {"account": "111122223333", "region": "eu-west-1"}
    (built,), outdir = _edited_app(tmp_path, context, "dev")
    stack = built.platform
    stack.node.root.synth()
    # A context lookup would be listed as "missing" and need credentials at synth.
    assert "missing" not in json.loads((outdir / "manifest.json").read_text())
    assert stack.account == "111122223333" and stack.region == "eu-west-1"
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    zones = {
        json.dumps(r["Properties"]["AvailabilityZone"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    # MWAA's two zones, or three where an add-on dev enables needs them (the sample's Redshift).
    assert len(zones) == built.profile.availability_zones and all("Fn::GetAZs" in zone for zone in zones)


ALL_PACKS = {"compliance": list(COMPLIANCE_PACKS)}
NETWORK_VARIANTS = {
    "isolated": {"network": {"mode": "isolated"}, **addons_off(), **ALL_PACKS},
    "existing": {
        "network": {
            "mode": "existing",
            "vpc_id": "vpc-0123456789abcdef0",
            "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        },
        **addons_off(),
        **ALL_PACKS,
    },
}


@pytest.mark.parametrize("variant", sorted(NETWORK_VARIANTS))
@pytest.mark.parametrize("profile", PROFILES)
def test_other_network_modes_pass_cdk_nag_and_cfn_lint(tmp_path: Path, profile: str, variant: str) -> None:
    context = cdk_context()
    own_range = context["profiles"][profile]["network"]["vpc_cidr"]
    context["profiles"][profile].update(NETWORK_VARIANTS[variant])
    if variant == "isolated":
        # Every profile of cdk.json needs its own range, selected or not.
        context["profiles"][profile]["network"] = {"mode": "isolated", "vpc_cidr": own_range}
    (built,), outdir = _edited_app(tmp_path, context, profile)
    # Runs AwsSolutions and all three compliance packs: an unacknowledged finding raises.
    built.platform.node.root.synth()
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    templates = sorted(str(t) for t in outdir.glob("*.template.json"))
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_several_profiles_synthesize_into_one_assembly(tmp_path: Path) -> None:
    app = cdk.App(context={**cdk_context(), "profile": "dev,prod"}, outdir=str(tmp_path))
    built = build_app(app)
    app.synth()
    assert [b.profile.name for b in built] == ["dev", "prod"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = sorted(k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack")
    assert stacks == sorted(_expected_stacks("dev") + _expected_stacks("prod"))
    names = {
        json.loads((tmp_path / f"{stack}.template.json").read_text())["Resources"][logical]["Properties"][
            "Name"
        ]
        for stack in ("mwaa-dev-platform", "mwaa-prod-platform")
        for logical, resource in json.loads((tmp_path / f"{stack}.template.json").read_text())[
            "Resources"
        ].items()
        if resource["Type"] == "AWS::MWAA::Environment"
    }
    assert names == {"mwaa-dev", "mwaa-prod"}


def test_a_copied_profile_stops_the_app_even_when_synthesized_alone(tmp_path: Path) -> None:
    """A profile copied under a new name keeps the original's environment name and VPC range:
    ``make synth PROFILE=<copy>`` would deploy over the original's stacks, and fails instead."""
    context = cdk_context()
    context["profiles"]["prod-copy"] = json.loads(json.dumps(context["profiles"]["prod"]))
    _cdk_json(tmp_path, context)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            "CDK_CONTEXT_JSON": json.dumps({**context, "profile": "prod-copy"}),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 1
    assert (
        "profiles 'prod-copy' and 'prod' (not selected) both set environment_name 'mwaa-prod'"
        in result.stderr
    )
    assert (
        "profiles 'prod-copy' and 'prod' (not selected) both set network.vpc_cidr '10.193.0.0/16'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").glob("*.template.json"))


def test_a_profile_with_its_own_artifacts_deploys_only_those(tmp_path: Path) -> None:
    team = tmp_path / "repo"
    copy_sources(team)
    (team / "teams" / "finance").mkdir(parents=True)
    shutil.move(team / "dags", team / "teams" / "finance" / "dags")
    context = cdk_context()
    context["profiles"]["finance"] = {
        **context["profiles"]["prod"],
        "environment_name": "finance-prod",
        "network": {"mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.50.0.0/16"},
        "artifacts": {
            "dags": "teams/finance/dags",
            "plugins": None,
            "requirements": None,
            "startup_script": None,
        },
    }
    (profile,) = load_profiles(context["profiles"], "finance", root=team)
    app = cdk.App(context={k: v for k, v in context.items() if k != "profiles"}, outdir=str(tmp_path / "out"))
    built = build_profile_stacks(app, profile, root=team)
    app.synth()
    assert built.stacks == [built.platform]
    template = Template.from_stack(built.platform)
    environment = template.find_resources("AWS::MWAA::Environment")
    (props,) = [r["Properties"] for r in environment.values()]
    assert not {"PluginsS3Path", "RequirementsS3Path", "StartupScriptS3Path"} & set(props)
    deployments = template.find_resources("Custom::CDKBucketDeployment")
    assert [d["Properties"]["DestinationBucketKeyPrefix"] for d in deployments.values()] == ["dags/"]
    assert built.platform.artifacts.dag_files == [
        ".airflowignore",
        "orders_dag.py",
        "reporting/__init__.py",
        "reporting/summary.py",
    ]


# A team's profile that deploys neither plugins nor a startup script (docs/dags-and-artifacts.md).
NO_PLUGINS = {"dags": "dags", "plugins": None, "startup_script": None}


def test_null_artifacts_are_not_deployed_through_the_cdk_context(tmp_path: Path) -> None:
    """``cdk synth`` hands the app the cdk.json context without its null members; the app reads
    the profiles from cdk.json itself and deploys what make cost and mwaa-ops read there."""
    context = cdk_context()
    context["profiles"]["team"] = {
        **context["profiles"]["dev"],
        "environment_name": "team-dev",
        "network": {"mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.51.0.0/16"},
        **addons_off(),
        "artifacts": NO_PLUGINS,
    }
    (built,), outdir = _edited_app(tmp_path, context, "team")
    # The premise: what the CDK context says about this profile has lost both nulls.
    lost = built.platform.node.try_get_context("profiles")["team"]["artifacts"]
    assert lost == {"dags": "dags"}
    # The app agrees with the tools that read cdk.json (make cost, mwaa-ops).
    assert built.profile == load_profile(read_cdk_profiles(tmp_path / "repo" / "cdk.json"), "team")
    built.platform.node.root.synth()
    template = Template.from_json(json.loads((outdir / "team-dev-platform.template.json").read_text()))
    (props,) = [r["Properties"] for r in template.find_resources("AWS::MWAA::Environment").values()]
    assert not {"PluginsS3Path", "StartupScriptS3Path"} & set(props)
    assert props["RequirementsS3Path"] == "requirements/requirements.txt"
    deployments = template.find_resources("Custom::CDKBucketDeployment").values()
    assert sorted(d["Properties"]["DestinationBucketKeyPrefix"] for d in deployments) == [
        "dags/",
        "requirements/",
    ]


def test_the_cdk_cli_synthesizes_a_documented_name_with_an_underscore(tmp_path: Path) -> None:
    """End to end through the pinned CDK CLI: an environment name with '_' (MWAA allows it,
    CloudFormation stack names do not) synthesizes as stack mwaa-analytics-platform, the
    profile's nulls hold, the private web server admits the range given, and cfn-lint agrees."""
    context = cdk_context()
    context["profiles"]["analytics"] = {
        **context["profiles"]["prod"],
        "environment_name": "mwaa_analytics",
        "network": {"mode": "nat", "nat_gateways": 1, "vpc_cidr": "10.60.0.0/16"},
        "artifacts": NO_PLUGINS,
        "webserver_access": {"cidrs": ["10.0.0.0/8"]},
    }
    _cdk_json(tmp_path, context)
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    result = subprocess.run(
        [str(cli), "synth", "--quiet", "--no-notices", "-c", "profile=analytics", "-o", str(tmp_path / "out"),
         "--app", f"{sys.executable} {ROOT / 'app.py'}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            **os.environ,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "profile analytics: stacks mwaa-analytics-platform" in result.stderr
    path = tmp_path / "out" / "mwaa-analytics-platform.template.json"
    template = Template.from_json(json.loads(path.read_text()))
    (props,) = [r["Properties"] for r in template.find_resources("AWS::MWAA::Environment").values()]
    assert props["Name"] == "mwaa_analytics"
    assert not {"PluginsS3Path", "StartupScriptS3Path"} & set(props)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                Match.object_like({"CidrIp": "10.0.0.0/8", "FromPort": 443, "ToPort": 443})
            ]
        },
    )
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    lint = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_prod_has_a_dashboard_and_alarms_on_an_encrypted_topic(synthesized) -> None:
    _, path = synthesized["prod"]
    template = Template.from_json(json.loads(path.read_text()))
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    (key_id,) = template.find_resources("AWS::KMS::Key")
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    # MWAA's recommended ten, and the backups' two (backup-missing, backup-failed).
    assert len(alarms) == 12
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    assert all(a["Properties"]["AlarmName"].startswith("mwaa-prod-") for a in alarms)
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": Match.any_value()})
    outputs = json.loads(path.read_text())["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
    (environment,) = template.find_resources("AWS::MWAA::Environment").values()
    options = environment["Properties"]["AirflowConfigurationOptions"]
    assert options["secrets.backend"].endswith(".SecretsManagerBackend")


OPERATIONS_VARIANTS = {
    "prod": {
        **ALL_PACKS,
        "access": {
            "web_login": [{"role_arn": "arn:aws:iam::111122223333:role/analyst", "airflow_role": "Viewer"}],
            "rest_api": [{"role_arn": "arn:aws:iam::111122223333:role/ci/deployer", "airflow_role": "User"}],
            "cli": ["arn:aws:iam::111122223333:role/ci/deployer"],
        },
        "alarms": {"email": ["ops@example.com"]},
        # prod's web server is private: a VPN range and a bastion's group may reach it.
        "webserver_access": {"cidrs": ["10.0.0.0/8"], "security_groups": ["sg-0123456789abcdef0"]},
    },
    "dev": {
        **ALL_PACKS,
        "alarms": {"topic_arn": "arn:aws:sns:eu-west-1:111122223333:ops-alarms"},
        "secrets_backend": {"enabled": False},
        **addons_off(),
    },
}


@pytest.mark.parametrize("profile", list(OPERATIONS_VARIANTS))
def test_access_and_alarm_variants_pass_cdk_nag_and_cfn_lint(tmp_path: Path, profile: str) -> None:
    context = cdk_context()
    context["profiles"][profile].update(OPERATIONS_VARIANTS[profile])
    (built,), outdir = _edited_app(tmp_path, context, profile)
    stack = built.platform
    # Runs AwsSolutions and all three compliance packs: an unacknowledged finding raises.
    stack.node.root.synth()
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    templates = sorted(str(t) for t in outdir.glob("*.template.json"))
    result = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    types = [r["Type"] for r in template["Resources"].values()]
    if profile == "prod":
        attached = sorted(
            r["Properties"]["Roles"][0]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::IAM::ManagedPolicy"
            and r["Properties"].get("Roles") in (["analyst"], ["deployer"])
        )
        assert attached == ["analyst", "deployer"]
        assert types.count("AWS::SNS::Subscription") == 1
        groups = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroup"]
        (group,) = [g for g in groups if g["Properties"]["GroupDescription"].startswith("MWAA environment")]
        assert {
            "CidrIp": "10.0.0.0/8",
            "Description": "Airflow UI and REST API from 10.0.0.0/8 (webserver_access)",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        } in group["Properties"]["SecurityGroupIngress"]
        from_group = [
            r["Properties"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::EC2::SecurityGroupIngress"
            and r["Properties"].get("SourceSecurityGroupId") == "sg-0123456789abcdef0"
        ]
        assert [(r["FromPort"], r["ToPort"], r["Description"]) for r in from_group] == [
            (443, 443, "Airflow UI and REST API from sg-0123456789abcdef0 (webserver_access)")
        ]
    else:
        assert "AWS::SNS::Topic" not in types
        assert (
            template["Outputs"]["AlarmTopicArn"]["Value"] == "arn:aws:sns:eu-west-1:111122223333:ops-alarms"
        )
        (environment,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::MWAA::Environment"]
        assert "secrets.backend" not in environment["Properties"].get("AirflowConfigurationOptions", {})
