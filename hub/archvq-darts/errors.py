"""Exceptions raised by archllm-hf."""


class ArchLLMError(Exception):
    """Base class of every error archllm-hf raises on purpose."""


class InvalidCellError(ArchLLMError, ValueError):
    """A cell, its text form or its graph encoding is malformed; the message names what is wrong."""


class CellNotInTableError(ArchLLMError, LookupError):
    """A queried cell has no value in the metrics table; the message names the cell and the column."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


__all__ = ["ArchLLMError", "CellNotInTableError", "InvalidCellError"]
