#!/usr/bin/env python3
"""gen.py — writes the PyTorch golden fixtures of tests/golden/.

Run it by hand, from anywhere, with Debian's PyTorch and NumPy installed
(apt-get install -y python3-torch python3-numpy); CI never runs it:

    /usr/bin/python3 tests/golden/gen.py            # every case
    /usr/bin/python3 tests/golden/gen.py linear     # just the named cases

(Plain `python3` works when it is Debian's; a pyenv or venv python3 does
not see the apt packages.) Build mmgc first (`make`): gen.py then also
checks each case's parameter paths, shapes, inputs and outputs against
`build/mmgc tests/golden/NAME.mmg --summary` and `--emit=ir`.

For each case NAME it deletes and rewrites the directory tests/golden/NAME/
(the model, tests/golden/NAME.mmg, is written by hand, not by this script):

    input.X.npy     every model input and label X (f32; labels i64)
    param.P.npy     the initial value of every parameter P, in mmgc's layout
    out.loss.npy    the loss, a 0-d f32
    out.logits.npy  the logits, if the model binds them
    grad.P.npy      d loss / d P for every parameter
    grad.X.npy      d loss / d X for every float input
    adam.P.npy      every parameter after one torch.optim.Adam step (lr 1e-3,
                    betas (0.9, 0.999), eps 1e-8, no weight decay)

and, for a case with state (running statistics):

    state.S.npy     the state S before the step
    newstate.S.npy  S after the training step (the module in train mode)
    eval.loss.npy   the loss in evaluation mode after the step (updated
                    parameters and state; for batch norm, running statistics)

Every case computes its values with torch's own modules (nn.Linear,
nn.Conv1d, nn.MultiheadAttention, F.cross_entropy, ...) in float32, then
converts parameters to mmgc's layout (linear weights [in, out], conv biases
[out, 1] or [out, 1, 1], attention as separate wq/wk/wv/wo). Before writing,
it checks the converted values independently: a NumPy float64 transcription
of the .mmg library must reproduce torch's loss and output, central finite
differences of that NumPy code must agree with a few entries of every
gradient, and a NumPy Adam step must reproduce torch's. Seeds are fixed per
case, so a rerun with the same torch version writes the same files.
"""
import os
import re
import shutil
import subprocess
import sys
import zlib

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"gen.py: {e}; it needs Debian's python3-torch and python3-numpy, run with /usr/bin/python3")

from numpy.lib.stride_tricks import sliding_window_view

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MMGC = os.path.join(ROOT, "build", "mmgc")

LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


class Case:
    """One golden case.

    inputs:  name -> f32 tensor (model inputs; gradients are taken for all)
    labels:  name -> i64 tensor
    params:  mmgc path -> (torch parameter, function from a tensor in torch's
             layout to mmgc's; it must only slice, transpose or reshape, so
             that it commutes with the elementwise Adam step)
    forward: (inputs and labels by name) -> (loss, out): out is the logits
             if logits_bound, else the block's output y (whose VJP the loss
             sum(y * dy) takes), both with torch's modules
    numpy:   (params in mmgc's layout, inputs and labels; all NumPy, f64)
             -> (loss, out), transcribing the .mmg library
    states:  mmgc path -> function returning the torch buffer now (optional)
    eval_forward: like forward, in evaluation mode (with states)
    numpy_states: (params, states before, inputs) -> states after the step
    numpy_eval: (params after, states after, inputs) -> (loss, out), evaluating
    """

    def __init__(self, inputs, labels, params, forward, numpy, logits_bound=False, states=None,
                 eval_forward=None, numpy_states=None, numpy_eval=None):
        self.inputs, self.labels, self.params = inputs, labels, params
        self.forward, self.numpy, self.logits_bound = forward, numpy, logits_bound
        self.states, self.eval_forward = states or {}, eval_forward
        self.numpy_states, self.numpy_eval = numpy_states, numpy_eval


def same(t):
    return t


