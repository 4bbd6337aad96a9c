"""The DualTaskModel: CNN -> BiLSTM -> self-attention -> shared funnel -> two heads
(book chapters 8-11); and :class:`DCNN`, the small single-task reference CNN of Li, Ding
and Sun (2018) that checks the data pipeline (chapter "Training it well").

Everything up to the funnel is the *shared backbone*; GABA measures each task's
gradient on exactly those parameters (:meth:`DualTaskModel.shared_parameters`).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from .data.prepare import RUL_CAP

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def conv_block(
    c_in: int, c_out: int, dropout: float, activation: str = "relu", batchnorm: bool = True
) -> nn.Sequential:
    """Conv1d (k=3, same length) -> BatchNorm -> activation -> Dropout.

    The conv has no bias when BatchNorm follows (BatchNorm supplies it).
    """
    layers = [nn.Conv1d(c_in, c_out, kernel_size=3, padding=1, bias=not batchnorm)]
    layers += [nn.BatchNorm1d(c_out)] if batchnorm else []
    return nn.Sequential(*layers, ACTIVATIONS[activation](), nn.Dropout(dropout))


def mlp(
    sizes: list[int],
    dropout: float = 0.0,
    final_activation: bool = True,
    activation: str = "relu",
) -> nn.Sequential:
    """Linear layers of the given sizes with an activation (and optional Dropout) between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DualTaskModel(nn.Module):
    """Predicts RUL (regression) and a 3-class health state from one window.

    The book does not specify the initialisation; PyTorch's defaults are used except
    for the bias of the RUL head's last layer, set to ``rul_bias_init`` (62.5 cycles,
    half the cap) so that the final ReLU is active for every window at the start.
    ``rul_bias_init=None`` keeps PyTorch's default.

    ``rul_scale`` (1 in the book) is the unit of the RUL head's output in cycles: the
    head predicts RUL / rul_scale and the model returns cycles either way, so with
    ``rul_scale=125`` the head works on [0, 1] targets as public recipes do.
    ``rul_final_relu=False`` drops the final ReLU (a linear output).
    ``activation="tanh"`` (bounded, as in the reference DCNN) replaces the hidden ReLUs and
    ``conv_batchnorm=False`` drops the BatchNorm of the CNN; both are departures from the book.
    """

    has_health_head = True

    def __init__(
        self,
        n_features: int = 17,
        conv_channels: tuple[int, ...] = (64, 128, 64),
        conv_dropout: float = 0.15,
        lstm_hidden: int = 256,
        lstm_layers: int = 2,
        lstm_dropout: float = 0.3,
        attention_heads: int = 8,
        attention_dropout: float = 0.1,
        funnel: tuple[int, ...] = (256, 64, 32),
        funnel_dropout: float = 0.2,
        rul_head: tuple[int, ...] = (64, 32, 16),
        health_head: tuple[int, ...] = (32, 16),
        n_health_classes: int = 3,
        rul_bias_init: float | None = RUL_CAP / 2,
        rul_scale: float = 1.0,
        rul_final_relu: bool = True,
        activation: str = "relu",
        conv_batchnorm: bool = True,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}"
            )
        channels = [n_features, *conv_channels]
        self.cnn = nn.Sequential(
            *[
                conv_block(a, b, conv_dropout, activation, conv_batchnorm)
                for a, b in zip(channels[:-1], channels[1:])
            ]
        )
        self.lstm = nn.LSTM(
            channels[-1],
            lstm_hidden,
            num_layers=lstm_layers,
            batch_first=True,
            bidirectional=True,
            dropout=lstm_dropout if lstm_layers > 1 else 0.0,
        )
        width = 2 * lstm_hidden
        self.attention = nn.MultiheadAttention(width, attention_heads, batch_first=True)
        self.attention_dropout = nn.Dropout(attention_dropout)
        self.attention_norm = nn.LayerNorm(width)
        self.funnel = mlp([width, *funnel], dropout=funnel_dropout, activation=activation)
        # the final ReLU (the book's) keeps RUL >= 0
        self.rul_head = mlp(
            [funnel[-1], *rul_head, 1], final_activation=False, activation=activation
        )
        if rul_final_relu:  # the book's final ReLU keeps RUL >= 0 (whatever the activation)
            self.rul_head.append(nn.ReLU())
        self.rul_scale = float(rul_scale)
        if rul_bias_init is not None:
            # Start mid-range (R_max / 2). With PyTorch's default init the final ReLU is
            # dead for most seeds (every prediction 0, no gradient from the RUL loss).
            last = [m for m in self.rul_head if isinstance(m, nn.Linear)][-1]
            nn.init.constant_(last.bias, rul_bias_init / self.rul_scale)
        self.health_head = mlp(
            [funnel[-1], *health_head, n_health_classes],
            final_activation=False,
            activation=activation,
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Shared representation (B, funnel[-1]) of windows x (B, T, F)."""
        h = self.cnn(x.transpose(1, 2)).transpose(1, 2)  # Conv1d wants (B, C, T)
        h, _ = self.lstm(h)  # (B, T, 2H)
        # Only the last time step is pooled, so only its query is computed: the same
        # numbers as attending from every step and then keeping the last, at half the cost.
        last = h[:, -1:]
        a, _ = self.attention(last, h, h, need_weights=False)
        z = self.attention_norm(last + self.attention_dropout(a))  # post-norm residual
        return self.funnel(z[:, 0])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.features(x)
        # Under mixed precision the heads still run in float32: bf16 has 8 bits of
        # mantissa, too coarse for RUL values near 100 (100.3 would print as 100.5).
        with torch.autocast(z.device.type, enabled=False):
            z = z.float()
            rul = self.rul_head(z).squeeze(-1)
            if self.rul_scale != 1.0:
                rul = rul * self.rul_scale
            return rul, self.health_head(z)

    def head_modules(self) -> dict[str, nn.Module]:
        return {"rul_head": self.rul_head, "health_head": self.health_head}

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of the shared backbone (everything but the two heads)."""
        heads = {id(p) for m in self.head_modules().values() for p in m.parameters()}
        return (p for p in self.parameters() if id(p) not in heads)

    def head_parameters(self, task: str | None = None) -> Iterator[nn.Parameter]:
        """Parameters of one head (``'rul'`` or ``'health'``), or of both."""
        names = {"rul": ["rul_head"], "health": ["health_head"], None: ["rul_head", "health_head"]}
        if task not in names:
            raise ValueError(f"task must be 'rul', 'health' or None, got {task!r}")
        return (p for name in names[task] for p in getattr(self, name).parameters())

    def parameter_table(self) -> list[tuple[str, int]]:
        """(block, parameter count) for each block, in data-flow order."""
        blocks = [
            ("cnn", self.cnn),
            ("bilstm", self.lstm),
            ("attention", self.attention),
            ("attention_norm", self.attention_norm),
            ("funnel", self.funnel),
            ("rul_head", self.rul_head),
            ("health_head", self.health_head),
        ]
        return [(name, sum(p.numel() for p in m.parameters())) for name, m in blocks]


class DCNN(nn.Module):
    """Li, Ding & Sun (2018): a small CNN for RUL alone, the pipeline's reference.

    Three convolutions of 10 filters of 10 time steps (each applied to every feature
    alone, as the paper's 10x1 kernels on a (time x feature) image), a fourth of one
    filter of 3 steps, tanh after each, then dropout, a tanh layer of 100 and one output.
    About 45k parameters for 14 features and 30-step windows. It has no health head:
    ``forward`` returns zero logits, which carry no gradient and no weight
    (the method ``rul_only``).
    """

    has_health_head = False

    def __init__(
        self,
        n_features: int = 14,
        window: int = 30,
        filters: int = 10,
        kernel: int = 10,
        n_conv: int = 3,
        last_kernel: int = 3,
        hidden: int = 100,
        dropout: float = 0.5,
        rul_scale: float = 1.0,
        n_health_classes: int = 3,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for k, c_out in [(kernel, filters)] * n_conv + [(last_kernel, 1)]:
            # zero "same" padding along time only; the feature axis is never mixed by a conv
            pad = nn.ZeroPad2d((0, 0, (k - 1) // 2, k // 2))
            layers += [pad, nn.Conv2d(c_in, c_out, (k, 1)), nn.Tanh()]
            c_in = c_out
        self.cnn = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(window * n_features, hidden), nn.Tanh()
        )
        self.rul_head = nn.Linear(hidden, 1)
        self.rul_scale = float(rul_scale)
        self.n_health_classes = n_health_classes
        for m in self.modules():  # the paper's Xavier initialisation
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.fc(self.cnn(x.unsqueeze(1)))  # (B, 1, T, F) image -> (B, hidden)
        rul = self.rul_head(h).squeeze(-1).float() * self.rul_scale
        return rul, rul.new_zeros(len(rul), self.n_health_classes)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Everything before the output layer."""
        return (p for m in (self.cnn, self.fc) for p in m.parameters())

    def head_parameters(self, task: str | None = None) -> Iterator[nn.Parameter]:
        if task not in ("rul", None, "health"):
            raise ValueError(f"task must be 'rul', 'health' or None, got {task!r}")
        return iter(()) if task == "health" else iter(self.rul_head.parameters())


ARCHITECTURES = {"dual": DualTaskModel, "dcnn": DCNN}


def build_model(arch: str, n_features: int, window: int, rul_scale: float, **kwargs) -> nn.Module:
    """The model a config asks for: ``dual`` (the book's) or ``dcnn`` (the reference)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown arch {arch!r}; valid: {', '.join(ARCHITECTURES)}")
    if arch == "dcnn":
        kwargs.setdefault("window", window)
    return ARCHITECTURES[arch](n_features=n_features, rul_scale=rul_scale, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parameter_summary(model: DualTaskModel) -> str:
    """A small text table of parameters per block, with the shared/heads split."""
    rows = model.parameter_table()
    total = sum(n for _, n in rows)
    shared = sum(p.numel() for p in model.shared_parameters())
    lines = [f"{'block':<16}{'parameters':>12}{'share':>8}"]
    lines += [f"{name:<16}{n:>12,}{n / total:>8.1%}" for name, n in rows]
    lines.append(f"{'total':<16}{total:>12,}")
    lines.append(f"{'shared backbone':<16}{shared:>12,}{shared / total:>8.1%}")
    return "\n".join(lines)
