"""The change review on real assemblies: the CDK app synthesized (``npx cdk synth``, as ``make
review`` does) from edited copies of the repository, then compared with the unedited copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.review import render, synth, verdicts
from tools.review.cli import default_estimator
from tools.review.model import ProfileReview, Review, StackTemplate

ROOT = Path(__file__).resolve().parents[3]
_NOT_COPIED = {".git", ".venv", "node_modules", "cdk.out", "tests", "bench", "docs", "bench-results"}

GRANT = """

# Added by the review test: one more statement on the execution role.
from aws_cdk import aws_iam as _iam  # noqa: E402

_original_init = MwaaPlatformStack.__init__


def _init_with_grant(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.airflow_environment.role.add_to_principal_policy(
        _iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=["arn:aws:sqs:eu-west-1:111122223333:extra"]
        )
    )


MwaaPlatformStack.__init__ = _init_with_grant
"""


def _copy_repository(target: Path) -> Path:
    shutil.copytree(
        ROOT,
        target,
        ignore=lambda folder, names: [
            n
            for n in names
            if (Path(folder) == ROOT and (n in _NOT_COPIED or n.startswith(".venv")))
            or n in ("__pycache__", ".pytest_cache")
        ],
    )
    (target / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return target


def _edit_dag(root: Path) -> None:
    """Appends a comment to the first DAG file of the copy's default DAG folder (dags/)."""
    dags = sorted(path for path in (root / "dags").rglob("*.py") if "from airflow" in path.read_text())
    assert dags, "no DAG file found in the copy's dags/"
    dags[0].write_text(dags[0].read_text() + "\n# edited\n")


def _edit_plugins(root: Path) -> None:
    (root / "runtime" / "plugins" / "extra_module.py").write_text("X = 1\n")


def _rename(root: Path) -> None:
    cdk_json = json.loads((root / "cdk.json").read_text())
    cdk_json["context"]["profiles"]["dev"]["environment_name"] = "mwaa-dev2"
    (root / "cdk.json").write_text(json.dumps(cdk_json, indent=2))


def _more_workers(root: Path) -> None:
    cdk_json = json.loads((root / "cdk.json").read_text())
    cdk_json["context"]["profiles"]["dev"]["max_workers"] = 4
    (root / "cdk.json").write_text(json.dumps(cdk_json, indent=2))


def _grant(root: Path) -> None:
    stack = root / "stacks" / "platform_stack.py"
    stack.write_text(stack.read_text() + GRANT)


VARIANTS: dict[str, Callable[[Path], None]] = {
    "base": lambda root: None,
    "dag": _edit_dag,
    "plugins": _edit_plugins,
    "rename": _rename,
    "grant": _grant,
    "workers": _more_workers,
}


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[StackTemplate]]:
    """Every variant synthesized with profile dev, three at a time."""
    scratch = tmp_path_factory.mktemp("review")

    def build(name: str) -> list[StackTemplate]:
        root = _copy_repository(scratch / name)
        VARIANTS[name](root)
        return synth.synthesize(root, "dev", scratch / f"{name}.out")

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(VARIANTS, pool.map(build, VARIANTS), strict=True))


def _review(assemblies, variant: str) -> ProfileReview:
    return verdicts.review_profile("dev", assemblies["base"], assemblies[variant])


def test_the_same_sources_give_no_change(assemblies) -> None:
    profile = verdicts.review_profile("dev", assemblies["base"], assemblies["base"])
    assert [e.verdict for e in profile.environments] == ["none"]
    assert not any(s.changed for s in profile.stacks)


def test_a_dag_edit_needs_no_environment_update(assemblies) -> None:
    profile = _review(assemblies, "dag")
    assert [(e.name, e.verdict) for e in profile.environments] == [("mwaa-dev", "none")]
    resources = [resource for stack in profile.stacks for resource in stack.diff.resources]
    assert [(r.type, r.impact, [c.where for c in r.changes]) for r in resources] == [
        ("Custom::CDKBucketDeployment", "WILL_UPDATE", ["SourceObjectKeys[0]"])
    ]


