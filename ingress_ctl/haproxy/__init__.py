"""The HAProxy I/O edge: its UNIX-socket CLIs and the master-worker process it runs as."""
