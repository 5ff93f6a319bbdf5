"""The ``ipd`` command line: one module per subcommand, wired in :mod:`ipd.cli.main`."""
