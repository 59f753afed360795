"""The benchmark of issue 5: the app against a bare Bolt app (`make bench`, see BENCHMARKS.md)."""
