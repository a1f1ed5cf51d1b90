"""The error every reader raises for input it cannot read."""


class InputError(Exception):
    """A file that cannot be read as a document: the message names the file (and line) and the problem."""
