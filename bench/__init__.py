"""Benchmarks: each module measures one thing and prints a markdown table."""
