"""npm-guard: keeps npm credentials out of repositories and npm publishing safe."""

__version__ = "0.1.0"
