"""Metrics: tiers, engagement rate done right, growth, vendor definitions and cohorts.

One pipeline definition (``pipeline.py``, Ibis) runs on DuckDB or Spark (``engines.py``);
``service.py`` holds the functions the CLI, the API and the pages call.
"""
