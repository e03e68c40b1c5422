"""The shared kernel: settings, errors, the store and workspaces."""
