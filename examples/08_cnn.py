"""A small convolutional network (LeNet-style) on the UCI digits: convolutions see the image as an image.

The same data and split as example 05 (8x8 images, a quarter held out, stratified, seed 0), where
an MLP that sees 64 unrelated numbers reaches 98.0% test accuracy. Here two blocks of
Conv2d (3x3, padding 1) - BatchNorm2d - ReLU - MaxPool2d(2) turn each 1x8x8 image into 32 maps of
2x2, then Flatten, Dropout and one Linear layer give the 10 logits. Trained with Adam and a cosine
learning-rate schedule through `nn.fit`, from a fixed seed. Writes the training curves and a
picture of the 16 learned first-layer filters with what each one makes of a test digit.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
from autograd import no_grad  # noqa: E402

DPI = 90
SEED = 0


def make_model(c1: int = 16, c2: int = 32, dropout: float = 0.25) -> nn.Sequential:
    """Two conv blocks (1x8x8 -> c1x4x4 -> c2x2x2), then Flatten, Dropout and Linear(c2 * 4 -> 10)."""
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 2 * 2, 10),
    )  # fmt: skip


def main(out_dir: Path, quick: bool = False) -> dict:
    X, y = nn.datasets.load_digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(X / 16.0, y, test_size=0.25, stratify=True, rng=SEED)  # example 05's split
    X_train, X_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)  # (N, channels, height, width)
    print(f"UCI digits: {len(X_train)} training and {len(X_test)} test images of 1x8x8")

    # quick: a narrow net for a few epochs (about 96%); full: about 99%, in ~10 s of CPU
    epochs, c1, c2, lr = (4, 8, 16, 0.01) if quick else (30, 16, 32, 0.003)
    nn.manual_seed(SEED)
    model = make_model(c1, c2)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    scheduler = nn.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    print(model)
    print(f"{model.num_parameters()} parameters; Adam lr {lr} with cosine decay, {epochs} epochs of batches of 32")

    t0, c0 = time.perf_counter(), time.process_time()
    history = nn.fit(
        model, nn.cross_entropy, optimizer, X_train, y_train, epochs=epochs, batch_size=32,
        validation_data=(X_test, y_test), scheduler=scheduler, rng=SEED, verbose=not quick,
    )  # fmt: skip
    train_time, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    model.eval()  # BatchNorm uses its running statistics, Dropout passes everything
    with no_grad():
        pred = model(X_test).data.argmax(axis=1)
    test_acc = float((pred == y_test).mean())
    print(
        f"test accuracy: {test_acc:.4f} ({int((pred == y_test).sum())}/{len(y_test)}; the MLP of example 05: 0.9800"
        f"{', this is the quick setting' if quick else ''}), "
        f"training took {train_time:.2f} s ({train_cpu:.2f} s of CPU time)"
    )

    epochs_axis = np.arange(1, epochs + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(epochs_axis, history["loss"], "o-", ms=3, label="training")
    ax1.plot(epochs_axis, history["val_loss"], "s-", ms=3, label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    ax2.plot(epochs_axis, history["accuracy"], "o-", ms=3, label="training")
    ax2.plot(epochs_axis, history["val_accuracy"], "s-", ms=3, label="test")
    ax2.axhline(0.98, color="gray", ls=":", lw=1, label="MLP (example 05)")
    ax2.set(xlabel="epoch", ylabel="accuracy", title=f"accuracy (test: {test_acc:.3f})")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "08_training_curves.png", dpi=DPI)
    plt.close(fig)

    # The first layer's filters, and what each makes of one test digit (conv, batch norm, ReLU: before pooling).
    filters = model[0].weight.data[:, 0]  # (c1, 3, 3)
    digit = X_test[:1]
    with no_grad():
        maps = model[:3](digit).data[0]  # (c1, 8, 8)
    half = (c1 + 1) // 2  # filters in two rows, each above its map of the digit
    fig, axes = plt.subplots(4, half + 1, figsize=(max(6.0, 1.05 * (half + 1)), 4.8))
    lim = np.abs(filters).max()
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for r in range(4):
        axes[r, 0].axis("off")
    axes[1, 0].imshow(digit[0, 0], cmap="gray_r")
    axes[1, 0].set_title(f"a test digit ({y_test[0]})", fontsize=7)
    for i in range(c1):
        row, col = 2 * (i // half), 1 + i % half
        axes[row, col].imshow(filters[i], cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[row, col].set_title(f"filter {i}", fontsize=7)
        axes[row + 1, col].imshow(maps[i], cmap="viridis")
    for i in range(c1, 2 * half):
        axes[2 * (i // half), 1 + i % half].axis("off")
        axes[2 * (i // half) + 1, 1 + i % half].axis("off")
    fig.suptitle("first layer: learned 3x3 filters (red +, blue -), each above its map of the digit", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_dir / "08_filters.png", dpi=DPI)
    plt.close(fig)

    return {
        "test_accuracy": test_acc,
        "train_time": train_time,
        "train_cpu_time": train_cpu,
        "epochs": epochs,
        "history": history,
        "y_test": y_test,
        "model": model,
        "files": ["08_training_curves.png", "08_filters.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
