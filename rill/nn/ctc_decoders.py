"""``tf.nn.ctc_greedy_decoder`` and ``tf.nn.ctc_beam_search_decoder``: the decoding runs in
``rill.ops.ctc_ops``; here its padded paths become SparseTensors (the structures layer,
which ops cannot import)."""

from __future__ import annotations

from rill.core import dtypes as _d
from rill.ops._op import tf_export
from rill.ops.array_ops import cast, stack
from rill.ops.ctc_ops import beam_search_parts, greedy_parts
from rill.ops.indexing_ops import boolean_mask, where
from rill.ops.reduction_ops import reduce_max
from rill.ops.sequence_ops import sequence_mask
from rill.ops.shape_ops import shape
from rill.structures.sparse_tensor import SparseTensor


def _sparse(paths, lengths):
    """SparseTensor of the rows of ``paths`` [batch, width] cut at ``lengths``."""
    mask = sequence_mask(lengths, shape(paths)[1])
    indices = where(mask)
    width = cast(reduce_max(lengths), _d.int64) if lengths.shape[0] != 0 else 0
    dense_shape = stack([cast(shape(paths)[0], _d.int64), cast(width, _d.int64)])
    return SparseTensor(indices, boolean_mask(paths, mask), dense_shape)


@tf_export("nn.ctc_greedy_decoder")
def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None):
    """Best path decoding of time-major logits: ([SparseTensor], -sum of max logits)."""
    paths, lengths, scores = greedy_parts(inputs, sequence_length, merge_repeated, blank_index)
    return [_sparse(paths[0], lengths[0])], scores


@tf_export("nn.ctc_beam_search_decoder")
def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1):
    """Prefix beam search of time-major logits (blank = last class): the ``top_paths``
    best labelings as SparseTensors, and their log-probabilities [batch, top_paths]."""
    paths, lengths, scores = beam_search_parts(inputs, sequence_length, beam_width, top_paths)
    return [_sparse(paths[p], lengths[p]) for p in range(int(top_paths))], scores
