"""The receptive-field oracle shared by test_rf.py and test_graph.py.

With positive weights, zero biases and positive inputs (max pools replaced by average pools of the same
geometry), the input pixels that influence an output unit are exactly those with a non-zero gradient.
"""
import torch


def positive(net):
    """Weights in [0.1, 1.1), biases 0, float64."""
    for m in net.modules():
        for name, p in m.named_parameters(recurse=False):
            with torch.no_grad():
                p.copy_(torch.rand_like(p) + 0.1) if name == "weight" else p.zero_()
    return net.double()


def extent(net, shape, unit):
    """(first, last) input index per spatial dim with a non-zero d(output[unit])/d(input), or None."""
    x = (torch.rand(1, *shape, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = net(x)
    y[(0, 0) + tuple(unit)].backward()
    g = x.grad[0].abs().sum(0)
    idx = g.nonzero()
    if idx.numel() == 0:
        return None
    return [(int(idx[:, d].min()), int(idx[:, d].max())) for d in range(g.dim())]
