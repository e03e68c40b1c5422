"""Relationships: where each deal stands in the pipeline (stages and their history), the record
kept on each creator across campaigns (contact, tags, rating, do-not-contact, long-term partner
status), and the creator-facing side of a deal. Built on the campaigns' own deals table: a deal
is one creator in one campaign, whatever stage it is at."""
