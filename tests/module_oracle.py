"""The oracle for a torch model: one eager forward under ``FlopCounterMode``, with every module's first-call
input and output shapes read by forward hooks; and the comparison of a cnncalc report with it."""
import torch
from torch.utils.flop_counter import FlopCounterMode


def first_tensor(obj):
    """The first tensor inside nested lists / tuples / dicts (what a row's shape is taken from)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, torch.Tensor):
            return o
        if isinstance(o, (list, tuple)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
    return None


def eager(model, args, kwargs=None):
    """The oracle: one eager forward under FlopCounterMode, with each module's first-call input and output
    shapes.  Returns (MACs, {module name: (input shape, output shape)}, output)."""
    shapes, handles = {}, []
    for name, m in model.named_modules():
        def pre(mod, a, name=name):
            if name not in shapes:
                t = first_tensor(a)
                shapes[name] = [tuple(t.shape) if t is not None else (), None]

        def post(mod, a, out, name=name):
            if shapes[name][1] is None:
                t = first_tensor(out)
                shapes[name][1] = tuple(t.shape) if t is not None else ()
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            out = model(*args, **(kwargs or {}))
    finally:
        for h in handles:
            h.remove()
    flops = fc.get_total_flops()
    assert flops % 2 == 0
    return flops // 2, {k: tuple(v) for k, v in shapes.items()}, out


def check(model, report, macs, shapes, out):
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.buffers == sum(b.numel() for b in model.buffers())
    assert report.totals.macs == macs
    rows = {row.label or "": row for row in report.layers}
    assert set(rows) == {n for n, m in model.named_modules() if n in shapes or any(True for _ in m.parameters(
        recurse=False)) or any(True for _ in m.buffers(recurse=False))}
    for name, (ish, osh) in shapes.items():
        if name == "" and ish == ():                    # inputs given as keywords only: the report shows the first
            ish = report.input_shape
        assert (rows[name].input_shape, rows[name].output_shape) == (ish, osh), name or "the model"
    for name, row in rows.items():
        if name not in shapes:                          # never called (an auxiliary head in eval mode)
            assert row.output_shape == () and row.macs == 0, name
    assert report.layers[0].output_shape == tuple(first_tensor(out).shape)
