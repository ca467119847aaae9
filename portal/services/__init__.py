"""Domain logic: plain functions that validate, write, audit and commit once per use case."""
