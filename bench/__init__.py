"""The fleet benchmark (`make bench`): site.yml on 1, 5, 10 (and 20) sandbox sites, measured. See docs/benchmark.md."""
