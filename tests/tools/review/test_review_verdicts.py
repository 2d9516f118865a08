"""Verdicts per MWAA environment and the review of a profile, on small hand-written templates."""

from __future__ import annotations

from typing import Any

import pytest
from review_testing import STACK, FakeEstimate, stack, template, verdict, with_

from tools.review import verdicts
from tools.review.model import CostChange, Review


def test_a_dag_upload_change_needs_no_environment_update() -> None:
    base = template(
        Dags={"Type": "Custom::CDKBucketDeployment", "Properties": {"SourceObjectKeys": ["a.zip"]}}
    )
    base["Resources"]["Environment"]["DependsOn"] = ["Dags"]
    head = with_(base, "Dags.Properties", {"SourceObjectKeys": ["b.zip"]})
    assert verdict(base, head).verdict == "none"


def test_a_changed_custom_resource_behind_a_token_is_an_update() -> None:
    base = template()
    head = with_(base, "PluginsVersion.Properties.Update", '{"physicalResourceId":"plugins@bbbb"}')
    result = verdict(base, head)
    assert result.verdict == "update"
    assert result.reasons == ("PluginsS3ObjectVersion changes on deploy: PluginsVersion updated",)
    assert "WorkerReplacementStrategy unset" in result.advice
    # A new handler alone (ServiceToken) returns the same attributes: no update.
    head = with_(base, "PluginsVersion.Properties.ServiceToken", "arn:other-handler")
    assert verdict(base, head).verdict == "none"


def test_an_updated_bucket_keeps_its_arn() -> None:
    base = template()
    head = with_(base, "Bucket.Properties.VersioningConfiguration", {"Status": "Suspended"})
    assert verdict(base, head).verdict == "none"


def test_property_changes_are_updates_with_old_and_new_values_and_graceful_is_said() -> None:
    base = with_(template(), "Environment.Properties.MaxWorkers", 5)
    head = with_(base, "Environment.Properties.MaxWorkers", 8)
    head["Resources"]["Environment"]["Properties"]["WorkerReplacementStrategy"] = "GRACEFUL"
    result = verdict(base, head)
    assert result.verdict == "update"
    assert result.reasons == ("MaxWorkers: 5 → 8", "WorkerReplacementStrategy: unset → GRACEFUL")
    assert "GRACEFUL: running tasks finish" in result.advice


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("Environment.Properties.KmsKey", "arn:aws:kms:eu-west-1:111122223333:key/1", "KmsKey: unset → arn:"),
        ("Environment.Properties.EndpointManagement", "CUSTOMER", "EndpointManagement: unset → CUSTOMER"),
        # The subnet is replaced: a new subnet id, and SubnetIds are create-only (nested: the
        # engine's per-property model cannot see it, the verdict does).
        (
            "SubnetB.Properties.CidrBlock",
            "10.0.2.0/24",
            "NetworkConfiguration.SubnetIds[1] changes on deploy: SubnetB replaced",
        ),
        (
            "Environment.Properties.NetworkConfiguration.SubnetIds",
            [{"Ref": "SubnetB"}, {"Ref": "SubnetA"}],
            "",
        ),
    ],
)
def test_replacing_a_named_environment_is_flagged_with_what_to_do(path: str, value: Any, reason: str) -> None:
    base = template()
    result = verdict(base, with_(base, path, value))
    assert result.verdict == "replacement"
    assert result.reasons[0].startswith(reason)
    assert "fails" in result.advice and "change environment_name" in result.advice


def test_a_replaced_security_group_is_an_update_not_a_replacement() -> None:
    base = template()
    result = verdict(base, with_(base, "Group.Properties.GroupDescription", "other"))
    assert result.verdict == "update"
    assert result.reasons == ("NetworkConfiguration.SecurityGroupIds[0] changes on deploy: Group replaced",)


def test_a_renamed_environment_is_a_new_one() -> None:
    base = template()
    result = verdict(base, with_(base, "Environment.Properties.Name", "mwaa-dev2"))
    assert (result.verdict, result.name) == ("replacement", "mwaa-dev2")
    assert result.reasons == ("Name: mwaa-dev → mwaa-dev2",)
    assert "empty metadata database" in result.advice and "deletes mwaa-dev" in result.advice


def test_added_and_removed_environments() -> None:
    body = template()
    (added,) = verdicts.review_profile("dev", [], [stack(STACK, body)]).environments
    (removed,) = verdicts.review_profile("dev", [stack(STACK, body)], []).environments
    assert (added.verdict, removed.verdict) == ("added", "removed")
    assert "metadata database" in removed.advice


def test_profile_review_prices_both_sides_and_fails_on_the_verdict() -> None:
    base = template()
    head = with_(base, "Environment.Properties.MaxWorkers", 10)
    seen: list[tuple[list[str], str | None]] = []

    def estimator(templates: dict[str, Any], *, region: str | None) -> FakeEstimate:
        seen.append((sorted(templates), region))
        workers = templates[STACK]["Resources"]["Environment"]["Properties"]["MaxWorkers"]
        return FakeEstimate(monthly_idle=400.0, monthly_full=400.0 + 50 * workers)

    profile = verdicts.review_profile("dev", [stack(STACK, base)], [stack(STACK, head)], estimator=estimator)
    assert profile.status == "changed"
    assert seen == [([STACK], "eu-west-1")] * 2
    assert profile.cost == CostChange("eu-west-1", True, 400.0, 500.0, 400.0, 900.0)
    review = Review("main", "working tree", [profile])
    assert (review.worst, review.reaches("update"), review.reaches("replacement"), review.reaches(None)) == (
        "update",
        True,
        False,
        False,
    )


def test_a_removed_environment_fails_a_replacement_gate() -> None:
    profile = verdicts.review_profile("dev", [stack(STACK, template())], [])
    assert profile.status == "removed"
    assert profile.cost_note == "no cost estimator available"
    assert Review("a", "b", [profile]).reaches("replacement")


def test_a_new_profile_is_priced_from_nothing_and_counts_its_resources() -> None:
    profile = verdicts.review_profile(
        "staging",
        [],
        [stack(STACK, template())],
        estimator=lambda templates, *, region: FakeEstimate(monthly_idle=399.0, monthly_full=439.0),
    )
    assert profile.status == "new"
    assert profile.cost == CostChange("eu-west-1", True, None, None, 399.0, 439.0)
    (only,) = profile.stacks
    assert only.one_sided and only.resource_types["AWS::EC2::Subnet"] == 2
    assert "AWS::CDK::Metadata" not in only.resource_types


def test_a_renamed_stack_is_paired_with_its_old_name() -> None:
    base = template()
    head = with_(base, "Environment.Properties.Name", "mwaa-dev2")
    profile = verdicts.review_profile("dev", [stack(STACK, base)], [stack("mwaa-dev2-platform", head)])
    (paired,) = profile.stacks
    assert (paired.base_name, paired.head_name) == (STACK, "mwaa-dev2-platform")
    (result,) = profile.environments
    assert result.verdict == "replacement"
    assert "keeps running in mwaa-dev-platform until you destroy that stack" in result.advice
