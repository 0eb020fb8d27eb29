"""The shell readers' one way in: a `run:` script, read as the shell that runs it would.

`bash` (and `sh` and custom shells) is read by `shell_bash`, `pwsh`/`powershell` by
`shell_pwsh` (imported only for PowerShell scripts); both hand over the commands of
`shell_words`, in source order (substitutions first).
"""

from __future__ import annotations

from npm_guard.workflow.shell_bash import read_bash
from npm_guard.workflow.shell_words import Script


def read_script(source: str, shell: str = "bash") -> Script:
    """Split a `run:` script into commands, in source order (substitutions first)."""
    if shell == "pwsh":
        # Only here: most workflows run no PowerShell, and the hook's start-up counts.
        from npm_guard.workflow.shell_pwsh import read_pwsh

        return Script(read_pwsh(source), "pwsh")
    return Script(read_bash(source), "bash")
