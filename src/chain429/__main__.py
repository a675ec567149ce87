from __future__ import annotations

from chain429.cli import main

if __name__ == "__main__":  # a spawned child process imports this module too
    main()
