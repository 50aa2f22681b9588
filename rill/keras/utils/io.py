"""Where Keras' messages go: stdout while interactive logging is on, else Python logging."""

from __future__ import annotations

import logging
import sys

from rill.keras import config as _config

enable_interactive_logging = _config.enable_interactive_logging
disable_interactive_logging = _config.disable_interactive_logging
is_interactive_logging_enabled = _config.is_interactive_logging_enabled


def print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to stdout (interactive logging) or log it at INFO level."""
    if _config.is_interactive_logging_enabled():
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        logging.getLogger("rill.keras").info(message)
