"""The change review on small hand-written templates: paths, statements, rules, verdicts, output."""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mwaa_ops import review as rv


def _environment(**properties: Any) -> dict[str, Any]:
    base = {
        "Name": "mwaa-dev",
        "MaxWorkers": 2,
        "NetworkConfiguration": {
            "SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
            "SecurityGroupIds": [{"Fn::GetAtt": ["Group", "GroupId"]}],
        },
        "PluginsS3ObjectVersion": {"Fn::GetAtt": ["PluginsVersion", "VersionId"]},
        "SourceBucketArn": {"Fn::GetAtt": ["Bucket", "Arn"]},
    }
    base.update(properties)
    return {"Type": "AWS::MWAA::Environment", "Properties": base}


def _template(**overrides: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Environment": _environment(),
        "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.0.0/24", "VpcId": "vpc-1"}},
        "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.1.0/24", "VpcId": "vpc-1"}},
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "environment", "VpcId": "vpc-1"},
        },
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "PluginsVersion": {
            "Type": "Custom::AWS",
            "Properties": {"ServiceToken": "arn:handler", "Update": '{"physicalResourceId":"plugins@aaaa"}'},
        },
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "airflow.amazonaws.com"}}]
                },
                "Policies": [
                    {
                        "PolicyName": "inline",
                        "PolicyDocument": {
                            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
                        },
                    }
                ],
            },
        },
        "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:aaa"}},
    }
    resources.update(overrides)
    return {"Resources": resources}


def _with(template: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    *parents, last = path.split(".")
    target = changed["Resources"]
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def _verdict(base: dict[str, Any], head: dict[str, Any]) -> rv.EnvironmentVerdict:
    (verdict,) = rv.environment_verdicts("mwaa-dev-platform", base, head)
    return verdict


def test_changed_paths_name_properties_and_list_items() -> None:
    base = _template()
    head = _with(base, "Environment.Properties.MaxWorkers", 5)
    head["Resources"]["Environment"]["Properties"]["NetworkConfiguration"]["SubnetIds"][1] = {
        "Ref": "SubnetC"
    }
    assert rv.changed_paths(base["Resources"]["Environment"], head["Resources"]["Environment"]) == [
        "Properties.MaxWorkers",
        "Properties.NetworkConfiguration.SubnetIds[1]",
    ]


def test_metadata_and_cdk_metadata_are_ignored_but_asset_keys_are_not() -> None:
    base = _template(
        Dags={
            "Type": "Custom::CDKBucketDeployment",
            "Properties": {"SourceObjectKeys": ["aaaa.zip"]},
            "Metadata": {"aws:cdk:path": "Stack/Dags"},
        }
    )
    head = _with(base, "Dags.Metadata", {"aws:cdk:path": "Stack/Dags", "aws:asset:path": "asset.bbbb"})
    head = _with(head, "CDKMetadata.Properties", {"Analytics": "v2:deflate64:bbb"})
    assert rv.resource_changes(base, head) == []
    head = _with(head, "Dags.Properties", {"SourceObjectKeys": ["bbbb.zip"]})
    assert rv.resource_changes(base, head) == [
        rv.ResourceChange(
            "Dags", "Custom::CDKBucketDeployment", "modified", ("Properties.SourceObjectKeys[0]",)
        )
    ]


def test_a_dag_upload_change_needs_no_environment_update() -> None:
    base = _template(
        Dags={"Type": "Custom::CDKBucketDeployment", "Properties": {"SourceObjectKeys": ["a.zip"]}}
    )
    base["Resources"]["Environment"]["DependsOn"] = ["Dags"]
    head = _with(base, "Dags.Properties", {"SourceObjectKeys": ["b.zip"]})
    assert _verdict(base, head).verdict == "none"


def test_a_changed_custom_resource_behind_a_token_is_an_update() -> None:
    base = _template()
    head = _with(base, "PluginsVersion.Properties.Update", '{"physicalResourceId":"plugins@bbbb"}')
    verdict = _verdict(base, head)
    assert verdict.verdict == "update"
    assert verdict.reasons == ("Properties.PluginsS3ObjectVersion changes on deploy: PluginsVersion changed",)
    assert "WorkerReplacementStrategy unset" in verdict.advice
    # A new handler alone (ServiceToken) returns the same attributes: no update.
    head = _with(base, "PluginsVersion.Properties.ServiceToken", "arn:other-handler")
    assert _verdict(base, head).verdict == "none"


def test_an_updated_bucket_keeps_its_arn() -> None:
    base = _template()
    head = _with(base, "Bucket.Properties.VersioningConfiguration", {"Status": "Suspended"})
    assert _verdict(base, head).verdict == "none"


def test_property_changes_are_updates_and_graceful_is_said() -> None:
    base = _template()
    head = _with(base, "Environment.Properties.MaxWorkers", 5)
    head["Resources"]["Environment"]["Properties"]["WorkerReplacementStrategy"] = "GRACEFUL"
    verdict = _verdict(base, head)
    assert verdict.verdict == "update"
    assert "Properties.MaxWorkers changed" in verdict.reasons
    assert "GRACEFUL: running tasks finish" in verdict.advice


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("Environment.Properties.KmsKey", "arn:aws:kms:eu-west-1:111122223333:key/1"),
        ("Environment.Properties.EndpointManagement", "CUSTOMER"),
        ("SubnetB.Properties.CidrBlock", "10.0.2.0/24"),  # the subnet is replaced: a new subnet id
    ],
)
def test_replacing_a_named_environment_is_flagged_with_what_to_do(path: str, value: Any) -> None:
    base = _template()
    verdict = _verdict(base, _with(base, path, value))
    assert verdict.verdict == "replacement"
    assert "fails" in verdict.advice and "change environment_name" in verdict.advice


