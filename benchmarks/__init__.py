"""Benchmarks of AR Lens against a plain-pandas baseline (`make bench`, `python -m benchmarks`).

Not part of `make test`. Each step runs in a subprocess of its own (benchmarks.workers), so that
timings and peak memory belong to one side only; the generated data is kept under
benchmarks/data/ (git-ignored) and reused by the next run. Results go to benchmarks/RESULTS.md.
"""
