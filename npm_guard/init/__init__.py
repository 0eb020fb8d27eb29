"""`npm-guard init`: set a repository up the way `templates/` describes, from what is in it.

`plan` works out every file it would write (the pre-commit config, the workflow, the
starter policy) without writing anything; `command` is the front end that shows the
plan as a diff or writes it. The pieces: `pin` (what to pin npm-guard to),
`templates` (the shipped templates), `precommit` (an entry added to an existing config,
every other byte kept), `workflow_file`, `inventory` (packages and npm secrets, from
the workflow model) and `policy_file`.
"""