def test_a_replaced_security_group_is_an_update_not_a_replacement() -> None:
    base = _template()
    verdict = _verdict(base, _with(base, "Group.Properties.GroupDescription", "other"))
    assert verdict.verdict == "update"
    assert verdict.reasons == (
        "Properties.NetworkConfiguration.SecurityGroupIds[0] changes on deploy: Group changed",
    )


def test_a_renamed_environment_is_a_new_one() -> None:
    base = _template()
    verdict = _verdict(base, _with(base, "Environment.Properties.Name", "mwaa-dev2"))
    assert (verdict.verdict, verdict.name) == ("replacement", "mwaa-dev2")
    assert "empty metadata database" in verdict.advice and "deletes mwaa-dev" in verdict.advice


def test_added_and_removed_environments() -> None:
    template = _template()
    assert rv.environment_verdicts("s", None, template)[0].verdict == "added"
    assert rv.environment_verdicts("s", template, None)[0].verdict == "removed"


def test_iam_statements_added_and_removed_are_shown_as_statements() -> None:
    base = _template(
        BucketPolicy={
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
            },
        }
    )
    head = copy.deepcopy(base)
    head["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] = [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    ]
    head["Resources"]["Policy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage"}]}},
    }
    changes = rv.statement_changes(base, head)
    assert [
        (c.change, c.logical_id, c.document, c.effect, c.actions, c.resources, c.conditions) for c in changes
    ] == [
        ("added", "Policy", "PolicyDocument", "Allow", ("sqs:SendMessage",), (), ""),
        ("removed", "Role", "Policies[inline]", "Allow", ("s3:GetObject",), ("*",), ""),
        (
            "added",
            "Role",
            "Policies[inline]",
            "Allow",
            ("s3:PutObject",),
            ("${Bucket.Arn}/*",),
            '{"Bool":{"aws:SecureTransport":"true"}}',
        ),
    ]


def test_trust_policy_principals_are_shown() -> None:
    base = _template()
    head = _with(
        base,
        "Role.Properties.AssumeRolePolicyDocument",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111122223333"}}
            ]
        },
    )
    added = [c for c in rv.statement_changes(base, head) if c.change == "added"]
    assert [(c.document, c.principals) for c in added] == [
        ("AssumeRolePolicyDocument", ("AWS:111122223333",))
    ]


