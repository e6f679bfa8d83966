"""Drawing a token per row: ``torch.multinomial`` and the inverse-CDF draw give the same distribution."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import chi2_contingency, chisquare

from archllm_hf.generation.generator import TOKEN_DRAWS, draw_tokens, sample_fixed_length

PROBS = torch.tensor([0.30, 0.0, 0.05, 0.25, 0.001, 0.149, 0.25, 0.0])
"""Fixed probabilities with zeros inside and at the end (where eos sits in a prior's vocabulary)."""


def _expected(rows: int):
    positive = PROBS[PROBS > 0].double().numpy()
    return positive / positive.sum() * rows


def _counts(token_draw: str, rows: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    ids = draw_tokens(PROBS.expand(rows, -1).contiguous(), token_draw)
    assert ids.shape == (rows, 1) and ids.dtype == torch.long
    return torch.bincount(ids.flatten(), minlength=len(PROBS))


def test_inverse_cdf_draws_the_distribution_multinomial_draws():
    rows = 200_000
    inverse, multinomial = _counts("inverse_cdf", rows, 0), _counts("multinomial", rows, 1)
    assert inverse[PROBS == 0].sum() == 0 and multinomial[PROBS == 0].sum() == 0
    positive = PROBS > 0
    # against the probabilities, and against multinomial's own counts (two samples, one table)
    assert chisquare(inverse[positive].numpy(), _expected(rows)).pvalue > 1e-3
    assert chi2_contingency([inverse[positive].numpy(), multinomial[positive].numpy()]).pvalue > 1e-3


def test_the_chi_square_test_sees_a_wrong_distribution():
    """The test above has power: counts of a distribution one token off are rejected."""
    rows = 200_000
    shifted = PROBS.clone()
    shifted[0], shifted[3] = 0.29, 0.26
    torch.manual_seed(2)
    wrong = torch.bincount(
        draw_tokens(shifted.expand(rows, -1).contiguous(), "inverse_cdf").flatten(), minlength=len(PROBS)
    )
    positive = PROBS > 0
    assert chisquare(wrong[positive].numpy(), _expected(rows)).pvalue < 1e-3


def test_inverse_cdf_never_lands_past_the_last_token_of_positive_probability(monkeypatch):
    """A uniform number that rounds up to the whole mass still draws a token of probability > 0."""
    monkeypatch.setattr(torch, "rand_like", lambda t: torch.full_like(t, 1.0))
    probs = torch.tensor([[0.1, 0.9, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 1.0]])
    assert draw_tokens(probs, "inverse_cdf").flatten().tolist() == [1, 2, 3]
    monkeypatch.setattr(torch, "rand_like", lambda t: torch.zeros_like(t))
    assert draw_tokens(probs, "inverse_cdf").flatten().tolist() == [0, 0, 3]


def test_a_row_that_lands_on_a_token_of_probability_zero_is_drawn_again(monkeypatch):
    """Where a parallel scan's rounding would give a zero-probability token a sliver, that row is drawn again."""
    probs = torch.tensor([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    monkeypatch.setattr(torch, "searchsorted", lambda cdf, target, right: torch.tensor([[1], [1]]))
    ids = draw_tokens(probs, "inverse_cdf").flatten().tolist()
    assert ids[0] in (0, 2) and ids[1] == 1


@pytest.mark.parametrize(
    "probs",
    [
        torch.tensor([[0.5, float("nan")]]),
        torch.tensor([[0.5, float("inf")]]),
        torch.tensor([[1.5, -0.5]]),
        torch.tensor([[0.0, 0.0], [0.5, 0.5]]),
    ],
)
def test_the_inverse_cdf_draw_refuses_what_is_not_a_distribution(probs):
    with pytest.raises(ValueError, match="finite and non-negative with some mass"):
        draw_tokens(probs, "inverse_cdf")


def test_half_precision_probabilities_are_drawn_in_float32():
    torch.manual_seed(0)
    ids = draw_tokens(PROBS.to(torch.bfloat16).expand(50_000, -1).contiguous(), "inverse_cdf")
    counts = torch.bincount(ids.flatten(), minlength=len(PROBS))
    assert counts[PROBS == 0].sum() == 0
    positive = PROBS > 0
    assert chisquare(counts[positive].numpy(), _expected(50_000)).pvalue > 1e-3


def test_an_unknown_token_draw_is_refused():
    with pytest.raises(ValueError, match="token_draw must be one of"):
        draw_tokens(PROBS[None], "gumbel")
    with pytest.raises(ValueError, match="token_draw must be one of"):
        sample_fixed_length(torch.nn.Linear(1, 1), [0], 2, 3, token_draw="gumbel")
    assert TOKEN_DRAWS == ("multinomial", "inverse_cdf")


def test_the_speed_table_names_a_draw_other_than_multinomial(render_readme, monkeypatch, tmp_path):
    import json

    point = {
        "batch_size": 5000,
        "cells_per_second_best": 5100.0,
        "cells_per_second_median": 5000.0,
        "stage_shares": {"sampling": 0.5, "vqvae_decoding": 0.2, "validation_and_ids": 0.3},
    }
    base = {"space": "nb101", "device": "cpu", "cpu_count": 2, "vqvae_decoding": "fast", "points": [point]}
    (tmp_path / "speed-nb101-cpu.json").write_text(json.dumps(base))
    (tmp_path / "speed-nb101-cpu-inverse_cdf.json").write_text(
        json.dumps({**base, "token_draw": "inverse_cdf"})
    )
    monkeypatch.setattr(render_readme, "RESULTS", tmp_path)
    rows = {row.rsplit("`", 2)[1]: row for row in render_readme.speed_table()[2:]}
    assert set(rows) == {"speed-nb101-cpu.json", "speed-nb101-cpu-inverse_cdf.json"}
    assert rows["speed-nb101-cpu.json"].startswith("| nb101 | CPU (2 cores) | 5,000 |")
    assert rows["speed-nb101-cpu-inverse_cdf.json"].startswith(
        "| nb101 | CPU (2 cores) (inverse_cdf draw) | 5,000 |"
    )
