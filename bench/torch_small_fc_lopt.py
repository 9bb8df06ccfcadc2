"""A straightforward PyTorch small_fc_lopt update (tensor ops, no custom kernel), for timing by bench/learned.ts.

It follows docs/specification.md §10 as a PyTorch user would write it: accumulators updated with the new
gradient, the 28 features stacked per tensor, normalised over the tensor, the 11 tanh time features
appended, the 39 -> 4 -> 4 -> 2 MLP as matrix products, p -= d * exp(0.001 * mag) * 0.001. Parameters
have the Fashion-MNIST MLP's shapes (weights [in, out]). One thread, like lopt's single-threaded kernels.
Prints one JSON line: {"torch": version, "threads": n, "msPerUpdate": median, "updates": count}.
"""
import json
import math
import statistics
import sys
import time

import torch

SHAPES = [(784, 128), (128,), (128, 128), (128,), (128, 10), (10,)]
TIMESCALES = torch.tensor([1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000], dtype=torch.float32)


def factored_dims(shape):
    if len(shape) < 2:
        return None
    order = sorted(range(len(shape)), key=lambda i: (shape[i], i))
    return order[-2], order[-1]


class SmallFcLopt:
    def __init__(self, params, generator):
        self.mom = torch.tensor([0.9, 0.99, 0.999])
        self.rms = 0.999
        self.ada = torch.tensor([0.9, 0.99, 0.999])
        self.w0 = torch.randn(39, 4, generator=generator) / math.sqrt(39)
        self.b0 = torch.zeros(4)
        self.w1 = torch.randn(4, 4, generator=generator) / 2
        self.b1 = torch.zeros(4)
        self.w2 = torch.randn(4, 2, generator=generator) / 2
        self.b2 = torch.zeros(2)
        self.iteration = 0
        self.state = []
        for p in params:
            dims = factored_dims(p.shape)
            s = {"m": torch.zeros(*p.shape, 3), "v": torch.zeros(*p.shape, 1)}
            if dims:
                d1, d0 = dims
                s["row"] = torch.zeros(*[n for i, n in enumerate(p.shape) if i != d0], 3)
                s["col"] = torch.zeros(*[n for i, n in enumerate(p.shape) if i != d1], 3)
            else:
                s["full"] = torch.zeros(*p.shape, 3)
            self.state.append(s)

    def update(self, params, grads):
        time_features = torch.tanh(self.iteration / TIMESCALES - 1)
        for p, g, s in zip(params, grads, self.state):
            ge = g.unsqueeze(-1)
            s["m"] = self.mom * s["m"] + (1 - self.mom) * ge
            s["v"] = self.rms * s["v"] + (1 - self.rms) * ge * ge
            gsq = ge * ge + 1e-30
            dims = factored_dims(p.shape)
            if dims:
                d1, d0 = dims
                s["row"] = self.ada * s["row"] + (1 - self.ada) * gsq.mean(dim=d0)
                s["col"] = self.ada * s["col"] + (1 - self.ada) * gsq.mean(dim=d1)
                reduced_d1 = d1 - 1 if d1 > d0 else d1
                row_mean = s["row"].mean(dim=reduced_d1, keepdim=True)
                row_factor = torch.rsqrt(torch.clamp(s["row"] / (row_mean + 1e-9), min=1e-9)).unsqueeze(d0)
                col_factor = torch.rsqrt(torch.clamp(s["col"], min=1e-9)).unsqueeze(d1)
                row = s["row"].unsqueeze(d0).expand(*p.shape, 3)
                col = s["col"].unsqueeze(d1).expand(*p.shape, 3)
                fac_g = ge * row_factor * col_factor
                fac_m = s["m"] * row_factor * col_factor
            else:
                s["full"] = self.ada * s["full"] + (1 - self.ada) * gsq
                row = col = s["full"]
                fac_g = ge * torch.rsqrt(torch.clamp(s["full"] + 1e-9, min=1e-9))
                fac_m = s["m"] * (s["full"] + 1e-6) ** -0.5
            rsqrt_v = torch.rsqrt(s["v"] + 1e-6)
            features = torch.cat([
                ge, p.unsqueeze(-1), s["m"], s["v"], s["m"] * rsqrt_v, rsqrt_v, fac_g, row, col,
                torch.rsqrt(row + 1e-8), torch.rsqrt(col + 1e-8), fac_m,
            ], dim=-1).reshape(-1, 28)
            features = features * torch.rsqrt(1e-5 + features.square().mean(dim=0, keepdim=True))
            x = torch.cat([features, time_features.expand(features.shape[0], 11)], dim=1)
            h = torch.relu(x @ self.w0 + self.b0)
            h = torch.relu(h @ self.w1 + self.b1)
            out = h @ self.w2 + self.b2
            step = out[:, 0] * torch.exp(out[:, 1] * 0.001) * 0.001
            p.sub_(step.reshape(p.shape))
        self.iteration += 1


def main():
    threads, updates = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        params = [torch.randn(*shape, generator=generator) * 0.05 for shape in SHAPES]
        grads = [torch.randn(*shape, generator=generator) * 0.01 for shape in SHAPES]
        opt = SmallFcLopt(params, generator)
        for _ in range(max(5, updates // 10)):
            opt.update(params, grads)
        times = []
        for _ in range(updates):
            start = time.perf_counter()
            opt.update(params, grads)
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "msPerUpdate": statistics.median(times), "updates": updates}))


if __name__ == "__main__":
    main()
