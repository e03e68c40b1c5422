"""How well the follower model and the Audience Quality Score do on labelled data.

* ``classification``: confusion matrices, precision/recall, ROC AUC;
* ``vetting``: the score against a workspace's planted labels (the demo's).
"""
