"""Allows ``python -m citycluster`` as well as the ``citycluster`` console script."""

from citycluster.chain.cli import main

if __name__ == "__main__":
    main()
