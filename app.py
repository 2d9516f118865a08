#!/usr/bin/env python3
"""CDK app: reads the selected profiles from cdk.json, builds their stacks (the platform, then
the add-ons each profile enables), checks them with cdk-nag.

npx cdk synth                       # profile "dev"
npx cdk synth -c profile=prod
npx cdk synth -c profile=dev,prod   # several profiles, one cloud assembly
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from mwaa_constructs import ArtifactError
from platform_config import ProfileError, load_profiles, synth_profiles
from stacks import ProfileStacks, build_profile_stacks
from stacks.addons import addon_problems
from stacks.compliance import add_compliance_checks
from stacks.layout import ROOT, print_summary

# The file the CDK CLI read the context from: it runs the app in the folder of cdk.json.
CDK_JSON = Path("cdk.json")


def build_app(app: cdk.App, *, cdk_json: Path = CDK_JSON) -> list[ProfileStacks]:
    """Build the stacks of every profile named by the ``profile`` context value (comma-separated;
    default ``dev``), in the order given, and attach cdk-nag to each profile's stacks: AwsSolutions
    and the packs of the profile's ``compliance`` setting.

    The profiles are read from ``cdk_json`` itself when it exists, not from the context, which
    has lost every ``null`` on its way into Python (``platform_config.synth_profiles``)."""
    profiles = load_profiles(
        synth_profiles(cdk_json, app.node.try_get_context("profiles")),
        app.node.try_get_context("profile"),
        root=ROOT,
        # The add-ons' own rules, reported with the profiles' other problems.
        checks=[addon_problems],
    )
    built = [build_profile_stacks(app, profile) for profile in profiles]
    for profile_stacks in built:
        # AwsSolutions and the profile's compliance packs, over this profile's stacks only.
        add_compliance_checks(profile_stacks.stacks, profile_stacks.profile.compliance)
    return built


def main() -> int:
    # CDK's built-in CloudFormation schema validation takes about 3 s of every synth; `make test`
    # runs cfn-lint over every template of every shipped profile instead, which checks the same
    # schemas and more. cdk-nag still runs on every synth.
    app = cdk.App(builtin_cloud_formation_validation=False)
    try:
        built = build_app(app)
    except (ProfileError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    for profile_stacks in built:
        print_summary(profile_stacks.platform, profile_stacks.stacks, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
