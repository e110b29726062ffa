from zoo.cli.commands import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main, parser  # noqa: F401
