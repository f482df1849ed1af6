"""torch_step.py — PyTorch's time for one training step of a study model.

    python3 bench/torch_step.py MODEL [--steps N] [--batch B] [--threads T] [--eval]
    python3 bench/torch_step.py --blas-core

MODEL is the name of a file in models/ (image_conv2net, audio_conv1net,
multimodal, multimodal_<fusion>). The networks mirror models/lib/*.mmg
layer by layer (same shapes, same parameter counts); a step is forward,
cross entropy, backward and Adam (lr 1e-3), in train mode (dropout on),
on random data of the study's shapes; with --eval an evaluation step:
forward and cross entropy in eval mode (dropout off) under torch.no_grad().
Prints the median ms per step and the parameter count. Run with Debian's python3-torch (/usr/bin/python3).
--blas-core prints the OpenBLAS core PyTorch's BLAS runs (see blas_core).
"""
import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv2Features(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.drop, self.fc = nn.Dropout(p), nn.Linear(1600, 128)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2, 2)
        return F.relu(self.fc(self.drop(x.flatten(1))))


class Conv1Features(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.c1 = nn.Conv1d(1, 32, 100, stride=4, padding=48)
        self.c2 = nn.Conv1d(32, 64, 25, stride=4, padding=11)
        self.drop, self.fc = nn.Dropout(p), nn.Linear(32000, 128)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x))))
        return F.relu(self.fc(self.drop(x.flatten(1))))


class Classifier(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features, self.drop, self.out = features, nn.Dropout(0.5), nn.Linear(128, 10)

    def forward(self, x):
        return self.out(self.drop(self.features(x)))


class Fusion(nn.Module):
    """The study's eight fusion methods, as in models/lib/fusion.mmg."""

    def __init__(self, kind, n=128, out=128, hidden=256):
        super().__init__()
        self.kind = kind
        if kind == "attention":
            self.attn, self.norm = nn.MultiheadAttention(n, 4, batch_first=True), nn.LayerNorm(n)
        elif kind == "gated":
            self.wa, self.wb = nn.Linear(n, n, bias=False), nn.Linear(n, n, bias=False)
            self.w0 = nn.Linear(2 * n, 2 * n, bias=False)
        elif kind == "bilinear":
            self.bil = nn.Bilinear(n, n, out)
        elif kind == "factorized_bilinear":
            self.wa, self.wb = nn.Linear(n, hidden, bias=False), nn.Linear(n, hidden, bias=False)
            self.wf = nn.Linear(hidden, out, bias=False)
        self.width = {"concat": 2 * n, "gated": 2 * n, "bilinear": out, "factorized_bilinear": out}.get(kind, n)

    def forward(self, a, b):
        k = self.kind
        if k == "concat":
            return torch.cat([a, b], 1)
        if k == "add":
            return a + b
        if k == "mul":
            return a * b
        if k == "max":
            return torch.maximum(a, b)
        if k == "attention":
            ta, tb = a.unsqueeze(1), b.unsqueeze(1)
            return self.norm((self.attn(ta, tb, tb)[0] + self.attn(tb, ta, ta)[0]).squeeze(1))
        if k == "gated":
            f0 = torch.cat([torch.sigmoid(self.wa(a)) * a, torch.sigmoid(self.wb(b)) * b], 1)
            return torch.sigmoid(self.w0(f0)) * f0
        if k == "bilinear":
            return self.bil(a, b)
        return self.wf(self.wa(a) * self.wb(b))


class Multimodal(nn.Module):
    def __init__(self, fusion):
        super().__init__()
        self.img, self.aud, self.fusion = Conv2Features(), Conv1Features(), Fusion(fusion)
        self.h, self.out = nn.Linear(self.fusion.width, 64), nn.Linear(64, 10)

    def forward(self, image, audio):
        return self.out(F.relu(self.h(self.fusion(self.img(image), self.aud(audio)))))


def build(name):
    """The network and its inputs' shapes, by model file name."""
    if name == "image_conv2net":
        return Classifier(Conv2Features()), [(1, 28, 28)]
    if name == "audio_conv1net":
        return Classifier(Conv1Features()), [(1, 8000)]
    fusion = name[len("multimodal_"):] if name.startswith("multimodal_") else "concat"
    return Multimodal(fusion), [(1, 28, 28), (1, 8000)]


def blas_core():
    """The core ("Zen", "Haswell", ...) of the OpenBLAS this process loaded
    with torch, asked of the loaded library itself (dlopen of a library
    already mapped returns the same instance), or a sentence saying why
    not. Debian's torch calls the generic BLAS (libblas.so.3), which the
    alternatives system may point at OpenBLAS or not. Its convolutions run
    oneDNN (MKL-DNN), not BLAS."""
    import ctypes
    with open("/proc/self/maps") as maps:
        libs = sorted({l.split()[-1] for l in maps if "blas" in l.split()[-1].lower()})
    for lib in libs:
        try:
            get = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_char_p
        return get().decode()
    return "unknown (no OpenBLAS loaded: " + (", ".join(libs) or "no BLAS mapped") + ")"


def main():
    if sys.argv[1:] == ["--blas-core"]:
        print(blas_core())
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net, shapes = build(args.model)
    net.train(not args.eval)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xs = [torch.rand(args.batch, *s) for s in shapes]
    y = torch.randint(0, 10, (args.batch,))
    times = []
    for i in range(args.steps + 2):
        t0 = time.perf_counter()
        if args.eval:
            with torch.no_grad():
                F.cross_entropy(net(*xs), y)
        else:
            opt.zero_grad()
            loss = F.cross_entropy(net(*xs), y)
            loss.backward()
            opt.step()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
    params = sum(p.numel() for p in net.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{statistics.median(times):.2f} ms/step  {peak:.0f} MiB peak  ({params} parameters, batch {args.batch})")


if __name__ == "__main__":
    main()
