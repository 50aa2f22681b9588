"""Seed question 8: What are some use cases that require writing your own custom
training loop?

When model.fit()'s fixed recipe (one loss, one optimizer, apply every gradient as is) is
not enough: custom or multi-part losses, learning-rate schedules that depend on your own
logic, gradient clipping/normalisation/accumulation, several models or optimizers trained
together (GANs, distillation), freezing or updating parameters selectively, unusual
data/curricula, and step-by-step debugging or research prototypes.

Below, a complete custom loop on a real dataset shipped with rill (examples/data/, no
download): logistic regression for the Breast Cancer Wisconsin (Diagnostic) data, with
tf.Variable weights, tf.GradientTape, hand-written mini-batch SGD, a custom loss
(cross-entropy + L2), a cosine learning-rate schedule and clipping by global norm.
"""

import math
from pathlib import Path

import numpy as np

import rill as tf

print(__doc__.split("\n\n")[1].replace("\n", " "), "\n")

# --- Data: 569 x 30 features, label 1 = benign, 0 = malignant ---------------------
csv = Path(__file__).resolve().parent / "data" / "breast_cancer.csv"
data = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)
features, labels = data[:, :-1], data[:, -1:]

tf.random.set_seed(42)  # global seed: the same split and batches on every run
order = tf.random.shuffle(tf.range(len(data))).numpy()
n_test = len(data) // 5
test_idx, train_idx = order[:n_test], order[n_test:]
x_train, y_train = tf.constant(features[train_idx]), tf.constant(labels[train_idx])
x_test, y_test = tf.constant(features[test_idx]), tf.constant(labels[test_idx])

# Standardise with statistics of the training set only (no test-set leakage).
mean = tf.reduce_mean(x_train, axis=0)
std = tf.sqrt(tf.reduce_mean(tf.square(x_train - mean), axis=0))
x_train = (x_train - mean) / std
x_test = (x_test - mean) / std
print(f"train: {x_train.shape[0]} examples, test: {x_test.shape[0]}, features: {x_train.shape[1]}")

# --- Model: p(benign | x) = sigmoid(x @ w + b) -------------------------------------
w = tf.Variable(tf.zeros([x_train.shape[1], 1]), name="w")
b = tf.Variable(tf.zeros([1]), name="b")
variables = [w, b]

EPOCHS, BATCH = 20, 32
BASE_LR, L2, CLIP_NORM = 0.5, 1e-3, 1.0
steps_per_epoch = math.ceil(x_train.shape[0] / BATCH)


def logits_of(x):
    return tf.matmul(x, w) + b


def loss_fn(x, y):
    """Mean binary cross-entropy plus an L2 penalty on the weights (a custom loss)."""
    xent = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits_of(x))
    return tf.reduce_mean(xent) + L2 * tf.reduce_sum(tf.square(w))


def accuracy(x, y):
    predicted = tf.cast(logits_of(x) > 0.0, tf.float32)  # sigmoid(z) > 0.5  <=>  z > 0
    return float(tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32)))


def learning_rate(step, total):
    """Cosine decay from BASE_LR to 0 over the whole run (a hand-written schedule)."""
    return BASE_LR * 0.5 * (1.0 + math.cos(math.pi * step / total))


def train_step(x, y, lr):
    with tf.GradientTape() as tape:
        loss = loss_fn(x, y)
    grads = tape.gradient(loss, variables)
    grads, global_norm = tf.clip_by_global_norm(grads, CLIP_NORM)
    for var, grad in zip(variables, grads):
        var.assign_sub(lr * grad)  # plain SGD
    return float(loss), float(global_norm)


# --- The loop ------------------------------------------------------------------------
step, total_steps = 0, EPOCHS * steps_per_epoch
for epoch in range(1, EPOCHS + 1):
    batch_order = tf.random.shuffle(tf.range(x_train.shape[0]))  # reshuffle every epoch
    losses, clipped = [], 0
    for start in range(0, len(batch_order), BATCH):
        idx = batch_order[start : start + BATCH]
        lr = learning_rate(step, total_steps)
        loss, norm = train_step(tf.gather(x_train, idx), tf.gather(y_train, idx), lr)
        losses.append(loss)
        clipped += norm > CLIP_NORM
        step += 1
    print(
        f"epoch {epoch:2d}  lr {lr:.3f}  train loss {np.mean(losses):.4f}  "
        f"test loss {float(loss_fn(x_test, y_test)):.4f}  clipped {clipped}/{steps_per_epoch} steps"
    )

train_acc, test_acc = accuracy(x_train, y_train), accuracy(x_test, y_test)
print(f"\nfinal train accuracy: {train_acc:.4f}")
print(f"final test accuracy: {test_acc:.4f}")

# --- The same kind of loop with Keras pieces: a model, an optimizer, streaming metrics ----
# A traced train step (tf.function), gradients clipped by global norm before the update,
# and keras.metrics objects that accumulate over the epoch (reset at its start).
from rill import keras  # noqa: E402

model = keras.Sequential(
    [keras.Input((30,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
)
optimizer = keras.optimizers.Adam(learning_rate=1e-2)
bce = keras.losses.BinaryCrossentropy(from_logits=True)
train_loss = keras.metrics.Mean(name="loss")
train_acc = keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")  # on logits
test_auc = keras.metrics.AUC(from_logits=True, name="auc")


@tf.function
def keras_train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = bce(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, CLIP_NORM)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    train_loss.update_state(loss)
    train_acc.update_state(y, logits)


print("\nKeras model, custom loop:")
for epoch in range(1, 11):
    for m in (train_loss, train_acc):
        m.reset_state()
    batch_order = tf.random.shuffle(tf.range(x_train.shape[0]))
    for start in range(0, len(batch_order), BATCH):
        idx = batch_order[start : start + BATCH]
        keras_train_step(tf.gather(x_train, idx), tf.gather(y_train, idx))
    if epoch % 5 == 0:
        print(
            f"epoch {epoch:2d}  loss {float(train_loss.result()):.4f}  accuracy {float(train_acc.result()):.4f}"
        )
test_logits = model(x_test, training=False)
test_auc.update_state(y_test, test_logits)
keras_acc = float(
    tf.reduce_mean(tf.cast(tf.equal(tf.cast(test_logits > 0, tf.float32), y_test), tf.float32))
)
print(f"keras loop: test accuracy {keras_acc:.4f}, test AUC {float(test_auc.result()):.4f}")
