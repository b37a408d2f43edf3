"""examples/08_cnn.py's claim, on its full setting (about 10 s): the CNN beats the MLP of example 05
(98.0% test accuracy) on the same held-out digits. (Its quick setting runs in tests/test_examples.py.)"""

import importlib

import numpy as np

import nn


def test_the_cnn_beats_the_mlps_98_percent_on_the_same_split(tmp_path):
    result = importlib.import_module("examples.08_cnn").main(tmp_path, quick=False)
    X, y = nn.datasets.load_digits()
    y_test = nn.train_test_split(X / 16.0, y, test_size=0.25, stratify=True, rng=0)[3]  # example 05's split, as 05 makes it
    np.testing.assert_array_equal(result["y_test"], y_test)
    assert result["test_accuracy"] > 0.98, f"test accuracy {result['test_accuracy']:.4f}: does not beat the MLP's 0.9800"
    assert result["history"]["val_accuracy"][-1] == result["test_accuracy"]  # the curves end where the claim is
    model = result["model"]
    assert isinstance(model[0], nn.Conv2d) and isinstance(model[1], nn.BatchNorm2d) and isinstance(model[3], nn.MaxPool2d)
    assert not model.training  # evaluated in eval mode (BatchNorm's running statistics)
