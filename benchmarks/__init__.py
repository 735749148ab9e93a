"""Benchmarks and the synthetic corpus generator (`python -m benchmarks.generate`)."""
