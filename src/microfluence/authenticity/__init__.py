"""Authenticity: is an audience real, and is this creator safe to hire?

* ``followers/``: the follower-sample audit — profile features, the shipped model, follower
  files, the audience's fake share with its interval, the labelled public sets, training;
* ``signals/``: signals that need no follower sample — growth, engagement, comments and pods,
  following ratio, sponsored saturation, brand safety, the fake-share component, and the
  per-account signal table that joins them;
* ``vetting/``: the Audience Quality Score, the vetting report with its evidence, its HTML file;
* ``evaluation/``: how well the model and the score do on labelled data;
* ``labels/``: the workspace's own labels on its followers, which re-estimate the model's error
  rates (and so every fake share) for that workspace;
* ``cli.py``: `microfluence audit`, `vet`, `eval` and `labels` (thin faces).

Formulas and sources: docs/authenticity.md.
"""
