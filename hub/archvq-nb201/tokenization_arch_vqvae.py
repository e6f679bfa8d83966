"""Tokenizer of ArchVQVAE code sequences: the text ``"12 305 7 41"`` ↔ token ids.

Vocabulary (WordLevel): ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, ``<unk>`` 3, then the code numbers ``"0"`` ..
``str(codebook_size - 1)`` at ids 4 ... Text is split on whitespace and wrapped in ``<bos> ... <eos>``;
decoding joins tokens with single spaces (the backend's default without a decoder). The saved
``tokenizer.json`` loads with plain transformers (``AutoTokenizer``/``TokenizersBackend``) without this class.

Self-contained (``tokenizers`` and ``transformers`` only) so that it can be shipped as remote code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tokenizers import Tokenizer, pre_tokenizers, processors
from tokenizers.models import WordLevel
from transformers import TokenizersBackend

_CODE_TOKEN = re.compile(r"[0-9]+", re.ASCII)


class ArchCodeTokenizer(TokenizersBackend):
    """Word-level tokenizer over the code numbers of an ArchVQVAE codebook.

    Args:
        codebook_size: number of codes; the vocabulary holds ``"0"`` .. ``str(codebook_size - 1)``.
        code_length: codes per sequence, checked by :meth:`text_to_codes` and :meth:`codes_to_text`; None
            accepts any non-zero length.
        vocab: only for loading: the saved vocabulary, which must be the one ``codebook_size`` implies.
        pad_token, bos_token, eos_token, unk_token: the special tokens (ids 0-3).
    """

    vocab_files_names = {"tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]
    model = WordLevel
    padding_side = "right"

    def __init__(
        self,
        codebook_size: int = 512,
        code_length: int | None = None,
        vocab: dict[str, int] | None = None,
        pad_token: str = "<pad>",
        bos_token: str = "<bos>",
        eos_token: str = "<eos>",
        unk_token: str = "<unk>",
        **kwargs: Any,
    ):
        if isinstance(codebook_size, bool) or not isinstance(codebook_size, int) or codebook_size <= 0:
            raise ValueError(f"codebook_size must be a positive integer, got {codebook_size!r}")
        if code_length is not None and (
            isinstance(code_length, bool) or not isinstance(code_length, int) or code_length <= 0
        ):
            raise ValueError(f"code_length must be a positive integer or None, got {code_length!r}")
        # special tokens come back from tokenizer_config.json as AddedToken objects
        specials = [str(pad_token), str(bos_token), str(eos_token), str(unk_token)]
        if len(set(specials)) != 4 or any(_CODE_TOKEN.fullmatch(token) for token in specials):
            raise ValueError(f"special tokens must be 4 distinct non-numeric strings, got {specials}")
        expected = {token: i for i, token in enumerate([*specials, *map(str, range(codebook_size))])}
        if vocab is not None and dict(vocab) != expected:
            raise ValueError(
                f"the saved vocabulary ({len(vocab)} tokens) is not the one of codebook_size={codebook_size} "
                f"({len(expected)} tokens: {specials} then the code numbers)"
            )
        self.codebook_size = codebook_size
        self.code_length = code_length
        self._specials = frozenset(specials)
        self._bos_text, self._eos_text, self._pad_text = specials[1], specials[2], specials[0]

        backend = Tokenizer(WordLevel(expected, unk_token=specials[3]))
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        backend.post_processor = processors.TemplateProcessing(
            single=f"{specials[1]} $A {specials[2]}",
            pair=f"{specials[1]} $A {specials[2]} $B {specials[2]}",
            special_tokens=[(specials[1], 1), (specials[2], 2)],
        )
        self._tokenizer = backend
        kwargs.pop("post_processor", None)  # rebuilt above from codebook_size
        kwargs.setdefault("clean_up_tokenization_spaces", False)
        super().__init__(
            codebook_size=codebook_size,
            code_length=code_length,
            pad_token=pad_token,
            bos_token=bos_token,
            eos_token=eos_token,
            unk_token=unk_token,
            **kwargs,
        )

    @property
    def code_token_offset(self) -> int:
        """Token id of code 0 (code ``c`` has id ``c + code_token_offset``)."""
        return len(self._specials)

    def codes_to_text(self, codes: Any) -> str | list[str]:
        """``[12, 305, 7]`` → ``"12 305 7"``; a 2-D batch (tensor, array or list of lists) → list of strings.

        Raises ``ValueError`` for non-integers, codes outside the codebook or (if ``code_length`` is set) rows
        of another length.
        """
        ndim = getattr(codes, "ndim", None)
        if isinstance(ndim, int) and hasattr(codes, "tolist"):
            if ndim not in (1, 2):
                raise ValueError(f"codes must be 1-D or 2-D, got shape {list(codes.shape)}")
            codes = codes.tolist()
            single = ndim == 1
        else:
            codes = list(codes)
            single = not codes or all(not isinstance(c, Iterable) or isinstance(c, str) for c in codes)
        rows = [codes] if single else [list(row) for row in codes]
        texts = [" ".join(str(code) for code in self._check_codes(row)) for row in rows]
        return texts[0] if single else texts

    def text_to_codes(self, text: str) -> list[int]:
        """Parse code text (``"12 305 7"``, optionally ``<bos> ... <eos>`` and trailing ``<pad>``) into codes.

        Raises ``ValueError`` naming what is wrong: unknown or out-of-range numbers, stray tokens, special tokens
        inside the sequence, a length other than ``code_length``, or no codes at all.
        """
        if not isinstance(text, str):
            raise ValueError(f"code text must be a string, got {type(text).__name__}")
        try:  # split exactly as the tokenizer does (Python's str.split knows more whitespace)
            tokens = [piece for piece, _ in self.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        except Exception as err:  # e.g. lone surrogates cannot cross into the Rust backend
            raise ValueError(f"text cannot be tokenized: {err}") from None
        while tokens and tokens[-1] == self._pad_text:
            tokens.pop()
        if tokens and tokens[0] == self._bos_text:
            tokens.pop(0)
        if tokens and tokens[-1] == self._eos_text:
            tokens.pop()
        codes: list[int] = []
        max_digits = len(str(self.codebook_size - 1))
        for position, token in enumerate(tokens):
            if token in self._specials:
                raise ValueError(f"special token {token} inside the code sequence (position {position})")
            if not _CODE_TOKEN.fullmatch(token):
                raise ValueError(f"{_shorten(token)} at position {position} is not a code number")
            if len(token) > 1 and token.startswith("0"):
                raise ValueError(f"{_shorten(token)} at position {position} has leading zeros")
            if len(token) > max_digits or int(token) >= self.codebook_size:
                raise ValueError(
                    f"code {_shorten(token)} at position {position} is outside the codebook "
                    f"[0, {self.codebook_size})"
                )
            codes.append(int(token))
        if not codes:
            raise ValueError("no codes in the text")
        if self.code_length is not None and len(codes) != self.code_length:
            raise ValueError(f"expected {self.code_length} codes, got {len(codes)}")
        return codes

    def _check_codes(self, row: Any) -> list[int]:
        codes, reason = check_code_row(row, self.codebook_size, self.code_length)
        if reason is not None:
            raise ValueError(reason)
        return codes


def check_code_row(
    row: Any, codebook_size: int, code_length: int | None = None
) -> tuple[list[int] | None, str | None]:
    """``(codes, None)`` for a well-formed code sequence (integers in ``[0, codebook_size)``, ``code_length`` of
    them when given), else ``(None, reason)``."""
    if isinstance(row, (str, bytes)):
        return None, f"a code sequence must hold integers, got a {type(row).__name__} (parse code text first)"
    ndim = getattr(row, "ndim", None)
    if isinstance(ndim, int) and hasattr(row, "tolist"):
        if ndim != 1:
            return None, f"a code sequence must be 1-D, got shape {list(getattr(row, 'shape', ()))}"
        row = row.tolist()
    elif isinstance(row, Mapping) or not isinstance(row, Iterable):
        return None, f"a code sequence must be a sequence of integers, got {type(row).__name__}"
    values = []
    for position, value in enumerate(row):
        if isinstance(value, bool) or "bool" in type(value).__name__:
            return None, f"code at position {position} is a boolean, not an integer"
        try:
            values.append(operator.index(value))
        except TypeError:
            return None, f"code at position {position} is not an integer: {value!r} ({type(value).__name__})"
    if code_length is not None and len(values) != code_length:
        return None, f"expected {code_length} codes, got {len(values)}"
    for position, value in enumerate(values):
        if not 0 <= value < codebook_size:
            return None, f"code {value} at position {position} is outside the codebook [0, {codebook_size})"
    return values, None


def _shorten(token: str, limit: int = 20) -> str:
    return repr(token if len(token) <= limit else token[:limit] + "...")


__all__ = ["ArchCodeTokenizer", "check_code_row"]
