"""A character-level language model (makemore-style): it reads a few letters and guesses the next one.

The words are made here, deterministically, from syllable rules (onset + vowel + coda, then an
ending), so the example needs no download; they are split 90/10 into training and validation words.
Each word, padded with '.', gives one example per letter: the 3 letters before it (the context)
and the letter itself (the target), e.g. "...": "k", "..k": "a", ".ka": "l", ... "lin": ".".

The model (Bengio et al. 2003, as in Karpathy's makemore): an Embedding table gives each of the
27 characters a learned vector of 10 numbers; the context's 3 vectors, concatenated (Flatten),
go through Linear -> BatchNorm1d -> tanh -> Linear to 27 logits, trained with F.cross_entropy and
Adam. Two baselines put its loss in scale: guessing uniformly (log 27 = 3.30 nats) and counting
which letter follows which (a bigram table). At the end the model writes new words, one letter at
a time, each drawn from its softmax until it draws '.'.

Writes the loss curves and a picture of the learned embeddings: the 27 vectors projected onto
their two main directions (PCA), where the vowels, which play the same part in a word, sit together.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from autograd import no_grad  # noqa: E402

SEED = 0
DPI = 90
CONTEXT = 3
CHARS = "." + "abcdefghijklmnopqrstuvwxyz"  # '.' starts and ends every word
STOI = {c: i for i, c in enumerate(CHARS)}

ONSETS = [
    "",
    "b",
    "br",
    "c",
    "ch",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "j",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "r",
    "s",
    "sh",
    "st",
    "t",
    "th",
    "tr",
    "v",
    "w",
    "z",
]
VOWELS = ["a", "e", "i", "o", "u", "ae", "ia", "ou", "ei", "y"]
CODAS = ["", "n", "r", "l", "s", "th", "m", "nd", "x"]
ENDINGS = ["", "a", "o", "ia", "el", "on", "us", "ine", "wyn"]


def make_words(n: int, seed: int = SEED) -> list[str]:
    """n distinct made-up words of 3 to 12 letters, the same ones for the same seed."""
    rng = np.random.default_rng(seed)

    def pick(options: list[str], weight_first: float) -> str:
        p = np.full(len(options), (1 - weight_first) / (len(options) - 1))
        p[0] = weight_first  # the first option (often "") is the common one
        return options[rng.choice(len(options), p=p)]

    words: set[str] = set()
    while len(words) < n:
        syllables = rng.choice([1, 2, 3, 4], p=[0.2, 0.45, 0.28, 0.07])
        w = "".join(pick(ONSETS, 0.06) + pick(VOWELS, 0.25) + pick(CODAS, 0.55) for _ in range(syllables)) + pick(ENDINGS, 0.4)
        if 3 <= len(w) <= 12:
            words.add(w)
    out = sorted(words)  # (a set's order changes from run to run: sort, then shuffle with the seed)
    rng.shuffle(out)
    return out


def dataset(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(contexts (n, CONTEXT) of character indices, next-character indices (n,)), one row per letter and end."""
    xs, ys = [], []
    for w in words:
        ctx = [0] * CONTEXT
        for ch in w + ".":
            xs.append(ctx)
            ys.append(STOI[ch])
            ctx = ctx[1:] + [STOI[ch]]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


def bigram_loss(train: list[str], val: list[str]) -> float:
    """Validation loss of counting: P(next | previous letter) from training counts (+1 smoothing)."""
    counts = np.ones((len(CHARS), len(CHARS)))
    for w in train:
        for a, b in zip("." + w, w + "."):
            counts[STOI[a], STOI[b]] += 1
    logp = np.log(counts / counts.sum(axis=1, keepdims=True))
    pairs = [(STOI[a], STOI[b]) for w in val for a, b in zip("." + w, w + ".")]
    return float(-np.mean([logp[a, b] for a, b in pairs]))


def make_model(emb_dim: int, hidden: int) -> nn.Module:
    """Embedding -> Flatten -> Linear -> BatchNorm1d -> Tanh -> Linear: 27 logits for the next character."""
    return nn.Sequential(
        nn.Embedding(len(CHARS), emb_dim),
        nn.Flatten(),  # (batch, CONTEXT, emb_dim) -> (batch, CONTEXT * emb_dim)
        nn.Linear(CONTEXT * emb_dim, hidden, bias=False),  # (BatchNorm's bias takes the place of this one)
        nn.BatchNorm1d(hidden),
        nn.Tanh(),
        nn.Linear(hidden, len(CHARS)),
    )


def evaluate(model: nn.Module, X: np.ndarray, Y: np.ndarray) -> float:
    """Mean cross-entropy in eval mode (BatchNorm uses its running statistics), without a graph."""
    model.eval()
    with no_grad():
        loss = F.cross_entropy(model(X), Y).item()
    model.train()
    return loss


