"""Tools for developing hotdesk: not installed with it, shared by the tests and the benchmarks."""
