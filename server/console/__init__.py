"""The newsroom console at ``/console/``: its page, its sign-in and its session check."""
