"""Dataset factories shared by the test process and the worker subprocesses it starts."""

from rill.data.service import register_dataset_factory


def squares(n):
    """The squares of 0..n-1, as int64."""
    import rill as tf

    return tf.data.Dataset.range(n).map(lambda x: x * x)


register_dataset_factory("test_squares", squares)
