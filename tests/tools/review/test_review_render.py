"""The review as people read it (Markdown) and as machines read it (JSON)."""

from __future__ import annotations

import json
from typing import Any

from review_testing import STACK, FakeEstimate, stack, template, with_

from tools.review import render, verdicts
from tools.review.model import Review


def _estimator(templates: dict[str, Any], *, region: str | None) -> FakeEstimate:
    workers = sum(
        r["Properties"].get("MaxWorkers", 0)
        for t in templates.values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::MWAA::Environment"
    )
    return FakeEstimate(monthly_idle=400.0, monthly_full=400.0 + 50 * workers)


def _markdown(base: list[Any], head: list[Any], profile: str = "dev") -> str:
    reviewed = verdicts.review_profile(profile, base, head, estimator=_estimator)
    return render.to_markdown(Review("main (abc)", "working tree", [reviewed]))


def test_a_max_workers_change_shows_old_and_new_values() -> None:
    base = with_(template(), "Environment.Properties.MaxWorkers", 5)
    head = with_(base, "Environment.Properties.MaxWorkers", 8)
    markdown = _markdown([stack(STACK, base)], [stack(STACK, head)])
    assert markdown.startswith(render.MARKER)
    assert "**Environment `mwaa-dev`** (mwaa-dev-platform): **update**" in markdown
    assert "  - `MaxWorkers: 5 → 8`" in markdown  # the verdict's reason
    assert "| update | `Environment` | AWS::MWAA::Environment | `MaxWorkers: 5 → 8` |" in markdown
    assert "idle $400.00 → $400.00 (+0.00), full $650.00 → $800.00 (+150.00)" in markdown
    assert "<details>" not in markdown  # a changed stack is listed in full


def test_a_secret_value_is_masked_in_markdown_and_json() -> None:
    base = template(
        Connection={
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "airflow/connections/db",
                "SecretString": "postgresql://u:old-password@db/x",
            },
        },
        Handler={
            "Type": "AWS::Lambda::Function",
            "Properties": {"Environment": {"Variables": {"API_TOKEN": "tok-1", "MODE": "a"}}},
        },
    )
    head = with_(base, "Connection.Properties.SecretString", "postgresql://u:new-password@db/x")
    head = with_(head, "Handler.Properties.Environment", {"Variables": {"API_TOKEN": "tok-2", "MODE": "b"}})
    head["Resources"]["Environment"]["Properties"]["AirflowConfigurationOptions"] = {
        "core.fernet_key": "{{resolve:secretsmanager:"
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:fernet}}"
    }
    reviewed = verdicts.review_profile("dev", [stack(STACK, base)], [stack(STACK, head)])
    review = Review("main", "working tree", [reviewed])
    markdown, data = render.to_markdown(review), render.to_json(review)
    for secret in ("old-password", "new-password", "tok-1", "tok-2", "secret:fernet"):
        assert secret not in markdown and secret not in data
    assert "`SecretString: *** → ***`" in markdown
    assert "`Environment.Variables.API_TOKEN: *** → ***`" in markdown
    assert "`Environment.Variables.MODE: a → b`" in markdown  # only what suggests a secret
    assert "AirflowConfigurationOptions.core.fernet_key: unset → ***" in markdown


def test_a_new_profile_is_summarised_with_its_listing_folded() -> None:
    markdown = _markdown([], [stack(STACK, template())], profile="staging")
    summary, folded = markdown.split("<details>", 1)
    assert "### Profile `staging` (new profile: BASE does not have it)" in summary
    assert "**Environment `mwaa-dev`** (mwaa-dev-platform): **added**" in summary
    assert "idle – → $400.00 (new), full – → $500.00 (new)" in summary
    assert "- 1 stack, 7 resources" in summary
    assert "#### Stack `mwaa-dev-platform` (new stack)" in summary
    assert "7 resources: 2 AWS::EC2::Subnet, 1 AWS::EC2::SecurityGroup" in summary
    assert "| add |" not in summary  # the per-resource rows are folded
    assert "| add | `Environment` | AWS::MWAA::Environment | – |" in folded
    assert "➕ added: **Allow** s3:GetObject on * for AWS:${Role}" in folded
    assert folded.rstrip().endswith("</details>")


def test_a_removed_profile_says_its_stacks_stay_deployed() -> None:
    markdown = _markdown([stack(STACK, template())], [])
    assert "(removed profile: its stacks stay deployed until destroyed)" in markdown
    assert "**removed** — environment REMOVED" in markdown
    assert "(no longer synthesized: `cdk deploy` leaves it deployed)" in markdown


def test_values_cannot_break_the_markdown() -> None:
    assert render.code("a|b", table=True) == "`a\\|b`"
    assert render.code("x `y`") == "`` x `y` ``"
    assert render.code("line 1\nline 2") == "`line 1 line 2`"
    assert render.code("v" * 300).endswith("…`") and len(render.code("v" * 300)) == 122


def test_json_holds_the_engine_results_and_the_worst_verdict() -> None:
    base = template()
    head = with_(base, "Environment.Properties.MaxWorkers", 3)
    reviewed = verdicts.review_profile("dev", [stack(STACK, base)], [stack(STACK, head)])
    data = json.loads(render.to_json(Review("main", "working tree", [reviewed])))
    assert data["worst"] == "update"
    (profile,) = data["profiles"]
    assert profile["environments"][0]["verdict"] == "update"
    (resource,) = profile["stacks"][0]["diff"]["resources"]
    assert resource["impact"] == "WILL_UPDATE"
    assert resource["changes"] == [
        {"section": "Properties", "path": ["MaxWorkers"], "old": "2", "new": "3", "impact": "WILL_UPDATE"}
    ]