def sample(model: nn.Module, n: int, rng: np.random.Generator, max_len: int = 20) -> list[str]:
    """n new words: each letter drawn from the model's softmax over the next character, until '.'."""
    model.eval()
    words = []
    with no_grad():
        for _ in range(n):
            ctx, out = [0] * CONTEXT, []
            while len(out) < max_len:
                p = F.softmax(model(np.array([ctx])), dim=1).data[0]
                i = int(rng.choice(len(CHARS), p=p / p.sum()))
                if i == 0:
                    break
                out.append(CHARS[i])
                ctx = ctx[1:] + [i]
            words.append("".join(out))
    model.train()
    return words


def main(out_dir: Path, quick: bool = False) -> dict:
    words = make_words(1500 if quick else 8000)
    split = int(0.9 * len(words))
    train_words, val_words = words[:split], words[split:]
    Xtr, Ytr = dataset(train_words)
    Xva, Yva = dataset(val_words)
    print(f"{len(words)} made-up words, e.g. {', '.join(words[:6])}")
    print(f"{len(Xtr)} training and {len(Xva)} validation examples: {CONTEXT} characters of context -> the next one")

    steps, batch, emb_dim, hidden = (400, 64, 10, 64) if quick else (6000, 64, 10, 200)
    nn.manual_seed(SEED)
    model = make_model(emb_dim, hidden)
    print(model)
    print(f"{model.num_parameters()} parameters; Adam, {steps} steps of batches of {batch}")
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    scheduler = nn.optim.StepLR(optimizer, step_size=int(steps * 0.75), gamma=0.1)  # a smaller step to finish
    rng = np.random.default_rng(SEED)

    uniform = math.log(len(CHARS))
    bigram = bigram_loss(train_words, val_words)
    train_curve, val_curve = [], []
    every = max(steps // 20, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(steps):
        rows = rng.integers(0, len(Xtr), batch)
        loss = F.cross_entropy(model(Xtr[rows]), Ytr[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        train_curve.append(loss.item())
        if step % every == 0 or step == steps - 1:
            val_curve.append((step, evaluate(model, Xva, Yva)))
    train_time, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    train_loss, val_loss = evaluate(model, Xtr, Ytr), evaluate(model, Xva, Yva)
    print(f"trained in {train_time:.1f} s ({train_cpu:.1f} s of CPU time)")
    print(f"loss (nats per character): train {train_loss:.3f}, validation {val_loss:.3f}")
    print(f"baselines on validation: uniform guess {uniform:.3f}, bigram counts {bigram:.3f}")

    samples = sample(model, 12, np.random.default_rng(SEED))
    novel = sum(w not in set(words) for w in samples)
    print(f"new words sampled from the model ({novel} of {len(samples)} not in the word list): {', '.join(samples)}")

    fig, ax = plt.subplots(figsize=(7, 4))
    smooth = np.convolve(train_curve, np.ones(20) / 20, mode="valid")
    ax.plot(np.arange(len(smooth)) + 19, smooth, lw=1, label="training batches (moving average of 20)")
    ax.plot(*zip(*val_curve), "o-", ms=3, label="validation set")
    ax.axhline(uniform, color="gray", ls=":", label=f"uniform guess (log 27 = {uniform:.2f})")
    ax.axhline(bigram, color="gray", ls="--", label=f"bigram counts ({bigram:.2f})")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="character-level MLP: loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "09_char_loss.png", dpi=DPI)
    plt.close(fig)

    table = model[0].weight.data
    centred = table - table.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T  # the two main directions of the 27 vectors
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    for c, (px, py) in zip(CHARS, xy):
        ax.scatter(px, py, s=260, color="tab:red" if c in "aeiouy" else "tab:blue", alpha=0.35)
        ax.text(px, py, c, ha="center", va="center", fontsize=11)
    ax.set(title="learned character embeddings (PCA to 2-D; vowels red)", xlabel="first direction", ylabel="second direction")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "09_char_embeddings.png", dpi=DPI)
    plt.close(fig)

    vowels, consonants = [STOI[c] for c in "aeiouy"], [STOI[c] for c in "bcdfghjklmnprstvwxz"]
    dist = np.linalg.norm(table[:, None] - table[None], axis=-1)
    within, across = dist[np.ix_(vowels, vowels)].sum() / (len(vowels) * (len(vowels) - 1)), dist[np.ix_(vowels, consonants)].mean()
    print(f"in the embedding, vowels lie {within:.2f} apart on average, {across:.2f} from the consonants")
    return {
        "words": words,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "uniform_loss": uniform,
        "bigram_loss": bigram,
        "train_curve": train_curve,
        "val_curve": val_curve,
        "samples": samples,
        "novel_samples": novel,
        "vowel_distance": float(within),
        "vowel_consonant_distance": float(across),
        "train_time": train_time,
        "train_cpu_time": train_cpu,
        "files": ["09_char_loss.png", "09_char_embeddings.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
