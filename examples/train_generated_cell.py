"""Generate a cell, build the network its benchmark trained, and train it: from a sample to a trainable model.

    python examples/train_generated_cell.py --prior hub/archvq-nb201 --data path/to/cifar10/train --epochs 5
    python examples/train_generated_cell.py --prior hub/archvq-nb201 --synthetic 512 --epochs 1   # no data needed

--data is an image folder (one sub-folder per class, read with torchvision's ImageFolder; install torchvision), or a
CIFAR-10 copy in its python format (the folder holding ``data_batch_1`` ...). --synthetic trains on random
images with random labels, which is enough to check the pipeline. The first loss and the last epoch's mean loss are
printed; the network is saved with ``torch.save`` when --out is given.
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import archllm_hf  # noqa: F401  (registers the networks of the spaces)
from archllm_hf.generation import ArchitectureGenerator


def cifar10(folder: Path) -> TensorDataset:
    images, labels = [], []
    for batch in sorted(folder.glob("data_batch_*")):
        with batch.open("rb") as handle:
            data = pickle.load(handle, encoding="bytes")
        images.append(np.asarray(data[b"data"], dtype=np.float32).reshape(-1, 3, 32, 32) / 255.0)
        labels.extend(data[b"labels"])
    if not images:
        raise FileNotFoundError(f"{folder} holds no CIFAR-10 data_batch_* files")
    return TensorDataset(torch.from_numpy(np.concatenate(images)), torch.as_tensor(labels))


def image_folder(folder: Path):
    from torchvision import datasets, transforms

    resize = transforms.Resize((32, 32))  # both sides: images of any shape batch together
    return datasets.ImageFolder(str(folder), transform=transforms.Compose([resize, transforms.ToTensor()]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prior", default="hub/archvq-nb201", help="release repo id or folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="image folder or CIFAR-10 (python format) folder")
    source.add_argument("--synthetic", type=int, help="this many random 32x32 images with random labels")
    parser.add_argument(
        "--num-classes", type=int, default=None, help="default: the data's (10 when synthetic)"
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--network", default=None, help='sizes as JSON, e.g. \'{"channels": 8, "cells_per_stage": 1}\''
    )
    parser.add_argument("--out", type=Path, default=None, help="save the trained network here")
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    if args.synthetic:
        num_classes = args.num_classes or 10
        images = torch.rand(args.synthetic, 3, 32, 32)
        data = TensorDataset(images, torch.randint(0, num_classes, (args.synthetic,)))
    elif (args.data / "data_batch_1").is_file():
        data, num_classes = cifar10(args.data), args.num_classes or 10
    else:
        data = image_folder(args.data)
        num_classes = args.num_classes or len(data.classes)

    generator = ArchitectureGenerator.from_pretrained(args.prior)
    samples = [s for s in generator.generate(16, seed=args.seed) if s["valid"]]
    if not samples:
        raise SystemExit(f"none of 16 samples from {args.prior} is a valid cell; try another seed")
    space, sample = generator.space, samples[0]
    sizes = {} if args.network is None else json.loads(args.network)
    network = space.to_module(space.parse(_text(sample["cell"])), num_classes=num_classes, **sizes)
    print(f"cell {sample['id']}: {sum(p.numel() for p in network.parameters()):,} parameters")

    loader = DataLoader(
        data, batch_size=args.batch_size, shuffle=True, generator=torch.Generator().manual_seed(args.seed)
    )
    optimiser = torch.optim.SGD(network.parameters(), lr=args.learning_rate, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    network.train()
    first = None
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        for images, labels in loader:
            output = network(images)
            logits = output[0] if isinstance(output, tuple) else output  # DARTS' auxiliary head in train mode
            loss = loss_fn(logits, labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            first = loss.item() if first is None else first
            total, count = total + loss.item() * len(labels), count + len(labels)
        print(f"epoch {epoch + 1}: mean loss {total / count:.4f}")
    print(f"first loss {first:.4f}, last epoch mean loss {total / count:.4f}")
    if args.out:
        torch.save(network.state_dict(), args.out)


def _text(cell) -> str:
    """The space's text form of a sample's native cell (NB101 gives a dict; the others a string)."""
    return cell if isinstance(cell, str) else json.dumps(cell)


if __name__ == "__main__":
    main()
