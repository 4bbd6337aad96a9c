"""DualTaskModel: shapes, size, the shared/head split and the attention shortcut."""

from __future__ import annotations

import pytest
import torch
from _support import TINY_ARCH

from rulkit.model import DualTaskModel, count_parameters, parameter_summary


def expected_parameters(F: int) -> int:
    """The default model's size, layer by layer, from the architecture in SPEC section 3."""

    def linear(a, b):
        return a * b + b

    conv = sum(3 * a * b for a, b in [(F, 64), (64, 128), (128, 64)])  # k=3, no bias
    batch_norm = sum(2 * c for c in (64, 128, 64))  # gamma, beta (running stats are buffers)
    H = 256

    def lstm_direction(n_in):  # four gates: W_ih, W_hh, b_ih, b_hh
        return 4 * H * n_in + 4 * H * H + 4 * H + 4 * H

    lstm = 2 * lstm_direction(64) + 2 * lstm_direction(2 * H)
    E = 2 * H
    attention = (3 * E * E + 3 * E) + (E * E + E)  # in_proj (q, k, v) and out_proj
    layer_norm = 2 * E
    funnel = linear(512, 256) + linear(256, 64) + linear(64, 32)
    rul_head = linear(32, 64) + linear(64, 32) + linear(32, 16) + linear(16, 1)
    health_head = linear(32, 32) + linear(32, 16) + linear(16, 3)
    return conv + batch_norm + lstm + attention + layer_norm + funnel + rul_head + health_head


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DualTaskModel().eval()


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return DualTaskModel(n_features=17, **TINY_ARCH)


def test_output_shapes(model):
    x = torch.randn(4, 30, 17)
    with torch.no_grad():
        rul, logits = model(x)
    assert rul.shape == (4,) and logits.shape == (4, 3)


def test_rul_is_never_negative(tiny):
    with torch.no_grad():
        # push the last layer's bias far negative: ReLU still keeps the output at 0
        tiny.rul_head[-2].bias.fill_(-100.0)
        rul, _ = tiny(torch.randn(16, 30, 17) * 5)
    assert (rul >= 0).all() and (rul == 0).all()


def test_default_parameter_count(model):
    expected = expected_parameters(17)
    assert expected == 3_497_220
    assert count_parameters(model) == expected
    assert sum(n for _, n in model.parameter_table()) == expected
    assert "3,497,220" in parameter_summary(model)


def test_parameter_count_with_14_features():
    assert count_parameters(DualTaskModel(n_features=14)) == expected_parameters(14)


def test_works_with_14_features():
    torch.manual_seed(0)
    m = DualTaskModel(n_features=14, **TINY_ARCH).eval()
    with torch.no_grad():
        rul, logits = m(torch.randn(3, 30, 14))
    assert rul.shape == (3,) and logits.shape == (3, 3)
    with pytest.raises(RuntimeError):
        m(torch.randn(3, 30, 17))


def test_shared_and_head_parameters_partition_the_model(model):
    shared = [id(p) for p in model.shared_parameters()]
    heads = [id(p) for p in model.head_parameters()]
    rul = {id(p) for p in model.head_parameters("rul")}
    health = {id(p) for p in model.head_parameters("health")}
    assert len(set(shared)) == len(shared) and len(set(heads)) == len(heads)
    assert not set(shared) & set(heads)
    assert set(shared) | set(heads) == {id(p) for p in model.parameters()}
    assert rul | health == set(heads) and not rul & health
    assert rul == {id(p) for p in model.rul_head.parameters()}
    assert {id(p) for p in model.lstm.parameters()} <= set(shared)


def test_head_parameters_rejects_unknown_task(model):
    with pytest.raises(ValueError, match="'bad'"):
        list(model.head_parameters("bad"))


@pytest.mark.parametrize("config", [TINY_ARCH, {}], ids=["tiny", "default"])
def test_last_query_attention_equals_full_self_attention(config):
    torch.manual_seed(1)
    m = DualTaskModel(**config).eval()
    x = torch.randn(5, 30, 17)
    with torch.no_grad():
        h = m.cnn(x.transpose(1, 2)).transpose(1, 2)
        h, _ = m.lstm(h)
        a, _ = m.attention(h, h, h)  # every step attends, then the last one is kept
        z = m.attention_norm(h + m.attention_dropout(a))[:, -1]
        expected = m.funnel(z)
        got = m.features(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_gradients_reach_every_parameter(tiny):
    rul, logits = tiny(torch.randn(4, 30, 17))
    (rul.sum() + logits.sum()).backward()
    assert all(p.grad is not None for p in tiny.parameters())


def test_heads_run_in_float32_under_mixed_precision(tiny):
    """bf16 keeps 8 bits of mantissa: 100.3 would come out as 100.5. The heads stay float32."""
    tiny.eval()
    x = torch.randn(16, 30, 17)
    with torch.autocast("cpu", torch.bfloat16):
        rul, logits = tiny(x)
        z = tiny.features(x)
    assert z.dtype == torch.bfloat16, "autocast did not act: the test would prove nothing"
    assert rul.dtype == torch.float32 and logits.dtype == torch.float32
    torch.testing.assert_close(rul, tiny.rul_head(z.float()).squeeze(-1))
    assert torch.tensor(100.3, dtype=torch.bfloat16).item() == 100.5  # what the heads avoid


def test_tanh_and_no_batchnorm_keep_the_structure():
    torch.manual_seed(0)
    model = DualTaskModel(n_features=14, **TINY_ARCH, activation="tanh", conv_batchnorm=False)
    kinds = {type(m).__name__ for m in model.modules()}
    assert "Tanh" in kinds and "BatchNorm1d" not in kinds
    # the RUL head still ends in the book's ReLU, so RUL stays >= 0
    assert isinstance(model.rul_head[-1], torch.nn.ReLU)
    rul, logits = model(torch.randn(5, 30, 14) * 10)
    assert rul.shape == (5,) and logits.shape == (5, 3) and (rul >= 0).all()


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation"):
        DualTaskModel(activation="gelu")