def test_security_group_rules_inline_and_as_resources() -> None:
    base = _template()
    head = _with(
        base,
        "Group.Properties.SecurityGroupIngress",
        [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "web"}],
    )
    head["Resources"]["Egress"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": ["Group", "GroupId"]},
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": {"Fn::GetAtt": ["Group", "GroupId"]},
        },
    }
    assert rv.rule_changes(base, head) == [
        rv.RuleChange(
            "added",
            "Egress",
            "Group.GroupId",
            "egress",
            "all",
            "all",
            "DestinationSecurityGroupId Group.GroupId",
        ),
        rv.RuleChange("added", "Group", "Group", "ingress", "tcp", "443", "CidrIp 0.0.0.0/0", "web"),
    ]
    assert [r.change for r in rv.rule_changes(head, base)] == ["removed", "removed"]


@dataclass
class FakeEstimate:
    monthly_idle: float
    monthly_full: float
    priced: bool = True
    region: str | None = "eu-west-1"


def _stack(name: str, template: dict[str, Any]) -> rv.StackTemplate:
    return rv.StackTemplate(name, name, "eu-west-1", template)


def test_profile_review_prices_both_sides_and_fails_on_the_verdict() -> None:
    base = _template()
    head = _with(base, "Environment.Properties.MaxWorkers", 10)
    seen: list[tuple[list[str], str | None]] = []

    def estimator(templates: dict[str, Any], *, region: str | None) -> FakeEstimate:
        seen.append((sorted(templates), region))
        workers = templates["mwaa-dev-platform"]["Resources"]["Environment"]["Properties"]["MaxWorkers"]
        return FakeEstimate(monthly_idle=400.0, monthly_full=400.0 + 50 * workers)

    profile = rv.review_profile(
        "dev", [_stack("mwaa-dev-platform", base)], [_stack("mwaa-dev-platform", head)], estimator=estimator
    )
    assert seen == [(["mwaa-dev-platform"], "eu-west-1")] * 2
    assert profile.cost == rv.CostChange("eu-west-1", True, 400.0, 500.0, 400.0, 900.0)
    review = rv.Review("main", "working tree", [profile])
    assert (review.worst, review.reaches("update"), review.reaches("replacement"), review.reaches(None)) == (
        "update",
        True,
        False,
        False,
    )
    markdown = rv.to_markdown(review)
    assert markdown.startswith(rv.MARKER)
    assert "**Environment `mwaa-dev`** (mwaa-dev-platform): **update**" in markdown
    assert "idle $400.00 → $400.00 (+0.00), full $500.00 → $900.00 (+400.00)" in markdown
    assert "| modified | `Environment` | AWS::MWAA::Environment | `Properties.MaxWorkers` |" in markdown
    data = json.loads(rv.to_json(review))
    assert data["worst"] == "update"
    assert data["profiles"][0]["environments"][0]["verdict"] == "update"
    assert data["profiles"][0]["stacks"][0]["resources"][0]["paths"] == ["Properties.MaxWorkers"]


def test_a_removed_environment_fails_a_replacement_gate() -> None:
    profile = rv.review_profile("dev", [_stack("mwaa-dev-platform", _template())], [])
    assert profile.cost_note == "no cost estimator available"
    assert rv.Review("a", "b", [profile]).reaches("replacement")


def test_a_renamed_stack_is_paired_with_its_old_name() -> None:
    base = _template()
    head = _with(base, "Environment.Properties.Name", "mwaa-dev2")
    profile = rv.review_profile(
        "dev", [_stack("mwaa-dev-platform", base)], [_stack("mwaa-dev2-platform", head)]
    )
    (stack,) = profile.stacks
    assert (stack.base_name, stack.head_name) == ("mwaa-dev-platform", "mwaa-dev2-platform")
    (verdict,) = profile.environments
    assert verdict.verdict == "replacement"
    assert "keeps running in mwaa-dev-platform until you destroy that stack" in verdict.advice


