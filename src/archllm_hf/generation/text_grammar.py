"""Constrained decoding for priors that write the codes as text (a pretrained LLM fine-tuned on ``" 12 305 7"``).

The completion a text prior learns is a space, then ``code_length`` numbers below ``codebook_size`` separated by
single spaces, then eos. :class:`TextCodeGrammarLogitsProcessor` maps that grammar onto the LLM's own vocabulary:
at each step only the tokens whose text keeps the completion a prefix of the grammar (tokens made of digits and
spaces) are allowed, and eos only once the last number may end. So a constrained sample is always a well-formed code
string; whether its codes decode to a valid cell is the VQ-VAE's and the space's business.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from transformers import LogitsProcessor

_DIGITS_AND_SPACES = re.compile(r"[0-9 ]+")
State = tuple[int, str, bool]
"""``(numbers finished, digits of the current number, seen the leading space)``."""
_START: State = (0, "", False)


class TextCodeGrammarLogitsProcessor(LogitsProcessor):
    """Allow only the tokens that keep the completion (after ``prompt_length`` tokens) a prefix of
    ``" c1 c2 … cL"`` with every ``c < codebook_size`` written without leading zeros, and eos right after a complete
    ``L``-th number.

    Args:
        tokenizer: the prior's tokenizer (any vocabulary: single-digit tokens, multi-digit ones, tokens with a
            leading space).
        prompt_length, code_length, codebook_size: where the completion starts and what it must hold.
    """

    def __init__(self, tokenizer: Any, prompt_length: int, code_length: int, codebook_size: int):
        self.prompt_length = prompt_length
        self.code_length = code_length
        self.codebook_size = codebook_size
        self.eos_token_id = tokenizer.eos_token_id
        self.vocab_size = len(tokenizer)
        texts = {i: tokenizer.decode([i]) for i in range(self.vocab_size)}
        self.candidates = {
            i: text for i, text in texts.items() if text and _DIGITS_AND_SPACES.fullmatch(text)
        }
        if not self.candidates:
            raise ValueError("the tokenizer has no token made of digits and spaces; it cannot write codes")
        self._allowed: dict[State, torch.Tensor] = {}
        self._next: dict[tuple[State, int], State | None] = {}
        self._row_states: dict[tuple[int, ...], State] = {(): _START}

    def reset(self) -> TextCodeGrammarLogitsProcessor:
        """Forget the rows of earlier ``generate`` calls (the per-state masks are kept); returns self."""
        self._row_states = {(): _START}
        return self

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        completions = input_ids[:, self.prompt_length :].tolist()
        mask = torch.stack([self._mask(self._state(tuple(row))) for row in completions]).to(scores.device)
        width = scores.shape[-1]
        if mask.shape[1] < width:  # the model's vocabulary is padded past the tokenizer's: never allowed
            mask = torch.cat([mask, mask.new_zeros(mask.shape[0], width - mask.shape[1])], dim=1)
        return scores.masked_fill(~mask[:, :width], float("-inf"))

    def _state(self, row: tuple[int, ...]) -> State:
        state = self._row_states.get(row)
        if state is None:
            previous = self._state(row[:-1])
            state = self._step(previous, row[-1]) or previous  # after eos (a finished row) nothing changes
            self._row_states[row] = state
        return state

    def _step(self, state: State, token: int) -> State | None:
        key = (state, token)
        if key not in self._next:
            text = self.candidates.get(token)
            self._next[key] = None if text is None else self._advance(state, text)
        return self._next[key]

    def _advance(self, state: State, text: str) -> State | None:
        """The state after writing ``text``, or None when it leaves the grammar."""
        finished, digits, started = state
        for char in text:
            if char == " ":
                if not started and not digits:
                    started = True
                elif digits and finished + 1 < self.code_length:
                    finished, digits = finished + 1, ""
                else:
                    return None
            else:
                if not started or (digits == "0") or int(digits + char) >= self.codebook_size:
                    return None
                digits += char
        return finished, digits, started

    def _mask(self, state: State) -> torch.Tensor:
        if state not in self._allowed:
            allowed = torch.zeros(self.vocab_size, dtype=torch.bool)
            for token in self.candidates:
                if self._step(state, token) is not None:
                    allowed[token] = True
            finished, digits, _ = state
            if digits and finished + 1 == self.code_length:
                allowed[self.eos_token_id] = True
            if not allowed.any():  # cannot happen for a consistent grammar; never leave a row without a token
                allowed[self.eos_token_id] = True
            self._allowed[state] = allowed
        return self._allowed[state]


__all__ = ["TextCodeGrammarLogitsProcessor"]
