"""The catalog: creators, their accounts, posts and snapshots, read and edited one workspace at a
time. The REST API and the pages call these service functions."""
