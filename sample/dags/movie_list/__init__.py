"""Support code for ``movie_list_dag.py``: configuration, SQL and the Python task bodies.

Kept out of DAG discovery by ``dags/.airflowignore``; the DAG file imports it because
Airflow puts the DAG folder on ``sys.path``.
"""
