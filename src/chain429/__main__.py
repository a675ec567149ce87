from __future__ import annotations

from chain429.cli import main

main()
