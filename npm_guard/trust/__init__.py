"""`npm-guard trust`: plan the move of every token-based publish to trusted publishing.

`plan` reads the workflow model (the publishes `workflow-publish-with-long-lived-token`
and `workflow-publish-token-fallback` report) into a `TrustPlan`: the packages, the
trusted publisher to create for each, the prerequisites, the workflow edits and the
steps after merging. `edits` turns a migration into byte-preserving text edits of the
workflow files; `render` shows the plan as text, JSON or Markdown; `command` is the
CLI front end. docs/trust.md describes the whole move.
"""
