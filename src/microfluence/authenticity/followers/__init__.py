"""The follower-sample audit: which followers look fake, and what share of the audience is.

* ``features``: follower profiles (any subset of the usual columns) to model features;
* ``model``: the shipped classifier, stored as JSON and scored with NumPy;
* ``fake_share``: an audience's fake share, corrected for the base rate, with its interval;
* ``files``: follower files read and written in batches of whole rows;
* ``audit``: the service functions the CLI, API and pages call;
* ``labelled``: the public labelled sets' formats to features and labels;
* ``training``: the script that builds the shipped model (docs/model-card-follower.md).
"""
