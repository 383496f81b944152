"""Everything that speaks HAProxy: its names, escaping, slots, rendering and templates, planning,
applying, and the master-worker process and UNIX-socket CLIs it runs with.

`naming` makes every identifier and file name; `escaping` is the only way a value reaches a
file or a socket; `rendering` (with `templates/`, package data), `slots` and `planning` are
pure; `applying`, `process` and `sockets` do the I/O. Outside this package only the syncing
loop, the app and the command line drive it (an import-linter contract).
"""
