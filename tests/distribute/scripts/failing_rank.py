"""Rank 1 raises (argv[1] == "raise") or stalls (argv[1] == "stall") while rank 0 waits
in a collective: the job must end, with the failing rank's error."""

import sys
import time

import rill as tf

options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=3)
strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
rank = strategy.cluster_resolver.task_id
if rank == 1:
    if sys.argv[1] == "raise":
        raise ValueError("replica 1 failed on purpose")
    time.sleep(60)
print("rank", rank, "reduces", strategy.reduce("SUM", tf.constant(1.0), axis=None), flush=True)
