"""Disaster recovery for Airflow 3 environments: ``mwaa-ops backup`` and ``mwaa-ops restore``.

A backup reads what the Airflow REST API v2 can carry (pools, variables, connections without
their secrets, DAG pause states, DAG runs with their task-instance states, optionally XComs) into
one versioned archive (:mod:`mwaa_ops.dr.archive`); a restore replays it into another
environment in an order that re-runs nothing (:mod:`mwaa_ops.dr.restore`). Both talk to Airflow
through a :class:`~mwaa_ops.dr.transport.Transport`: a plain URL with a token, MWAA's
``InvokeRestApi``, or an MWAA web-login session. docs/disaster-recovery.md is the user guide.
"""
