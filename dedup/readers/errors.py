"""The error every reader raises for input it cannot read."""


class InputError(Exception):
    """A file that cannot be read as a document: the message names the file (and line) and the problem.

    `unreadable` marks a file that is not text at all (binary, invalid UTF-8, no permission): a
    run over many files may skip it; anything else (a missing path, a malformed record) stops it."""

    def __init__(self, message: str, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable
