"""Neural networks on the autograd engine, with PyTorch's names: modules, layers, losses, optimizers, training."""

from . import datasets, functional, init, optim
from .activations import ELU, GELU, BinaryStep, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh, get_activation
from .conv import Conv1d, Conv2d, conv1d, conv2d
from .data import DataLoader, train_test_split
from .embedding import Embedding
from .flatten import Flatten
from .init import manual_seed
from .layers import MLP, Dropout, Layer, Linear, Neuron, Sequential, linear
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, half_sse, hinge_loss, mse_loss, one_hot, sse
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
from .state import load, save
from .train import accuracy, evaluate, fit

__all__ = [
    "Module", "Parameter",
    "Linear", "Neuron", "Layer", "MLP", "Sequential", "Dropout", "linear",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax", "BinaryStep", "Identity", "GELU", "ELU", "Softplus",
    "get_activation",
    "mse_loss", "sse", "half_sse", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss",
    "one_hot",
    "optim", "init", "datasets", "manual_seed",
    "DataLoader", "train_test_split", "fit", "evaluate", "accuracy",
    "save", "load",
    "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "conv1d", "conv2d", "max_pool2d", "avg_pool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "functional",
]  # fmt: skip
