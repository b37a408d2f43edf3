"""A small reverse-mode automatic differentiation engine on numpy."""

# NOTE: value first; engine and ops import it back while it finishes loading.
from .value import Value, as_value

# isort: split
from .anomaly import detect_anomaly
from .engine import apply, enable_grad, is_grad_enabled, no_grad, passes_gradient
from .functional import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .jit import TraceError, jit
from .ops import Op, concatenate, maximum, minimum, stack, where
from .viz import draw_graph, render_graph

__all__ = [
    # the graph
    "Value",
    "as_value",
    "concatenate",
    "stack",
    "where",
    "maximum",
    "minimum",
    # recording modes
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    # gradients as functions
    "grad",
    "value_and_grad",
    "jacobian",
    "hessian",
    "hvp",
    "vjp",
    "jvp",
    # compiling a training step
    "jit",
    "TraceError",
    # checking gradients
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    # pictures
    "draw_graph",
    "render_graph",
    # adding an op
    "Op",
    "apply",
    "passes_gradient",
]
__version__ = "0.1.0"
