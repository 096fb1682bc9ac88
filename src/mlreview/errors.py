"""The project's base exception for errors a user can act on.

The command line prints such an error as one line (``error: ...``) with exit status 2
instead of a traceback: its message must say what went wrong and what to do.
"""


class MlreviewError(RuntimeError):
    """An error whose message tells the user what to do (bad call, missing data, ...)."""