def col(t):  # conv1d bias [out] -> [out, 1]
    return t.reshape(-1, 1)


def col2(t):  # conv2d bias [out] -> [out, 1, 1]
    return t.reshape(-1, 1, 1)


def tr(t):  # nn.Linear weight [out, in] -> mmgc [in, out]
    return t.t()


# ---- NumPy transcriptions of models/lib (float64) ----------------------------

def np_linear(x, w, b):
    return x @ w + b


def np_conv1d(x, w, b, stride=1, padding=0):  # x [B, C, L], w [O, C, K], b [O, 1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    win = sliding_window_view(xp, w.shape[2], axis=2)[:, :, ::stride, :]  # [B, C, Lo, K]
    return np.einsum("bclk,ock->bol", win, w, optimize=True) + b


def np_conv2d(x, w, b):  # stride 1, no padding; x [B, C, H, W], w [O, C, K, K], b [O, 1, 1]
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # [B, C, Ho, Wo, K, K]
    return np.einsum("bchwij,ocij->bohw", win, w, optimize=True) + b


def np_max_pool1d(x, k, s):
    return sliding_window_view(x, k, axis=2)[:, :, ::s, :].max(-1)


def np_max_pool2d(x, k, s):
    return sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s].max((-2, -1))


def np_relu(x):
    return np.maximum(x, 0)


