"""The one error raised by `geo` when a geometry breaks a rule."""


class GeometryError(ValueError):
    """A geometry breaks a named rule; `code` is stable and machine-readable, `message` is for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
