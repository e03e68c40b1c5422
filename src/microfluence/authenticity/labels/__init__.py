"""Calibration by a workspace's own labels: people label followers of the stored samples as
fake, real or unsure; the model's flags against those labels re-estimate the workspace's error
rates, and with them every fake-share estimate of the workspace.

* ``tables``: the ``follower_labels`` table;
* ``records``: store (a later label replaces an earlier one), list and delete labels;
* ``files``: labels from a ``username,label`` file or list, checked whole before storing;
* ``sampling``: the next follower to label, drawn uniformly at random, and its card;
* ``accuracy``: proportions with Wilson intervals;
* ``calibration``: the confusion counts and the Beta posteriors of the rates, the workspace's
  ``OperatingPoint``;
* ``status``: the measured accuracy and the estimates before and after calibration;
* ``export``: the labels as CSV, JSON or JSON Lines.

Formulas and sources: docs/authenticity.md, "Calibration by your own labels".
"""
