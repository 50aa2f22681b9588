"""``keras.layers``: the Layer base and the layer catalog."""

from rill.keras.input_layer import InputLayer
from rill.keras.layer import Layer
from rill.keras.layers.core import (
    Activation,
    Add,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    Lambda,
    Multiply,
    Reshape,
)
from rill.keras.layers.merging import (
    Average,
    Dot,
    Maximum,
    Minimum,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from rill.keras.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from rill.keras.layers.input_spec import InputSpec
from rill.keras.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from rill.keras.layers.einsum_dense import EinsumDense, Identity
from rill.keras.layers.embedding import Embedding, Masking
from rill.keras.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    SpectralNormalization,
    UnitNormalization,
)
from rill.keras.layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from rill.keras.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from rill.keras.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from rill.keras.layers.rnn import (
    GRU,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from rill.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
from rill.keras.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from rill.keras.layers.preprocessing import *  # noqa: F403 - see its __all__
from rill.keras.layers.augmentation import *  # noqa: F403 - see its __all__
from rill.keras.input_layer import Input  # noqa: E402 - keras.layers.Input is keras.Input
from rill.keras.layers.tfsm_layer import TFSMLayer  # noqa: E402 - SavedModel endpoints as layers
