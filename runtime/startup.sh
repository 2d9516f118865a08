#!/bin/bash
# Runs on every MWAA scheduler, worker and web server before Airflow starts (deployed as
# startup/startup.sh). MWAA sources it to collect the variables it exports, so it sets no shell
# options (set -e/-u would leak into that shell). Keep it idempotent and fast: it delays every
# container start, and a change to it runs an environment update.
#
# Export here the environment variables the DAGs need. Connections and variables belong in
# Secrets Manager under the profile's secrets_backend prefixes (default airflow/connections/
# and airflow/variables/), where Airflow reads them at run time: changing one there needs no
# environment update.
