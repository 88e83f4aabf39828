"""Generated organisations for the demo, tests and benchmarks."""
