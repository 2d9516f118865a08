#!/bin/bash
# Runs on every MWAA scheduler, worker and web server before Airflow starts (deployed as
# startup/startup.sh). MWAA sources it to collect the variables it exports, so it sets no shell
# options (set -e/-u would leak into that shell). Keep it idempotent and fast: it delays every
# container start, and a change to it runs an environment update.

# HTTP connection to the MovieLens download site, used by the sample DAG's source check and
# download. Defined here, not in the metadata database, so that it is part of the deployment.
export AIRFLOW_CONN_MOVIELENS_HTTP='{"conn_type": "http", "host": "files.grouplens.org", "schema": "https"}'
