"""Outreach: message templates rendered in a sandbox, e-mail sent over SMTP within a daily
limit per workspace, sequences of follow-ups that stop when a creator replies or opts out, and
the signed unsubscribe link every message carries (docs/relationships.md, "Outreach")."""
