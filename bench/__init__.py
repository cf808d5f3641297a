"""Benchmarks: synthetic data at scale and the tools that time the platform against it."""
