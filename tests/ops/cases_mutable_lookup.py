"""Cases for rill.data.mutable_lookup's stateful table ops."""

import numpy as np

from rill.data.mutable_lookup import MutableHashTable
from tests.ops.cases import case

_table = MutableHashTable("int64", "float32", [0.0, 0.0])
_table._data.update({1: np.array([1.0, 2.0], np.float32), 4: np.array([3.0, 4.0], np.float32)})
_keys = np.array([1, 7], np.int64)
case("LookupTableInsertV2", _keys, np.ones((2, 2), np.float32), table=_table, grad=False)
case("LookupTableRemoveV2", np.array([7], np.int64), table=_table, grad=False)
case("LookupTableSizeV2", table=_table, grad=False)
case("LookupTableExportV2", table=_table, grad=False)
