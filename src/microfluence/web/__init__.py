"""The web face: the app factory, authentication (API keys, session cookies, CSRF), the REST API
under /api/v1, and the docs pages. Pages of each capability are added as routers."""
