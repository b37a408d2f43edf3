"""The parity helpers themselves, on nn.Linear: the shape every layer's PyTorch test takes."""

import numpy as np
import torch

import nn

from .torch_parity import compare_module, load_both_ways


def test_linear_against_pytorch_both_ways():
    torch.manual_seed(0)
    theirs = torch.nn.Linear(4, 3).double()
    ours = nn.Linear(4, 3)
    load_both_ways(ours, theirs)
    compare_module(ours, theirs, np.random.default_rng(1).standard_normal((5, 4)))
