"""`python -m tuiding …` is the `tuiding` command."""

from .cli import main

main()
