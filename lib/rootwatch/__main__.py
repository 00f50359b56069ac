from rootwatch.cli import command

raise SystemExit(command())
