"""The store side of every import: one transaction, one import run, bulk upserts."""
