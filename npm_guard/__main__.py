from __future__ import annotations

from npm_guard.cli import main

raise SystemExit(main())
