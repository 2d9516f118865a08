"""The add-on interface of the app (``stacks/addons.py``): an add-on found by its manifest builds
its stack on the platform's outputs, its rules and its DAG files stop a bad build, and the
platform names no add-on of this repository. The proof that the sample can be deleted is
``tests/infra/test_addon_removal.py``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mwaa_constructs import ArtifactError
from platform_config import Profile, ProfileError, load_profile
from platform_config.addons import AddonManifest
from platform_config.profile import addon_manifests
from stacks import build_profile_stacks
from stacks.addons import load_addon
from tests.infra.conftest import ROOT, cdk_context, copy_sources

FIXTURE_ADDONS = Path(__file__).resolve().parent / "fixtures" / "addons"
GREETER: dict[str, Any] = {
    "environment_name": "mwaa-greet",
    "encryption": "aws_owned",
    "network": {"mode": "nat", "vpc_cidr": "10.70.0.0/16"},
    "greeter": True,
}


def _profile(manifests: list[AddonManifest], **settings: Any) -> Profile:
    return load_profile({"greet": {**GREETER, **settings}}, "greet", manifests=manifests)


def _app(tmp_path: Path) -> cdk.App:
    flags = {k: v for k, v in cdk_context().items() if k != "profiles"}
    return cdk.App(context=flags, outdir=str(tmp_path / "out"))


@pytest.fixture(scope="module")
def greeter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The greeter fixture add-on built with its platform: what was built and both templates."""
    tmp_path = tmp_path_factory.mktemp("greeter")
    profile = _profile(addon_manifests(FIXTURE_ADDONS), greeting="good morning")
    app = _app(tmp_path)
    built = build_profile_stacks(app, profile, root=copy_sources(tmp_path / "repo"))
    assembly = app.synth()
    templates = {s.stack_name: s.template for s in assembly.stacks}
    return built, templates["mwaa-greet-platform"], templates["mwaa-greet-greeter"]


def test_an_enabled_add_on_builds_its_stack_after_the_platform(greeter) -> None:
    built, _, _ = greeter
    assert [s.stack_name for s in built.stacks] == ["mwaa-greet-platform", "mwaa-greet-greeter"]
    assert built.profile.stack_names == ("mwaa-greet-platform", "mwaa-greet-greeter")
    # The add-on's stack depends on the platform, never the other way round.
    assert built.addons["greeter"].dependencies == [built.platform]
    assert built.platform.dependencies == []


def test_the_add_on_builds_on_the_platform_s_outputs(greeter) -> None:
    _, platform, addon = greeter
    (environment,) = Template.from_json(platform).find_resources("AWS::MWAA::Environment").values()
    bucket_id = environment["Properties"]["SourceBucketArn"]["Fn::GetAtt"][0]  # the DAG bucket
    (parameter,) = Template.from_json(addon).find_resources("AWS::SSM::Parameter").values()
    imported = parameter["Properties"]["Value"]["Fn::ImportValue"]
    (export,) = [o for o in platform["Outputs"].values() if o.get("Export", {}).get("Name") == imported]
    assert export["Value"] == {"Ref": bucket_id}
    assert parameter["Properties"]["Description"] == "good morning"  # its own setting


def test_the_platform_s_dag_deployment_leaves_the_add_on_s_folder_alone(greeter) -> None:
    _, platform, _ = greeter
    deployments = Template.from_json(platform).find_resources("Custom::CDKBucketDeployment").values()
    (dags,) = [d for d in deployments if d["Properties"]["DestinationBucketKeyPrefix"] == "dags/"]
    assert dags["Properties"]["Exclude"] == ["greeter/*"]


def test_an_add_on_that_is_off_builds_nothing(tmp_path: Path) -> None:
    profile = _profile(addon_manifests(FIXTURE_ADDONS), greeter=False)
    app = _app(tmp_path)
    built = build_profile_stacks(app, profile, root=copy_sources(tmp_path / "repo"))
    assert built.stacks == [built.platform]
    assert built.addons == {}


