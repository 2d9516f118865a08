"""Developer tools of this repository (DAG checks, local DAG runs, benchmarks); not installed."""
