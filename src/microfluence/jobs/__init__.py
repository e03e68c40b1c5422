"""Background jobs: imports of uploaded files run off the request, their progress polled."""
