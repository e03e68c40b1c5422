"""Authenticity signals that need no follower sample, each vectorised over many accounts.

* ``frames``: the frames the signals read (the only store access of the signals);
* ``growth``, ``engagement``, ``comments`` (and pods), ``following_ratio``, ``sponsored``,
  ``brand_safety``, ``fake_share`` (the follower audit as a component): one signal each;
* ``scale``: the shared arithmetic (robust z-scores, 0-100 scales);
* ``table``: every signal of a set of accounts in one frame.
"""