def test_the_add_on_s_rules_stop_the_build(tmp_path: Path) -> None:
    profile = _profile(addon_manifests(FIXTURE_ADDONS), encryption="customer_managed")
    app = _app(tmp_path)
    with pytest.raises(ProfileError) as caught:
        build_profile_stacks(app, profile, root=copy_sources(tmp_path / "repo"))
    assert caught.value.problems == ["greeting: got 'hello'; say something else with a customer managed key"]
    assert not app.node.children


def test_an_add_on_dag_file_that_does_not_compile_stops_the_build(tmp_path: Path) -> None:
    # A copy under a package name of its own (the fixture's package is imported already).
    folder = tmp_path / "addons" / "broken_greeter"
    shutil.copytree(FIXTURE_ADDONS / "greeter", folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = (folder / "addon.toml").read_text()
    (folder / "addon.toml").write_text(
        manifest.replace('"greeter.addon:ADDON"', '"broken_greeter.addon:ADDON"')
    )
    (folder / "dags" / "greeter" / "broken.py").write_text("def broken(:\n")
    profile = _profile(addon_manifests(folder.parent), greeting="hi")
    with pytest.raises(ArtifactError, match=r"broken_greeter/dags/greeter/broken\.py:1: SyntaxError"):
        build_profile_stacks(_app(tmp_path), profile, root=copy_sources(tmp_path / "repo"))


def test_an_entry_is_imported_only_from_the_add_on_s_own_folder(tmp_path: Path) -> None:
    # A folder named like a package of the repository cannot smuggle that package in.
    (tmp_path / "stacks").mkdir()
    manifest = (FIXTURE_ADDONS / "greeter" / "addon.toml").read_text()
    manifest = manifest.replace('entry = "greeter.addon:ADDON"', 'entry = "stacks.addons:Addon"')
    manifest = manifest.replace('source = "dags/greeter"', 'source = "."')
    (tmp_path / "stacks" / "addon.toml").write_text(manifest)
    (manifest_of_stacks,) = addon_manifests(tmp_path)
    with pytest.raises(ImportError, match=r"add-on 'greeter': package 'stacks' is not its folder"):
        load_addon(manifest_of_stacks)


# -- no add-on of this repository is known to the platform by name ----------------------------

# The platform's packages, its CDK apps and the developer tools: what must work without any add-on.
PLATFORM_SOURCES = (
    "mwaa_rules",
    "platform_config",
    "mwaa_constructs",
    "stacks",
    "mwaa_ops",
    "tools",
    "app.py",
    "pipeline_app.py",
    "deploy_access_app.py",
)


def _names_of(manifest: AddonManifest) -> list[str]:
    """What would name the add-on in code: its settings, stack suffix, DAG folder and smoke DAG,
    and an import of its package."""
    names = [*manifest.setting_keys, manifest.stack_suffix]
    names += [n for n in (manifest.dag_folder, manifest.smoke_dag) if n]
    return [re.escape(n) for n in names] + [rf"(from|import) {manifest.folder.name}\b"]


@pytest.mark.parametrize("manifest", addon_manifests(ROOT), ids=lambda m: m.name)
def test_the_platform_names_no_add_on(manifest: AddonManifest) -> None:
    pattern = re.compile(rf"\b({'|'.join(_names_of(manifest))})\b")
    found = []
    for source in PLATFORM_SOURCES:
        path = ROOT / source
        for file in sorted([path] if path.is_file() else path.rglob("*.py")):
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    found.append(f"{file.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "the platform names an add-on; read it from the manifest instead:\n" + "\n".join(
        found
    )


def test_every_add_on_of_the_repository_loads(tmp_path: Path) -> None:
    for manifest in addon_manifests(ROOT):
        addon = load_addon(manifest)
        assert addon.manifest == manifest
        assert json.dumps(manifest.defaults())  # plain data: a profile and a JSON Schema can hold it
