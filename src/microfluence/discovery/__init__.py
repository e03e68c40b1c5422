"""Discovery: what each account is about — its niches on a documented taxonomy, from a model
that ships with the package, correctable by hand (docs/discovery.md)."""
