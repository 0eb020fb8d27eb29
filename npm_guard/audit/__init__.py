"""The online audit: who can publish each package, with what 2FA evidence, and how.

A separate stage from the offline scan. `client` is the only module that touches the
network; `evidence` turns validated registry responses into facts (`facts`); the rules
in `npm_guard.rules` turn facts into findings; `run` orchestrates. Nothing here is
imported on a hook's start-up path.
"""
