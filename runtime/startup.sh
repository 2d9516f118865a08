#!/bin/bash
# Runs on every MWAA scheduler, worker and web server before Airflow starts (deployed as
# startup/startup.sh). Keep it idempotent and fast: it delays every container start.
set -euo pipefail

# HTTP connection to the MovieLens download site, used by the sample DAG's source check and
# download. A connection in the environment keeps the URL out of the metadata database.
export AIRFLOW_CONN_MOVIELENS_HTTP='{"conn_type": "http", "host": "files.grouplens.org", "schema": "https"}'