def test_a_plugins_change_is_an_environment_update(assemblies) -> None:
    profile = _review(assemblies, "plugins")
    (verdict,) = profile.environments
    assert verdict.verdict == "update"
    (reason,) = verdict.reasons
    assert reason.startswith("PluginsS3ObjectVersion changes on deploy: ArtifactsPluginsVersion")
    assert "WorkerReplacementStrategy unset" in verdict.advice  # dev leaves it to MWAA
    types = {r.type for stack in profile.stacks for r in stack.diff.resources if r.changes}
    assert types == {"Custom::CDKBucketDeployment", "Custom::AWS"}


def test_a_renamed_environment_is_a_replacement(assemblies) -> None:
    profile = _review(assemblies, "rename")
    (verdict,) = [e for e in profile.environments if e.logical_id.startswith("Environment")]
    assert (verdict.name, verdict.verdict) == ("mwaa-dev2", "replacement")
    assert "Name: mwaa-dev → mwaa-dev2" in verdict.reasons
    assert "empty metadata database" in verdict.advice
    assert Review("base", "head", [profile]).reaches("replacement")
    markdown = render.to_markdown(Review("base", "head", [profile]))
    assert "**Environment `mwaa-dev2`** (mwaa-dev2-platform): **replacement**" in markdown


def test_an_added_grant_shows_the_statement(assemblies) -> None:
    profile = _review(assemblies, "grant")
    assert [e.verdict for e in profile.environments] == ["none"]  # the role's policy is its own resource
    statements = [s for stack in profile.stacks for s in stack.diff.statements]
    assert [(s.change, s.effect, s.actions, s.resources) for s in statements] == [
        ("added", "Allow", ("sqs:SendMessage",), ("arn:aws:sqs:eu-west-1:111122223333:extra",))
    ]
    # The execution role's statements live in its customer managed policy, attached to the role.
    assert statements[0].principals and all(p.startswith("AWS:${") for p in statements[0].principals)
    markdown = render.to_markdown(Review("base", "head", [profile]))
    assert "**Allow** sqs:SendMessage on arn:aws:sqs:eu-west-1:111122223333:extra" in markdown


def test_more_workers_is_an_update_priced_by_the_cost_estimate(assemblies) -> None:
    profile = verdicts.review_profile(
        "dev", assemblies["base"], assemblies["workers"], estimator=default_estimator()
    )
    (verdict,) = profile.environments
    assert verdict.verdict == "update"
    assert "MaxWorkers: 2 → 4" in verdict.reasons
    cost = profile.cost
    assert cost is not None and cost.priced
    assert None not in (cost.base_full, cost.head_full, cost.base_idle, cost.head_idle)
    # Two more mw1.small workers at full scale (us-east-1: 0.055 an hour, 730 hours); idle as before.
    assert cost.head_full - cost.base_full == pytest.approx(2 * 0.055 * 730)
    assert cost.head_idle == pytest.approx(cost.base_idle)


def test_a_new_profile_is_summarised_with_its_listing_folded(assemblies) -> None:
    profile = verdicts.review_profile("dev", [], assemblies["base"], estimator=default_estimator())
    assert profile.status == "new" and [e.verdict for e in profile.environments] == ["added"]
    markdown = render.to_markdown(Review("base", "head", [profile]))
    summary = markdown.split("<details>", 1)[0]
    total = sum(sum(s.resource_types.values()) for s in profile.stacks)
    assert f"- {len(profile.stacks)} stacks, {total} resources" in summary
    assert "AWS::MWAA::Environment" not in summary.split("**added**", 1)[1].split("####", 1)[0]
    assert "| add |" not in summary and markdown.count("<details>") == len(profile.stacks)
    assert "idle – → $" in summary  # priced from nothing
