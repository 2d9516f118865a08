"""The alarms of an environment (read by the monitoring construct and the cost model): each
alarm's description says the window and threshold it is evaluated with."""

from __future__ import annotations

import re

import pytest

from mwaa_rules import alarms

RULES = {rule.id: rule for rule in alarms.RECOMMENDED_ALARMS}


def test_alarm_ids_and_names_are_distinct() -> None:
    # An id is a construct id (a duplicate fails synth); a name is the CloudWatch alarm name
    # after the environment's (a duplicate would make two alarms one).
    assert len(RULES) == len(alarms.RECOMMENDED_ALARMS)
    assert len({rule.name for rule in alarms.RECOMMENDED_ALARMS}) == len(alarms.RECOMMENDED_ALARMS)


@pytest.mark.parametrize("rule", alarms.RECOMMENDED_ALARMS, ids=lambda rule: rule.id)
def test_a_description_names_the_window_it_is_evaluated_over(rule: alarms.AlarmRule) -> None:
    minutes = [int(m) for m in re.findall(r"(\d+) minutes", rule.description)]
    if rule.metric == "oldest_queued_task":
        # Its minutes are the threshold: the age of the oldest task.
        assert minutes == [rule.threshold // 60]
    else:
        assert minutes == [rule.periods * alarms.PERIOD_MINUTES]


@pytest.mark.parametrize("rule", alarms.RECOMMENDED_ALARMS, ids=lambda rule: rule.id)
def test_a_percentage_in_a_description_is_the_threshold(rule: alarms.AlarmRule) -> None:
    percent = re.findall(r"(\d+) %", rule.description)
    if rule.metric in ("cpu", "memory", "database_cpu"):
        assert percent == [str(rule.threshold)]
    else:
        assert percent == []


def test_container_alarms_name_their_cluster_and_no_other_does() -> None:
    for rule in alarms.RECOMMENDED_ALARMS:
        assert (rule.cluster is not None) == (rule.metric in ("cpu", "memory")), rule.id
        if rule.cluster is not None:
            assert rule.description.startswith(f"{rule.cluster} {rule.metric} above")