def test_read_assembly_follows_the_manifest_and_nested_assemblies(tmp_path: Path) -> None:
    (tmp_path / "stage").mkdir()
    (tmp_path / "a.template.json").write_text(json.dumps(_template()))
    (tmp_path / "stage" / "b.template.json").write_text(json.dumps({"Resources": {}}))
    stack = lambda name, file, env: {  # noqa: E731
        "type": "aws:cloudformation:stack",
        "environment": env,
        "displayName": name,
        "properties": {"templateFile": file, "stackName": name},
    }
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "MwaaPlatform": stack(
                        "mwaa-dev-platform", "a.template.json", "aws://unknown-account/unknown-region"
                    ),
                    "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
                    "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "stage"}},
                }
            }
        )
    )
    (tmp_path / "stage" / "manifest.json").write_text(
        json.dumps(
            {"artifacts": {"StageB": stack("prod-b", "b.template.json", "aws://111122223333/eu-west-1")}}
        )
    )
    stacks = rv.read_assembly(tmp_path)
    assert [(s.name, s.artifact_id, s.region) for s in stacks] == [
        ("mwaa-dev-platform", "MwaaPlatform", None),
        ("prod-b", "StageB", "eu-west-1"),
    ]
    assert stacks[0].template == _template()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_make_review_synthesizes_base_in_a_worktree_and_removes_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "-b", "main")
    _git(repo, "config", "user.email", "review@example.com")
    _git(repo, "config", "user.name", "review")
    context = {"context": {"profiles": {"dev": {"max_workers": 2}}}}
    (repo / "cdk.json").write_text(json.dumps(context))
    _git(repo, "add", "cdk.json")
    _git(repo, "commit", "--quiet", "-m", "base")
    context["context"]["profiles"]["dev"]["max_workers"] = 4
    context["context"]["profiles"]["prod"] = {"max_workers": 1}
    (repo / "cdk.json").write_text(json.dumps(context))
    calls: list[tuple[str, str]] = []

    def synth(tree: Path, profile: str, outdir: Path) -> list[rv.StackTemplate]:
        calls.append((tree.name, profile))
        workers = json.loads((tree / "cdk.json").read_text())["context"]["profiles"][profile]["max_workers"]
        template = _with(_template(), "Environment.Properties.MaxWorkers", workers)
        return [_stack(f"{profile}-platform", template)]

    review = rv.make_review(repo, "main", None, synth=synth)
    assert sorted(calls) == [("base", "dev"), ("repo", "dev"), ("repo", "prod")]
    assert [(p.profile, [e.verdict for e in p.environments]) for p in review.profiles] == [
        ("dev", ["update"]),
        ("prod", ["added"]),
    ]
    assert review.base.startswith("main (")
    assert len(_git(repo, "worktree", "list").splitlines()) == 1

    with pytest.raises(rv.ReviewError, match="git rev-parse"):
        rv.make_review(repo, "no-such-ref", None, synth=synth)


def test_main_writes_the_report_and_sets_the_exit_code(monkeypatch, tmp_path: Path, capsys) -> None:
    base = _template()
    profile = rv.review_profile(
        "dev",
        [_stack("mwaa-dev-platform", base)],
        [_stack("mwaa-dev-platform", _with(base, "Environment.Properties.MaxWorkers", 3))],
    )
    seen: list[tuple[str, list[str]]] = []

    def fake_review(repo: Path, base_ref: str, profiles: list[str], **kwargs: Any) -> rv.Review:
        seen.append((base_ref, profiles))
        return rv.Review(base_ref, "working tree", [profile])

    monkeypatch.setattr(rv, "make_review", fake_review)
    output = tmp_path / "review.md"
    assert rv.main(["--base", "origin/main", "--profile", "dev, prod", "--output", str(output)]) == 0
    assert output.read_text().startswith(rv.MARKER)
    assert rv.main(["--base", "origin/main", "--fail-on", "replacement", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["worst"] == "update"
    assert rv.main(["--base", "origin/main", "--fail-on", "update", "--json"]) == 1
    assert "reaches --fail-on update (update)" in capsys.readouterr().err
    assert seen[0] == ("origin/main", ["dev", "prod"]) and seen[1] == ("origin/main", [])

    def failing(*args: Any, **kwargs: Any) -> rv.Review:
        raise rv.ReviewError("synth of profile dev in base failed:\nerror: bad")

    monkeypatch.setattr(rv, "make_review", failing)
    assert rv.main(["--base", "x"]) == 2
    assert capsys.readouterr().err == "error: synth of profile dev in base failed:\nerror: bad\n"
