"""Authenticity: is an audience real? The follower-sample audit lives here.

* ``follower_features``: follower profiles (any subset of the usual columns) to model features;
* ``follower_model``: the shipped classifier, stored as JSON and scored with NumPy;
* ``fake_share``: an audience's fake share, corrected for the base rate, with its interval;
* ``follower_files``: follower files read and written in batches of whole rows;
* ``follower_audit``: the service functions the CLI, API and pages call;
* ``labelled_data`` and ``evaluation``: the public labelled sets and the metrics on them;
* ``train_follower_model``: the script that builds the shipped model (docs/model-card-follower.md).
"""
