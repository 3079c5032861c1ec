"""One module per ``orgscale`` sub-command.

Each defines ``add_parser(subparsers)`` and ``run(args)``.
"""
