"""Coverage-guided fuzzing of the parsers (atheris) and the crashes it found."""
