"""Authenticity: is an audience real? The follower-sample audit lives here.

* ``follower_features``: follower profiles (any subset of the usual columns) to model features;
* ``follower_model``: the shipped classifier, stored as JSON and scored with NumPy;
* ``fake_share``: an audience's fake share, corrected for the base rate, with its interval;
* ``follower_files``: follower files read and written in batches of whole rows;
* ``follower_audit``: the service functions the CLI, API and pages call;
* ``labelled_data`` and ``evaluation``: the public labelled sets and the metrics on them;
* ``train_follower_model``: the script that builds the shipped model (docs/model-card-follower.md).

Signals that need no follower sample, the score and the vetting report (docs/authenticity.md):

* ``account_data``: the frames the signals read (the only store access of the signals);
* ``growth``, ``engagement_signals``, ``comments``, ``following_ratio``, ``sponsored``,
  ``brand_safety``, ``fake_share_signal``: one signal each, vectorised over many accounts;
* ``account_signals``, ``quality_score``: every signal in one frame, the Audience Quality Score;
* ``vetting``, ``report_html``, ``vet_cli``: the vetting report, its HTML export, its CLI;
* ``vetting_evaluation``: precision and recall of the score against the demo's planted labels.
"""
