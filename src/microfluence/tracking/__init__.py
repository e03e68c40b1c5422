"""Tracking: UTM-tagged destinations, short links served at /r/{slug}, and their clicks."""
