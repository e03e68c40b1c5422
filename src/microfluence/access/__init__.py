"""Access: users, roles in workspaces, API keys, web sessions, rate-limited sign-in.

Every face (CLI, REST API, pages) calls these service functions; none checks a password, a key
or a role on its own.
"""
