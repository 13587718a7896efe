"""``python -m cli`` runs the zurl command."""

from cli.main import main

if __name__ == "__main__":
    main()
