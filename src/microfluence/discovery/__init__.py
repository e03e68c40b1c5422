"""Discovery: what each account is about (niches), finding creators by filters, keywords, a
free-text brief or "more like these", and the shortlists a campaign takes creators from."""
