"""Benchmarks, each printing figures a reader can compare."""
