"""PyTorch twin of lopt's cifar10-conv training step, for side-by-side timing by bench/conv.ts.

The model is the paper's ConvNet as lopt builds it: conv3x3 32 stride 2, conv3x3 64, conv3x3 64 (SAME
padding as TensorFlow/Haiku: the stride-2 layer pads one row and column after the image, the others
one on each side), ReLU after each, the spatial mean, linear 64 -> 10, mean softmax cross-entropy,
Adam (lr 1e-3). One step = gather a random batch of 128 uint8 HWC images of the training split (the
first 40,000 of data_batch_1..5) and scale to [0, 1], forward, backward, optimizer step; exactly what
lopt times. Timed in two memory formats: NCHW (PyTorch's default) and channels_last (NHWC, lopt's).

Usage: torch_conv_step.py DATA_DIR THREADS STEPS
Prints one JSON line: {"torch": version, "threads": n, "results": {"nchw": ms, "channels_last": ms}}
(median milliseconds per step after a warm-up).
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

RECORD = 1 + 3 * 32 * 32
TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def load_train(data_dir):
    raw = b"".join(open(os.path.join(data_dir, name), "rb").read() for name in TRAIN_FILES)
    records = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, RECORD)
    labels = records[:, 0].long()
    # CHW planes -> HWC bytes, as lopt stores them.
    images = records[:, 1:].reshape(-1, 3, 32, 32).permute(0, 2, 3, 1).contiguous()
    n = round(images.shape[0] * 0.8)
    return images[:n], labels[:n]


class ConvNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(3, 32, 3, stride=2)  # SAME for 32 -> 16: pad (0, 1) per axis
        self.conv1 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(64, 64, 3, padding=1)
        self.linear = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv0(F.pad(x, (0, 1, 0, 1))))
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.linear(x.mean(dim=(2, 3)))


def time_steps(memory_format, images, labels, steps, warmup):
    torch.manual_seed(0)
    model = ConvNet().to(memory_format=memory_format)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = images.shape[0]
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        idx = torch.randint(0, n, (128,))
        # [128, 32, 32, 3] bytes -> [128, 3, 32, 32] view in channels_last strides, then the layout.
        x = images[idx].float().div_(255.0).permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
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
    images, labels = load_train(data_dir)
    formats = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    results = {name: time_steps(fmt, images, labels, steps, warmup=5) for name, fmt in formats.items()}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
