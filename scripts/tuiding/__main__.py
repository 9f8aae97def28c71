"""`python -m tuiding …` is the `tuiding` command."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing: the same line and code as later
    print("interrupted", file=sys.stderr)
    sys.exit(130)

main()
