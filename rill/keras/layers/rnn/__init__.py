"""Recurrent layers: the cells, the generic ``RNN`` layer, ``SimpleRNN``, ``LSTM``, ``GRU``
(and the convolutional LSTMs)."""

from rill.keras.layers.rnn.cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
)
from rill.keras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from rill.keras.layers.rnn.layers import GRU, LSTM, RNN, SimpleRNN

__all__ = [
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells",
]  # fmt: skip
