#!/bin/sh
# Prints the first Python >= 3.11 found, preferring 3.12 (the Python of MWAA's Airflow 3 image).
# pyenv shims for versions that are installed but not selected fail, so pyenv's own
# installations are tried directly as well.
for candidate in python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12 \
                 python3.13 python3.11 python3; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "$candidate"
    exit 0
  fi
done
echo "no Python 3.11+ found: install python3.12" >&2
exit 1
