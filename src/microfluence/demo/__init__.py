"""The demo: a seeded synthetic population of creators, written into a demo workspace."""
