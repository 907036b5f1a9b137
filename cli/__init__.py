"""The `candor` command line: where operators set up and administer an instance."""