def np_softmax(x):
    z = np.exp(x - x.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def np_log_softmax(x):
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def np_softplus(x):
    return np_relu(x) + np.log(1 + np.exp(-np.abs(x)))


def np_cross_entropy(logits, target):
    return -np.mean(np_log_softmax(logits)[np.arange(len(target)), target])


def np_layer_norm(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(-1, keepdims=True)
    var = (xc * xc).mean(-1, keepdims=True)
    return xc / np.sqrt(var + eps) * gamma + beta


def np_mha(P, pre, q, k, v, heads):
    B, t, n = q.shape
    s, d = k.shape[1], n // heads
    qh = (q @ P[pre + "wq"] + P[pre + "bq"]).reshape(B, t, heads, d).transpose(0, 2, 1, 3)
    kh = (k @ P[pre + "wk"] + P[pre + "bk"]).reshape(B, s, heads, d).transpose(0, 2, 3, 1)
    vh = (v @ P[pre + "wv"] + P[pre + "bv"]).reshape(B, s, heads, d).transpose(0, 2, 1, 3)
    att = np_softmax((qh @ kh) / np.sqrt(d))
    o = (att @ vh).transpose(0, 2, 1, 3).reshape(B, t, n)
    return o @ P[pre + "wo"] + P[pre + "bo"]


def np_sims(I, tau):
    u, pos, neg = I["u"], I["pos"], I["neg"]
    return (u * pos).sum(1) / tau, (u * neg).sum(1) / tau


# ---- the cases ------------------------------------------------------------------

def vjp_loss(y, dy):
    return (y * dy).sum()


def case_linear():
    lin = nn.Linear(7, 5)
    return Case(
        inputs={"x": torch.randn(4, 7), "dy": torch.randn(4, 5)}, labels={},
        params={"linear.w": (lin.weight, tr), "linear.b": (lin.bias, same)},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(lin(I["x"])),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(np_linear(I["x"], P["linear.w"], P["linear.b"])))


def case_conv1d():
    c1 = nn.Conv1d(1, 32, 100, stride=4, padding=48)
    c2 = nn.Conv1d(32, 64, 25, stride=4, padding=11)

    def numpy(P, I):
        h = np_conv1d(I["x"], P["conv1d.w"], P["conv1d.b"], stride=4, padding=48)
        y = np_conv1d(h, P["conv1d_2.w"], P["conv1d_2.b"], stride=4, padding=11)
        return (y * I["dy"]).sum(), y

    return Case(
        inputs={"x": torch.randn(2, 1, 8000), "dy": torch.randn(2, 64, 500)}, labels={},
        params={"conv1d.w": (c1.weight, same), "conv1d.b": (c1.bias, col),
                "conv1d_2.w": (c2.weight, same), "conv1d_2.b": (c2.bias, col)},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(c2(c1(I["x"]))),
        numpy=numpy)


def case_conv2d():
    conv = nn.Conv2d(1, 32, 3)
    return Case(
        inputs={"x": torch.randn(2, 1, 28, 28), "dy": torch.randn(2, 32, 26, 26)}, labels={},
        params={"conv2d.w": (conv.weight, same), "conv2d.b": (conv.bias, col2)},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(conv(I["x"])),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(np_conv2d(I["x"], P["conv2d.w"], P["conv2d.b"])))


def case_max_pool2d():
    return Case(
        inputs={"x": torch.randn(2, 3, 26, 26), "dy": torch.randn(2, 3, 13, 13)}, labels={}, params={},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(F.max_pool2d(I["x"], 2, 2)),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(np_max_pool2d(I["x"], 2, 2)))


def case_max_pool1d():
    return Case(
        inputs={"x": torch.randn(2, 4, 20), "dy": torch.randn(2, 4, 9)}, labels={}, params={},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(F.max_pool1d(I["x"], 3, 2)),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(np_max_pool1d(I["x"], 3, 2)))


def case_layer_norm():
    ln = nn.LayerNorm(16, eps=1e-5)
    with torch.no_grad():  # not ones and zeros, so that swapping them shows
        ln.weight.copy_(1 + 0.1 * torch.randn(16))
        ln.bias.copy_(0.1 * torch.randn(16))
    return Case(
        inputs={"x": torch.randn(4, 16), "dy": torch.randn(4, 16)}, labels={},
        params={"layer_norm.gamma": (ln.weight, same), "layer_norm.beta": (ln.bias, same)},
        forward=lambda I: (lambda y: (vjp_loss(y, I["dy"]), y))(ln(I["x"])),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(
            np_layer_norm(I["x"], P["layer_norm.gamma"], P["layer_norm.beta"])))


def np_batch_norm(x, gamma, beta, mean=None, var=None, eps=1e-5):
    """models/lib/nn.mmg's batch_norm: channels on axis 1; the batch's
    statistics, or the given running ones."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = [1, -1] + [1] * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axes), x.var(axes)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)


def np_batch_norm_states(x, mean, var, momentum=0.1):
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // x.shape[1]
    return (1 - momentum) * mean + momentum * x.mean(axes), (1 - momentum) * var + momentum * x.var(axes) * n / (n - 1)


def batch_norm_case(shape):
    """torch.nn.BatchNorm1d ([B, c] or [B, c, l]) or BatchNorm2d ([B, c, h, w])
    against the library's batch_norm, in training and in evaluation mode."""
    c = shape[1]
    bn = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(c, eps=1e-5, momentum=0.1)
    with torch.no_grad():  # nothing at its default, so that a swap shows
        bn.weight.copy_(1 + 0.1 * torch.randn(c))
        bn.bias.copy_(0.1 * torch.randn(c))
        bn.running_mean.copy_(0.1 * torch.randn(c))
        bn.running_var.copy_(1 + 0.5 * torch.rand(c))

    def run_bn(I, train):
        bn.train(train)
        y = bn(I["x"])
        return vjp_loss(y, I["dy"]), y

    names = ("batch_norm.running_mean", "batch_norm.running_var")
    return Case(
        inputs={"x": 2 + 3 * torch.randn(*shape), "dy": torch.randn(*shape)}, labels={},
        params={"batch_norm.gamma": (bn.weight, same), "batch_norm.beta": (bn.bias, same)},
        forward=lambda I: run_bn(I, True),
        numpy=lambda P, I: (lambda y: ((y * I["dy"]).sum(), y))(
            np_batch_norm(I["x"], P["batch_norm.gamma"], P["batch_norm.beta"])),
        states={names[0]: lambda: bn.running_mean, names[1]: lambda: bn.running_var},
        eval_forward=lambda I: run_bn(I, False),
        numpy_states=lambda P, S, I: dict(zip(names, np_batch_norm_states(I["x"], S[names[0]], S[names[1]]))),
        numpy_eval=lambda P, S, I: (lambda y: ((y * I["dy"]).sum(), y))(
            np_batch_norm(I["x"], P["batch_norm.gamma"], P["batch_norm.beta"], S[names[0]], S[names[1]])))


def case_batch_norm():
    return batch_norm_case((6, 4))


def case_batch_norm1d():
    return batch_norm_case((4, 3, 5))


def case_batch_norm2d():
    return batch_norm_case((4, 3, 2, 3))


def case_multihead_attention():
    n = 16
    mha = nn.MultiheadAttention(n, 4, batch_first=True)
    with torch.no_grad():  # torch starts the biases at zero; make them count
        mha.in_proj_bias.copy_(0.1 * torch.randn(3 * n))
        mha.out_proj.bias.copy_(0.1 * torch.randn(n))
    W, b = mha.in_proj_weight, mha.in_proj_bias  # [3n, n] with y = x @ W^T + b: rows q, k, v
    pre = "multihead_attention."
    params = {}
    for i, name in enumerate("qkv"):
        params[pre + "w" + name] = (W, lambda t, i=i: t[i * n:(i + 1) * n].t())
    for i, name in enumerate("qkv"):
        params[pre + "b" + name] = (b, lambda t, i=i: t[i * n:(i + 1) * n])
    params[pre + "wo"] = (mha.out_proj.weight, tr)
    params[pre + "bo"] = (mha.out_proj.bias, same)

    def forward(I):
        y, _ = mha(I["q"], I["k"], I["v"], need_weights=False)
        return vjp_loss(y, I["dy"]), y

    def numpy(P, I):
        y = np_mha(P, pre, I["q"], I["k"], I["v"], 4)
        return (y * I["dy"]).sum(), y

    return Case(
        inputs={"q": torch.randn(2, 3, n), "k": torch.randn(2, 5, n), "v": torch.randn(2, 5, n),
                "dy": torch.randn(2, 3, n)},
        labels={}, params=params, forward=forward, numpy=numpy)


def case_cross_entropy():
    return Case(
        inputs={"x": torch.randn(6, 10) * 2}, labels={"y": torch.randint(0, 10, (6,))}, params={},
        forward=lambda I: (F.cross_entropy(I["x"], I["y"]), None),
        numpy=lambda P, I: (np_cross_entropy(I["x"], I["y"]), None))


def unit_vectors(b, n):
    return F.normalize(torch.randn(b, n), dim=1)


def sims(I, tau):
    return (I["u"] * I["pos"]).sum(1) / tau, (I["u"] * I["neg"]).sum(1) / tau


def case_nt_xent():
    tau = 0.5

    def forward(I):  # -log(e^sp / (e^sp + e^sn)): cross-entropy with the positive as class 0
        sp, sn = sims(I, tau)
        return F.cross_entropy(torch.stack([sp, sn], 1), torch.zeros(len(sp), dtype=torch.long)), None

    def numpy(P, I):  # the library's form
        sp, sn = np_sims(I, tau)
        m = np.maximum(sp, sn)
        return np.mean(m + np.log(np.exp(sp - m) + np.exp(sn - m)) - sp), None

    return Case(inputs={"u": unit_vectors(5, 8), "pos": unit_vectors(5, 8), "neg": unit_vectors(5, 8)},
                labels={}, params={}, forward=forward, numpy=numpy)


def case_nt_logistic():
    tau = 0.5

    def forward(I):  # -log sigmoid(sp) - log sigmoid(-sn)
        sp, sn = sims(I, tau)
        return -(F.logsigmoid(sp) + F.logsigmoid(-sn)).mean(), None

    def numpy(P, I):  # the library's form
        sp, sn = np_sims(I, tau)
        return np.mean(np_softplus(-sp) + np_softplus(sn)), None

    return Case(inputs={"u": unit_vectors(5, 8), "pos": unit_vectors(5, 8), "neg": unit_vectors(5, 8)},
                labels={}, params={}, forward=forward, numpy=numpy)


def case_conv2net():
    conv1, conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
    fc1, fc2 = nn.Linear(1600, 128), nn.Linear(128, 10)
    f = "conv2net.conv2net_features."

    def forward(I):
        h = F.max_pool2d(F.relu(conv1(I["image"])), 2, 2)  # [B, 32, 13, 13]
        h = F.max_pool2d(F.relu(conv2(h)), 2, 2)            # [B, 64, 5, 5]
        logits = fc2(F.relu(fc1(h.flatten(1))))            # [B, 10]
        return F.cross_entropy(logits, I["digit"]), logits

    def numpy(P, I):
        h = np_max_pool2d(np_relu(np_conv2d(I["image"], P[f + "conv2d.w"], P[f + "conv2d.b"])), 2, 2)
        h = np_max_pool2d(np_relu(np_conv2d(h, P[f + "conv2d_2.w"], P[f + "conv2d_2.b"])), 2, 2)
        h = np_relu(np_linear(h.reshape(len(h), -1), P[f + "linear.w"], P[f + "linear.b"]))
        logits = np_linear(h, P["conv2net.linear.w"], P["conv2net.linear.b"])
        return np_cross_entropy(logits, I["digit"]), logits

    return Case(
        inputs={"image": torch.rand(8, 1, 28, 28)}, labels={"digit": torch.randint(0, 10, (8,))},
        params={f + "conv2d.w": (conv1.weight, same), f + "conv2d.b": (conv1.bias, col2),
                f + "conv2d_2.w": (conv2.weight, same), f + "conv2d_2.b": (conv2.bias, col2),
                f + "linear.w": (fc1.weight, tr), f + "linear.b": (fc1.bias, same),
                "conv2net.linear.w": (fc2.weight, tr), "conv2net.linear.b": (fc2.bias, same)},
        forward=forward, numpy=numpy, logits_bound=True)


CASES = {
    "linear": case_linear,
    "conv1d": case_conv1d,
    "conv2d": case_conv2d,
    "max_pool2d": case_max_pool2d,
    "max_pool1d": case_max_pool1d,
    "layer_norm": case_layer_norm,
    "multihead_attention": case_multihead_attention,
    "cross_entropy": case_cross_entropy,
    "nt_xent": case_nt_xent,
    "nt_logistic": case_nt_logistic,
    "conv2net": case_conv2net,
    "batch_norm": case_batch_norm,
    "batch_norm1d": case_batch_norm1d,
    "batch_norm2d": case_batch_norm2d,
}


# ---- running a case -------------------------------------------------------------

def check_close(what, got, want, rtol, atol):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        raise SystemExit(f"gen.py: {what}: shape {got.shape}, expected {want.shape}")
    err = np.abs(got - want)
    bad = err > atol + rtol * np.abs(want)
    if bad.any():
        i = np.unravel_index(np.argmax(err - rtol * np.abs(want)), err.shape)
        raise SystemExit(f"gen.py: {what}: {bad.sum()} of {bad.size} differ; at {i}: {got[i]} vs {want[i]}")
    return float(err.max()) if err.size else 0.0


def finite_differences(name, case, P, I, grads, rng, h=1e-6):
    """Checks 3 random entries and the largest one of every gradient against
    central differences of the NumPy float64 transcription; returns the
    largest error relative to the largest magnitude in that gradient."""
    worst = 0.0
    tensors = [(p, P) for p in P] + [(x, I) for x in case.inputs]
    for key, where in tensors:
        g = grads[key]
        scale = max(float(np.abs(g).max()), 1e-3)
        picks = [np.unravel_index(int(rng.integers(g.size)), g.shape) for _ in range(3)]
        picks.append(np.unravel_index(int(np.argmax(np.abs(g))), g.shape))
        for idx in picks:
            t = where[key]
            old = t[idx]
            t[idx] = old + h
            lp = case.numpy(P, I)[0]
            t[idx] = old - h
            lm = case.numpy(P, I)[0]
            t[idx] = old
            fd = (lp - lm) / (2 * h)
            rel = abs(fd - g[idx]) / scale
            if rel > 1e-3:
                raise SystemExit(f"gen.py: {name}: grad.{key}{list(idx)} is {g[idx]}, finite differences {fd}")
            worst = max(worst, rel)
    return worst


def mmgc_signature(name):
    """(params path -> shape, inputs name -> (dtype, shape), outputs) as mmgc
    sees tests/golden/NAME.mmg, or None if build/mmgc is missing."""
    if not os.access(MMGC, os.X_OK):
        return None
    mmg = os.path.join(HERE, name + ".mmg")
    summary = subprocess.run([MMGC, mmg, "--summary"], capture_output=True, text=True, check=True).stdout
    params, ios = {}, {}
    for line in summary.splitlines():
        if line.startswith(("inputs ", "labels ")):
            for m in re.finditer(r"(\w+) (f32|i64)\[([^\]]*)\]", line):
                ios[m.group(1)] = (m.group(2), tuple(int(d) for d in m.group(3).split(",") if d.strip()))
        m = re.match(r"^(\S+)\s+\[([^\]]*)\]\s+[\d,]+$", line)
        if m:
            params[m.group(1)] = tuple(int(d) for d in m.group(2).split(",") if d.strip())
    ir = subprocess.run([MMGC, mmg, "--emit=ir"], capture_output=True, text=True, check=True).stdout
    outputs = set(re.findall(r"^\s*output (\w+) =", ir, re.M))
    return params, ios, outputs


def run(name):
    torch.manual_seed(zlib.crc32(name.encode()))
    case = CASES[name]()
    inputs = {k: v.detach().clone().float().requires_grad_(True) for k, v in case.inputs.items()}
    labels = {k: v.detach().clone().long() for k, v in case.labels.items()}
    S0 = {k: f().detach().numpy().copy() for k, f in case.states.items()}
    loss, out = case.forward({**inputs, **labels})
    S1 = {k: f().detach().numpy().copy() for k, f in case.states.items()}
    loss.backward()

    tparams = []  # the distinct torch parameters, in order
    for t, _ in case.params.values():
        if not any(t is u for u in tparams):
            tparams.append(t)
    P0 = {k: fn(t.detach()).numpy().copy() for k, (t, fn) in case.params.items()}
    G = {k: fn(t.grad).numpy().copy() for k, (t, fn) in case.params.items()}
    G.update({k: v.grad.numpy().copy() for k, v in inputs.items()})
    if tparams:
        torch.optim.Adam(tparams, lr=LR, betas=BETAS, eps=EPS, weight_decay=0).step()
    P1 = {k: fn(t.detach()).numpy().copy() for k, (t, fn) in case.params.items()}
    X = {k: v.detach().numpy().copy() for k, v in inputs.items()}
    Y = {k: v.numpy().copy() for k, v in labels.items()}
    out = out.detach().numpy().copy() if out is not None else None
    loss = loss.detach().numpy().copy()
    if case.eval_forward:
        with torch.no_grad():
            eval_loss = case.eval_forward({**inputs, **labels})[0].detach().numpy().copy()

    # Independent checks, in float64 NumPy from mmgc's layout.
    P64 = {k: v.astype(np.float64) for k, v in P0.items()}
    I64 = {**{k: v.astype(np.float64) for k, v in X.items()}, **Y}
    nloss, nout = case.numpy(P64, I64)
    check_close(f"{name}: loss", loss, nloss, 1e-5, 1e-6)
    ferr = abs(float(loss) - nloss) / max(abs(nloss), 1e-30)
    if out is not None:
        scale = max(1.0, float(np.abs(nout).max()))
        ferr = max(ferr, check_close(f"{name}: output", out, nout, 1e-4, 1e-5 * scale) / scale)
    fd = finite_differences(name, case, P64, I64, G, np.random.default_rng(zlib.crc32(name.encode())))
    for k in P0:
        g = G[k].astype(np.float64)
        m, v = (1 - BETAS[0]) * g, (1 - BETAS[1]) * g * g
        want = P0[k] - LR * (m / (1 - BETAS[0])) / (np.sqrt(v / (1 - BETAS[1])) + EPS)
        check_close(f"{name}: adam.{k}", P1[k], want, 1e-6, 1e-7)
    if case.states:
        S64 = {k: v.astype(np.float64) for k, v in S0.items()}
        nS1 = case.numpy_states(P64, S64, I64)
        for k in S1:
            check_close(f"{name}: newstate.{k}", S1[k], nS1[k], 1e-5, 1e-6)
        P164 = {k: v.astype(np.float64) for k, v in P1.items()}
        check_close(f"{name}: eval.loss", eval_loss, case.numpy_eval(P164, nS1, I64)[0], 1e-5, 1e-5)

    # What mmgc sees must match what is written.
    sig = mmgc_signature(name)
    if sig is not None:
        params, ios, outputs = sig
        mine = {k: tuple(v.shape) for k, v in P0.items()}
        if params != mine:
            raise SystemExit(f"gen.py: {name}: mmgc's parameters {params} differ from the fixture's {mine}")
        mine = {**{k: ("f32", tuple(v.shape)) for k, v in X.items()},
                **{k: ("i64", tuple(v.shape)) for k, v in Y.items()}}
        if ios != mine:
            raise SystemExit(f"gen.py: {name}: mmgc's inputs and labels {ios} differ from the fixture's {mine}")
        if ("logits" in outputs) != case.logits_bound:
            raise SystemExit(f"gen.py: {name}: mmgc's outputs are {sorted(outputs)}")

    files = {}
    files.update({f"input.{k}.npy": v for k, v in X.items()})
    files.update({f"input.{k}.npy": v for k, v in Y.items()})
    files.update({f"param.{k}.npy": v for k, v in P0.items()})
    files["out.loss.npy"] = loss
    if case.logits_bound:
        files["out.logits.npy"] = out
    files.update({f"grad.{k}.npy": v for k, v in G.items()})
    files.update({f"adam.{k}.npy": v for k, v in P1.items()})
    files.update({f"state.{k}.npy": v for k, v in S0.items()})
    files.update({f"newstate.{k}.npy": v for k, v in S1.items()})
    if case.eval_forward:
        files["eval.loss.npy"] = eval_loss
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    size = 0
    for fname, a in sorted(files.items()):
        # C order: a transposed weight would otherwise be saved in Fortran
        # order. (Not np.ascontiguousarray, which makes a 0-d array 1-d.)
        a = np.array(a, order="C", copy=True)
        assert a.dtype in (np.float32, np.int64), (fname, a.dtype)
        path = os.path.join(d, fname)
        np.save(path, a, allow_pickle=False)
        back = np.load(path)
        assert back.shape == a.shape and back.dtype == a.dtype and not np.isfortran(back), fname
        size += os.path.getsize(path)
    print(f"{name:20s} {len(files):3d} files {size / 1024:7.1f} KiB  loss {float(loss):10.6f}  "
          f"forward error {ferr:.0e}  gradient error {fd:.0e}"
          f"{'' if sig else '  (build/mmgc not found: layout not checked)'}")
    return size


def main(argv):
    names = argv or list(CASES)
    for n in names:
        if n not in CASES:
            sys.exit(f"gen.py: unknown case '{n}' (cases: {', '.join(CASES)})")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    total = sum(run(n) for n in names)
    print(f"total {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
