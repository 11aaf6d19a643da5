"""`python -m genseq.cli`: the same as the `genseq` command."""

from genseq.cli import main

main()
