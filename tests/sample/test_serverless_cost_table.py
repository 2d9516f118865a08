"""The "Classic or Serverless?" table of docs/serverless.md is the one sample/serverless/cost_table.py
computes from the sample's definition, the dev profile and the price tables: it cannot drift."""

from __future__ import annotations

from sample.serverless import cost_table


def test_the_table_in_the_docs_is_current() -> None:
    assert cost_table.main(["--check"]) == 0, "run python -m sample.serverless.cost_table"


def test_the_table_compares_the_sample_with_devs_environment_at_both_ends() -> None:
    comparison = cost_table.comparison()
    assert comparison.price is not None and comparison.classic_monthly is not None
    longest, shortest = comparison.workflows
    assert longest.usage.name.startswith("movie-list-dag") and shortest.usage.name.startswith(
        "movie-list-dag"
    )
    # Ten tasks: each billed its minute at the low end; the sum of their timeouts at the high end.
    assert shortest.billed_task_seconds_per_run == 10 * 60
    assert longest.billed_task_seconds_per_run > shortest.billed_task_seconds_per_run
    assert longest.usage.runs_per_month == shortest.usage.runs_per_month == 365 / 12
    assert shortest.break_even_runs is not None and longest.break_even_runs is not None
    assert shortest.break_even_runs > longest.break_even_runs
