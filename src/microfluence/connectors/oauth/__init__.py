"""Creator-authorised insights (docs/connectors.md, "Creator-authorised insights"): a creator
connects their own Instagram professional, YouTube or TikTok account through the platform's
OAuth 2.0 authorization-code flow; the tokens are kept sealed (kernel.vault), refreshed before
they expire and revoked on request; what the authorisation allows is read and stored as
first-party numbers, shown as verified by the creator's authorisation."""

from microfluence.connectors.oauth import erasure as _erasure  # noqa: E402, F401  registers it
