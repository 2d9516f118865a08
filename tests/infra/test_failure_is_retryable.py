"""A failed first create can be retried, and retained data survives: on every profile of cdk.json
and every variant of the permission contract.

CloudFormation keeps a resource whose DeletionPolicy is Retain even when the stack's *create*
rolls back; a resource with a fixed name (the DAG bucket airflow-..., the log groups, the key
alias) then makes the retry fail with "already exists". RetainExceptOnCreate
(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) deletes it on a failed create only and keeps it on
stack deletion and replacement, which is what a retained profile asks for.
"""

from __future__ import annotations

import pytest

from tools.permissions.deployments import labels, synthesize_profile
from tools.permissions.templates import NAME_PROPERTY

# Resources that hold data; "retain" profiles must keep them on deletion and replacement.
STATEFUL = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup")


@pytest.fixture(scope="module", params=labels())
def synthesized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return synthesize_profile(request.param, tmp_path_factory.mktemp("cdk.out"))


def _raw_resources(synthesized, *, profile_only: bool = False) -> list[tuple[str, str, dict]]:
    # ResolvedStack keeps each resource's DeletionPolicy and UpdateReplacePolicy as synthesized.
    # profile_only: the profile's own stacks, not the account's deploy access and pipeline stacks.
    own = set(synthesized.profile.stack_names)
    return [
        (stack.name, lid, resource)
        for stack in synthesized.stacks.values()
        if not profile_only or stack.name in own
        for lid, resource in stack.resources.items()
    ]


def test_no_named_resource_outlives_a_failed_create(synthesized) -> None:
    blocking = [
        f"{stack} {lid} ({resource['Type']} {resource['Properties'][NAME_PROPERTY[resource['Type']]]})"
        for stack, lid, resource in _raw_resources(synthesized)
        if resource["Type"] in NAME_PROPERTY
        and NAME_PROPERTY[resource["Type"]] in resource.get("Properties", {})
        and resource.get("DeletionPolicy") == "Retain"
    ]
    assert not blocking, (
        "kept after a rolled-back create, so the retry fails 'already exists' "
        "(use RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE):\n" + "\n".join(blocking)
    )


def _keeps_data(resource: dict) -> bool:
    return resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate") and (
        resource.get("UpdateReplacePolicy") == "Retain"
    )


def test_data_follows_the_profile_removal_policy(synthesized) -> None:
    # retain: kept on stack deletion and on replacement; destroy: deleted with the stack.
    retain = synthesized.profile.removal_policy == "retain"
    wrong = [
        f"{stack} {lid} ({resource['Type']}): DeletionPolicy {resource.get('DeletionPolicy')}, "
        f"UpdateReplacePolicy {resource.get('UpdateReplacePolicy')}"
        for stack, lid, resource in _raw_resources(synthesized, profile_only=True)
        if resource["Type"] in STATEFUL
        and (not _keeps_data(resource) if retain else resource.get("DeletionPolicy") != "Delete")
    ]
    assert not wrong, f"removal_policy {synthesized.profile.removal_policy} not honoured:\n" + "\n".join(
        wrong
    )


def test_at_least_one_profile_of_each_removal_policy_is_checked() -> None:
    from tools.permissions.deployments import profile_settings

    policies = {profile_settings(label)[1].get("removal_policy", "retain") for label in labels()}
    assert policies == {"retain", "destroy"}
