"""PyTorch twin of lopt's Fashion-MNIST MLP training step, for side-by-side timing by bench/step.ts.

One step = gather a random batch of 128 uint8 images and scale to [0, 1], forward through
784-128-128-10 ReLU, mean softmax cross-entropy, backward, optimizer step; exactly what lopt times.
Prints one JSON line: {"torch": version, "threads": n, "results": {"sgd": ms, "adam": ms}}.
"""
import gzip
import json
import statistics
import sys
import time

import torch


def load_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(-1, 784)


def load_labels(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return torch.frombuffer(bytearray(raw[8:]), dtype=torch.uint8).long()


def time_steps(optimizer_name, images, labels, steps, warmup):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    if optimizer_name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = images.shape[0]
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        idx = torch.randint(0, n, (128,))
        x = images[idx].float().div_(255.0)
        y = labels[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if step >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    data_dir, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    images = load_images(f"{data_dir}/train-images-idx3-ubyte.gz")
    labels = load_labels(f"{data_dir}/train-labels-idx1-ubyte.gz")
    results = {name: time_steps(name, images, labels, steps, warmup=max(20, steps // 10)) for name in ("sgd", "adam")}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
