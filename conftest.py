"""Root pytest configuration: makes the e2e fixtures available to every test run."""

pytest_plugins = ["e2e.fixtures"]
