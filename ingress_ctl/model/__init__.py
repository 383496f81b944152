"""The model: values only (object views, routing model, policies, problems, verdicts, snapshot, settings).

Nothing here does I/O or knows HAProxy's spelling; every other wing imports it.
"""
