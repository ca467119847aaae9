"""Benchmarks: page time as a ratio to /healthz on the same server in the same run, SQL queries per page
at two district sizes, and fragment bytes against their full page. Run with `make bench`."""
