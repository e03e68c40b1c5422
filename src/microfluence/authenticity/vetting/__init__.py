"""Vetting: the Audience Quality Score and the report that explains it.

* ``score``: the score's components, weights and verdicts;
* ``report``: one account's vetting report, every component with its evidence;
* ``html``: the report as one standalone HTML file.
"""
