"""Exceptions raised by archllm-hf."""


class ArchLLMError(Exception):
    """Base class of every error archllm-hf raises on purpose."""


class InvalidCellError(ArchLLMError, ValueError):
    """A cell, its text form or its graph encoding is malformed; the message names what is wrong."""


__all__ = ["ArchLLMError", "InvalidCellError"]
