"""Classify real handwritten digits: an MLP with softmax cross-entropy on the UCI digits (8x8 images).

The data set ships with `nn` (1797 images, CC BY 4.0, see nn/datasets/README.md). A quarter is
held out (stratified, fixed seed); the network 64 -> 128 -> 64 (ReLU) -> 10 is trained with Adam
and a cosine learning-rate schedule through `nn.fit`. Writes the training curves and the confusion
matrix of the held-out set.
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


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = 10) -> np.ndarray:
    """counts[i, j] = how many samples of class i were predicted as j."""
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def main(out_dir: Path, quick: bool = False) -> dict:
    X, y = nn.datasets.load_digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(X / 16.0, y, test_size=0.25, stratify=True, rng=SEED)
    print(f"UCI digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels, 10 classes")

    # quick: a small net for a few epochs (about 93%); full: two hidden layers (about 98%)
    epochs, hidden, lr, batch = (6, [32], 0.01, 64) if quick else (30, [128, 64], 0.003, 32)
    nn.manual_seed(SEED)
    model = nn.MLP(64, hidden + [10], activation="relu")  # 10 logits; cross_entropy applies the softmax
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    scheduler = nn.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    print(model)
    print(f"{model.num_parameters()} parameters; Adam lr {lr} with cosine decay, {epochs} epochs of batches of {batch}")

    t0, c0 = time.perf_counter(), time.process_time()
    history = nn.fit(
        model, nn.cross_entropy, optimizer, X_train, y_train, epochs=epochs, batch_size=batch,
        validation_data=(X_test, y_test), scheduler=scheduler, rng=SEED, verbose=not quick,
    )  # fmt: skip
    train_time, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    with no_grad():
        pred = model(X_test).data.argmax(axis=1)
    test_acc = float((pred == y_test).mean())
    cm = confusion_matrix(y_test, pred)
    print(f"test accuracy: {test_acc:.4f} ({int((pred == y_test).sum())}/{len(y_test)}), training took {train_time:.2f} s ({train_cpu:.2f} s of CPU time)")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("     " + " ".join(f"{j:>3}" for j in range(10)))
    for i in range(10):
        print(f"  {i}: " + " ".join(f"{c:>3}" for c in cm[i]))

    epochs_axis = np.arange(1, epochs + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(epochs_axis, history["loss"], "o-", ms=3, label="training")
    ax1.plot(epochs_axis, history["val_loss"], "s-", ms=3, label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    ax2.plot(epochs_axis, history["accuracy"], "o-", ms=3, label="training")
    ax2.plot(epochs_axis, history["val_accuracy"], "s-", ms=3, label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy", title=f"accuracy (test: {test_acc:.3f})")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "05_training_curves.png", dpi=DPI)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    im = ax.imshow(cm, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8, color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit", title=f"test set confusion matrix (accuracy {test_acc:.3f})")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(out_dir / "05_confusion_matrix.png", dpi=DPI)
    plt.close(fig)

    return {
        "test_accuracy": test_acc,
        "train_time": train_time,
        "train_cpu_time": train_cpu,
        "epochs": epochs,
        "history": history,
        "confusion_matrix": cm,
        "files": ["05_training_curves.png", "05_confusion_matrix.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
