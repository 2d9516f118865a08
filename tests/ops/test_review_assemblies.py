"""The change review on real assemblies: the CDK app synthesized (``npx cdk synth``, as ``make
review`` does) from edited copies of the repository, then compared with the unedited copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mwaa_ops import review as rv

ROOT = Path(__file__).resolve().parents[2]
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
            if (Path(folder) == ROOT and n in _NOT_COPIED) or n in ("__pycache__", ".pytest_cache")
        ],
    )
    (target / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return target


def _edit_dag(root: Path) -> None:
    """Appends a comment to the first DAG file of the copy (wherever the deployed DAGs live)."""
    dags = sorted(
        path
        for path in root.rglob("*dag*.py")
        if "node_modules" not in path.parts and "from airflow" in path.read_text(errors="replace")
    )
    assert dags, "no DAG file found in the copy"
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
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[rv.StackTemplate]]:
    """Every variant synthesized with profile dev, three at a time."""
    scratch = tmp_path_factory.mktemp("review")

    def build(name: str) -> list[rv.StackTemplate]:
        root = _copy_repository(scratch / name)
        VARIANTS[name](root)
        return rv.synthesize(root, "dev", scratch / f"{name}.out")

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(VARIANTS, pool.map(build, VARIANTS), strict=True))


def _review(assemblies, variant: str) -> rv.ProfileReview:
    return rv.review_profile("dev", assemblies["base"], assemblies[variant])


def test_the_same_sources_give_no_change(assemblies) -> None:
    profile = rv.review_profile("dev", assemblies["base"], assemblies["base"])
    assert [e.verdict for e in profile.environments] == ["none"]
    assert not any(s.changed for s in profile.stacks)


def test_a_dag_edit_needs_no_environment_update(assemblies) -> None:
    profile = _review(assemblies, "dag")
    assert [(e.name, e.verdict) for e in profile.environments] == [("mwaa-dev", "none")]
    changes = [change for stack in profile.stacks for change in stack.resources]
    assert [(c.type, c.paths) for c in changes] == [
        ("Custom::CDKBucketDeployment", ("Properties.SourceObjectKeys[0]",))
    ]


def test_a_plugins_change_is_an_environment_update(assemblies) -> None:
    profile = _review(assemblies, "plugins")
    (verdict,) = profile.environments
    assert verdict.verdict == "update"
    (reason,) = verdict.reasons
    assert reason.startswith("Properties.PluginsS3ObjectVersion changes on deploy: ArtifactsPluginsVersion")
    assert "WorkerReplacementStrategy unset" in verdict.advice  # dev leaves it to MWAA
    types = {c.type for stack in profile.stacks for c in stack.resources}
    assert types == {"Custom::CDKBucketDeployment", "Custom::AWS"}


def test_a_renamed_environment_is_a_replacement(assemblies) -> None:
    profile = _review(assemblies, "rename")
    (verdict,) = [e for e in profile.environments if e.logical_id.startswith("Environment")]
    assert (verdict.name, verdict.verdict) == ("mwaa-dev2", "replacement")
    assert "Properties.Name changed" in verdict.reasons
    assert "empty metadata database" in verdict.advice
    assert rv.Review("base", "head", [profile]).reaches("replacement")
    markdown = rv.to_markdown(rv.Review("base", "head", [profile]))
    assert "**Environment `mwaa-dev2`** (mwaa-dev2-platform): **replacement**" in markdown


def test_an_added_grant_shows_the_statement(assemblies) -> None:
    profile = _review(assemblies, "grant")
    assert [e.verdict for e in profile.environments] == ["none"]  # the role's policy is its own resource
    statements = [s for stack in profile.stacks for s in stack.statements]
    assert [(s.change, s.type, s.effect, s.actions, s.resources) for s in statements] == [
        (
            "added",
            # The execution role's statements live in its customer managed policy (ManagedPolicyRole).
            "AWS::IAM::ManagedPolicy",
            "Allow",
            ("sqs:SendMessage",),
            ("arn:aws:sqs:eu-west-1:111122223333:extra",),
        )
    ]
    markdown = rv.to_markdown(rv.Review("base", "head", [profile]))
    assert "**Allow** sqs:SendMessage on arn:aws:sqs:eu-west-1:111122223333:extra" in markdown


def test_more_workers_is_an_update_priced_by_the_cost_estimate(assemblies) -> None:
    profile = rv.review_profile(
        "dev", assemblies["base"], assemblies["workers"], estimator=rv.default_estimator()
    )
    (verdict,) = profile.environments
    assert verdict.verdict == "update"
    assert "Properties.MaxWorkers" in " ".join(verdict.reasons)
    cost = profile.cost
    assert cost is not None and cost.priced
    # Two more mw1.small workers at full scale (us-east-1: 0.055 an hour, 730 hours); idle as before.
    assert cost.head_full - cost.base_full == pytest.approx(2 * 0.055 * 730)
    assert cost.head_idle == pytest.approx(cost.base_idle)
