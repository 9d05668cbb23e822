"""``python -m placeplan`` runs the command-line interface."""

from placeplan.cli import main

raise SystemExit(main())
