"""GRU and plain RNN layers as PyTorch's CPU kernels run them, for the training trace.

Meta tensors take aten's recurrent loop one step at a time: each step projects its own input.  On CPU tensors
aten first projects the inputs of all steps at once (``FullLayer`` / ``FullBidirectionalLayer`` in
aten/src/ATen/native/RNN.cpp, "if (input.device().is_cpu())"), and the cells then read slices of that
projection.  The tensors a training step keeps differ, so the trace of a GRU or RNN layer would not be the step
PyTorch runs.  This module writes RNN.cpp's CPU path with the same aten calls in the same order -- ``at::linear``
of the whole input, ``unbind``, per step ``linear_hh``, ``unsafe_chunk`` and the in-place gate arithmetic of
``GRUCell`` / ``SimpleCell``, ``stack``, ``cat`` for two directions, dropout between layers -- and a torch
function mode runs it in place of ``_VF.gru`` / ``_VF.rnn_tanh`` / ``_VF.rnn_relu`` on padded (not packed)
input, and tells the trace which tensors the C++ code holds longer than their last use (a layer's input
projection).  LSTM is left to aten: on the CPU it runs oneDNN's fused kernel by default.
"""
from __future__ import annotations


def _linear(x, w, b):
    import torch.nn.functional as F
    return F.linear(x, w, b)


def _gru_cell(igates, hidden, w_hh, b_hh):
    """GRUCell<CellParams>::operator() with pre_compute_input (RNN.cpp)."""
    chunked_igates = igates.unsafe_chunk(3, 1)
    chunked_hgates = _linear(hidden, w_hh, b_hh).unsafe_chunk(3, 1)
    reset_gate = chunked_hgates[0].add_(chunked_igates[0]).sigmoid_()
    input_gate = chunked_hgates[1].add_(chunked_igates[1]).sigmoid_()
    new_gate = chunked_igates[2].add(chunked_hgates[2].mul_(reset_gate)).tanh_()
    return (hidden - new_gate).mul_(input_gate).add_(new_gate)


def _simple_cell(nonlinearity):
    """SimpleCell<tanh_f / relu_f, CellParams> with pre_compute_input."""
    def cell(igates, hidden, w_hh, b_hh):
        return nonlinearity(_linear(hidden, w_hh, b_hh).add_(igates))
    return cell


def _direction(cell, input, hidden, params, reverse: bool, projected=None):
    """FullLayer on a CPU tensor: the input projection of every step, then the steps; (output, last hidden,
    projection).  ``projected()`` is called once the projection is unbound into steps."""
    import torch
    w_ih, w_hh, b_ih, b_hh = params
    projection = _linear(input, w_ih, b_ih)
    steps = projection.unbind(0)
    if projected is not None:
        projected()
    if reverse:
        steps = steps[::-1]
    outputs = []
    for x in steps:
        hidden = cell(x, hidden, w_hh, b_hh)
        outputs.append(hidden)
    if reverse:
        outputs.reverse()
    return torch.stack(outputs, 0), hidden, projection


def _rnn(hold, cell, input, hx, flat_weights, has_biases, num_layers, dropout_p, train, bidirectional,
         batch_first):
    """gru() / rnn_tanh() / rnn_relu() of RNN.cpp for a padded input: (output, h_n).  ``hold(t)``: the C++ code
    holds ``t`` until now -- a layer's projection until the layer returns (FullLayer), the forward direction's
    until the reverse one is projected (FullBidirectionalLayer reassigns its local)."""
    import torch
    if batch_first:
        input = input.transpose(0, 1)
    hiddens = hx.unbind(0)
    per = 4 if has_biases else 2
    params = [tuple(flat_weights[i:i + per]) + ((None, None) if per == 2 else ())
              for i in range(0, len(flat_weights), per)]
    finals = []
    layer_input = input
    for layer in range(num_layers):
        if bidirectional:
            fw, fw_h, fw_projection = _direction(cell, layer_input, hiddens[2 * layer], params[2 * layer], False)
            rev, rev_h, rev_projection = _direction(cell, layer_input, hiddens[2 * layer + 1],
                                                    params[2 * layer + 1], True, lambda: hold(fw_projection))
            output = torch.cat([fw, rev], fw.dim() - 1)
            hold(rev_projection)
            finals += [fw_h, rev_h]
        else:
            output, h, projection = _direction(cell, layer_input, hiddens[layer], params[layer], False)
            hold(projection)
            finals.append(h)
        layer_input = output
        if dropout_p != 0 and train and layer < num_layers - 1:
            layer_input = torch.dropout(layer_input, dropout_p, True)
    h_n = torch.stack(finals, 0)
    if batch_first:
        layer_input.transpose_(0, 1)
    return layer_input, h_n


def cpu_recurrent_mode(hold=None):
    """A torch function mode that runs ``_VF.gru`` / ``_VF.rnn_tanh`` / ``_VF.rnn_relu`` of a padded input as
    the CPU does (the packed-sequence form, and every other call, as they are).  ``hold(tensor)``: told when the
    C++ code would stop holding a tensor it made (the training trace keeps it alive until then)."""
    hold = hold or (lambda t: None)
    import torch
    from torch.overrides import TorchFunctionMode

    cells = {"gru": _gru_cell, "rnn_tanh": _simple_cell(torch.tanh), "rnn_relu": _simple_cell(torch.relu)}
    vf = torch._C._VariableFunctions
    funcs = {getattr(vf, name): cell for name, cell in cells.items()}

    class CPURecurrent(TorchFunctionMode):
        others = 0                              # GRU / RNN calls left to aten (a packed sequence)

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            cell = funcs.get(func)
            # the padded form: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            # batch_first); the packed one has batch_sizes second and no batch_first
            if cell is not None and not kwargs and len(args) == 9 and isinstance(args[2], (list, tuple)):
                return _rnn(hold, cell, *args)
            if cell is not None:
                self.others += 1
            return func(*args, **kwargs)

    return CPURecurrent()
