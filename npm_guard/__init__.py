"""npm-guard: keeps npm credentials out of repositories and npm publishing safe."""

# PEP 440. The development line carries the next release's version with `.dev0`; the
# commit that is tagged `vX.Y.Z` sets it to X.Y.Z (docs/releasing.md), and the release
# workflow refuses a tag that does not match it.
__version__ = "0.1.0.dev0"
