"""The `anmin` command installed by pip: the Rust CLI's own code, run in this process."""

import signal
import sys

from . import _native


def main() -> None:
    # Ctrl-C behaves as it does for the Rust binary: commands that handle it install their
    # own handler (finish the current step, write results); the others are stopped.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    code = _native.run_cli(["anmin", *sys.argv[1:]])
    sys.exit(code)


if __name__ == "__main__":
    main()
