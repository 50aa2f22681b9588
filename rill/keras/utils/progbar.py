"""``keras.utils.Progbar``: the progress bar ``fit`` draws, usable on its own loops."""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from rill.keras.utils.io import print_msg


def _fmt_unit(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def _fmt_eta(eta: float) -> str:
    if eta > 3600:
        return f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


def _fmt_value(avg) -> str:
    return f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}"


class Progbar:
    """A progress bar over ``target`` steps (None: unknown). Metrics passed to ``update``
    are averaged over the steps seen, except the ``stateful_metrics`` (shown as given);
    or, with ``stateless_metrics``, only those are averaged."""

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: pass only one of `stateful_metrics` (averaged unless listed) or "
                "`stateless_metrics` (shown as given unless listed); got both."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = (
            None if stateless_metrics is not None else set(stateful_metrics or ())
        )
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        isatty = getattr(sys.stdout, "isatty", None)
        # a terminal (or a notebook) redraws one line; a log file gets one line per update
        self._dynamic_display = bool(isatty and isatty()) or "ipykernel" in sys.modules
        self._dynamic_display = self._dynamic_display or "PYCHARM_HOSTED" in os.environ
        self._seen_so_far = 0
        self._values: dict = {}
        self._values_order: list = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _averaged(self, name) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Move to step ``current``; ``values`` is a list of ``(name, value)`` for the
        last step. ``finalize`` defaults to ``current >= target``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, v in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            if self._averaged(name) and not finalize:
                # weight by the steps since the last update, so the shown value is a
                # per-step mean however often update is called
                steps = max(current - self._seen_so_far, 1)
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += v * steps
                total[1] += steps
            else:
                self._values[name] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            info += _fmt_unit(per_unit, self.unit_name) + self._metrics_text()
            print_msg(info + "\n", line_break=False)
        self._last_update = now

    def _metrics_text(self) -> str:
        out = ""
        for name in self._values_order:
            total, count = self._values[name]
            avg = float(np.mean(total)) / max(1, count)
            out += f" - {name}:" + _fmt_value(avg)
        return out

    def _draw(self, current, now, per_unit, finalize):
        if self.target:
            digits = int(math.log10(self.target)) + 1
            done = int(self.width * current / self.target)
            bar = f"{current:{digits}d}/{self.target} " + "\u2501" * done
            bar += "\u2500" * (self.width - done)
        else:
            bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            info = " " + _fmt_eta(per_unit * (self.target - current))
        else:
            info = f" {now - self._start:.0f}s"
        info += _fmt_unit(per_unit, self.unit_name) + self._metrics_text()
        width = len(bar) + len(info)
        message = ("\r" if self._dynamic_display else "\n") + bar + info
        if self._prev_total_width > width:
            message += " " * (self._prev_total_width - width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = width

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def _step_duration(self, current, now) -> float:
        # the first step (tracing, warm-up) is left out of the estimate once there are more
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per = (now - self._time_after_first_step) / (current - 1)
        else:
            per = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per
