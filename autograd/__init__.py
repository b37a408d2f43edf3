"""A small reverse-mode automatic differentiation engine on numpy."""

from .value import Value
from .engine import no_grad, enable_grad, is_grad_enabled
from .ops import concatenate, stack, where, maximum, minimum
from .functional import grad, value_and_grad, jacobian, hessian, hvp, vjp, jvp
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .anomaly import detect_anomaly
from .viz import draw_graph, render_graph

__all__ = [
    "draw_graph",
    "render_graph",
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "concatenate",
    "stack",
    "where",
    "maximum",
    "minimum",
    "grad",
    "value_and_grad",
    "jacobian",
    "hessian",
    "hvp",
    "vjp",
    "jvp",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "detect_anomaly",
]
__version__ = "0.1.0"
