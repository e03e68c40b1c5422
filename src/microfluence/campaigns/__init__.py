"""Campaigns and deals: a campaign's creators, what each is paid and must deliver, and the
posts that delivered it."""
