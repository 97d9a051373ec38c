"""``python -m pravega_client``: the pravega-cli command line tool."""

from .cli import run

if __name__ == "__main__":
    run()
