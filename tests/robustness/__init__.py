"""Robustness: properties on generated input, hostile trees, fuzzing regressions."""
