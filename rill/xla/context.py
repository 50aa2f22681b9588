"""Lowering one graph's ops to JAX: the context every ``Primitive.lowering`` receives.

Values in a lowering are NumPy arrays where the graph fixes them (constants, static
shapes: kernels may read them on the host, as ``int(shape[0])``) and JAX arrays
otherwise. Variables are threaded functionally: ``vars`` maps each variable to its current
value; reads take it, assignments replace it, and control flow carries the assigned ones
through ``lax.cond`` / ``lax.while_loop`` / ``lax.scan``.
"""

from __future__ import annotations

import numpy as np

from rill.core.errors import NotLowerable, OpError

__all__ = ["LoweringContext", "NotLowerable", "assigned_variables"]


def _subgraphs(op):
    return [p for p in op.params.values() if hasattr(p, "graph") and hasattr(p, "arg_idx")]


def assigned_variables(graph, out=None) -> dict:
    """id -> variable for every variable ``graph`` assigns, inside control flow included,
    in program order."""
    out = {} if out is None else out
    for op in graph.ops:
        var = op.params.get("var") if op.prim.name == "AssignVariableOp" else None
        if var is not None:
            out.setdefault(id(var), var)
        for sub in _subgraphs(op):
            assigned_variables(sub.graph, out)
    return out


def _is_const(v) -> bool:
    return isinstance(v, (np.ndarray, np.generic))


def _shape_stand_in(v):
    """A host array of traced ``v``'s shape and dtype that holds no data (zero strides)."""
    return np.broadcast_to(np.zeros((), np.dtype(v.dtype)), v.shape)


_VARIANT = np.dtype(object)  # a variant value's NumPy dtype: here, a TensorList


def _lists():
    """``rill.ops.lowering_lists``: how TensorLists (TensorArray) lower, imported on first
    use (it belongs to the ops, which import this module's users)."""
    from rill.ops import lowering_lists

    return lowering_lists


def _plan_of(sub):
    """The executor's optimised plan of a subgraph (folded, deduplicated, pruned)."""
    if sub._plan is None:
        from rill.tracing.executor import compile_graph

        sub._plan = compile_graph(sub.graph, sub.outputs)
    return sub._plan


class LoweringContext:
    """What a lowering may use: ``jnp``, ``lax``, ``random``, subgraph lowering, variables."""

    def __init__(self, jax, variables: dict):
        self.jax = jax
        self.jnp = jax.numpy
        self.lax = jax.lax
        self.random = jax.random
        self.vars = variables  # id(variable) -> its current value in the computation
        self._known: dict = {}  # id(traced vector) -> (it, its elements known or None)

    # values ----------------------------------------------------------------------------
    def dynamic(self, v, dtype=None):
        """``v`` as a JAX array (of ``dtype``, a NumPy dtype, when given); a list (dtype
        variant: a TensorArray) as a ``LoweredList``, its dense buffer."""
        jnp = self.jnp
        if dtype is not None and dtype == _VARIANT:
            return _lists().as_list(self, v)
        if dtype is None:
            return jnp.asarray(v)
        return jnp.asarray(v, dtype=dtype)

    def note_known(self, v, elements) -> None:
        """Record which elements of traced vector ``v`` are known while lowering (ints, None
        where traced): a vector packed from constants and tensors, as a slice's bounds."""
        self._known[id(v)] = (v, elements)

    def known_elements(self, v):
        """The elements of vector ``v`` known while lowering (None where traced), or None
        when nothing is known of it."""
        if _is_const(v):
            return [int(e) for e in np.asarray(v).reshape(-1)]
        hit = self._known.get(id(v))
        return hit[1] if hit is not None and hit[0] is v else None

    # graphs ----------------------------------------------------------------------------
    def run_plan(self, plan, graph, args) -> list:
        """Lower an executor ``Plan`` of ``graph`` on ``args`` (its placeholders' values)."""
        env = dict(plan.consts)
        for ph, a in zip(graph.inputs, args):
            env[id(ph)] = a
        for node in plan.nodes:
            outs = self.lower_op(node.op, [env[k] for k in node.ins])
            for k, v in zip(node.outs, outs):
                env[k] = v
        return [env[k] for k in plan.out_keys]

    def run(self, sub, args) -> list:
        """Lower a ``SubGraph`` (a branch, a loop body) on its op's inputs ``args``."""
        return self.run_plan(_plan_of(sub), sub.graph, [args[i] for i in sub.arg_idx])

    def lower_op(self, op, ins) -> tuple:
        """The outputs of ``op`` on ``ins``: folded on the host when every input is known
        and the op is pure, else its lowering (or its kernel on ``jax.numpy``)."""
        prim = op.prim
        try:
            if prim.shape_only:  # reads shapes only, which are static in XLA: a constant
                ins = [v if _is_const(v) else _shape_stand_in(v) for v in ins]
            if not prim.stateful and all(_is_const(v) for v in ins):
                r = prim.kernel(*ins, **op.params)
                rs = r if prim.n_out != 1 else (r,)
                return tuple(
                    v if o.dtype.is_variant else np.asarray(v, o.dtype.np)
                    for v, o in zip(rs, op.outputs)
                )
            low = prim.lowering
            if low is not None:
                r = low(self, *ins, **op.params)
            elif prim.host:
                raise NotLowerable(f"{prim.name} runs on the host and has no lowering")
            else:
                r = prim.kernel_for(self.jnp)(*ins, **op.params)
            rs = r if prim.n_out != 1 else (r,)
            return tuple(self._normalise(v, o) for v, o in zip(rs, op.outputs))
        except NotLowerable as e:
            if e.op is None:
                e.op = op
            raise
        except OpError:
            raise  # the op's own error (bad shapes, bad arguments), as the executor's
        except Exception as e:  # noqa: BLE001 - the kernel does not trace under JAX
            raise NotLowerable(f"{type(e).__name__}: {e}", op) from e

    def _normalise(self, v, out):
        dt = out.dtype
        if dt.is_variant:
            return v  # a TensorList (LoweredList or a folded host list), a loop's history
        if dt.is_string:
            raise NotLowerable(f"{out.op.prim.name} produces strings, which XLA has no type for")
        if _is_const(v) or isinstance(v, (bool, int, float, complex)):
            return np.asarray(v, dt.np)
        v = self.jnp.asarray(v)
        return v if v.dtype == dt.np else v.astype(dt.np)

    # variables -------------------------------------------------------------------------
    def read_variable(self, var):
        """The variable's current value in the computation."""
        v = self.vars.get(id(var))
        if v is None:
            raise NotLowerable(f"the variable {var.name!r} is not an input of the computation")
        return v

    def assign_variable(self, var, mode, value):
        """Replace (``assign``), add to or subtract from a variable's value."""
        cur = self.read_variable(var)
        value = self.dynamic(value, cur.dtype)
        if mode == "assign":
            new = value
        elif mode == "assign_add":
            new = cur + value
        elif mode == "assign_sub":
            new = cur - value
        else:
            raise NotLowerable(f"variable update {mode!r}")
        if new.shape != cur.shape:
            raise NotLowerable(
                f"the update of {var.name!r} changes its shape from {cur.shape} to {new.shape}"
            )
        self.vars[id(var)] = new.astype(cur.dtype)
        return np.zeros((0,), np.int32)

    def _in_state(self, ids, values, fn):
        """Run ``fn`` with the variables ``ids`` set to ``values`` (a traced branch or loop
        body); returns (fn's result, their values after it), leaving ``vars`` as it was."""
        saved = dict(self.vars)
        self.vars.update(zip(ids, values))
        try:
            r = fn()
            return r, [self.vars[k] for k in ids]
        finally:
            self.vars.clear()
            self.vars.update(saved)

    def _assigned(self, *subs) -> list:
        out: dict = {}
        for s in subs:
            assigned_variables(s.graph, out)
        return [k for k in out if k in self.vars]

    # control flow ----------------------------------------------------------------------
    def cond(self, then_sub, else_sub, args, out_dtypes):
        """``If``: ``lax.cond`` over the two branches (args[0] is the predicate)."""
        pred = args[0]
        if _is_const(pred):  # known while lowering: only the taken branch is compiled
            return tuple(self.run(then_sub if bool(pred) else else_sub, args))
        ids = self._assigned(then_sub, else_sub)
        dyn = [i for i, a in enumerate(args) if not _is_const(a)]

        def branch(sub):
            def f(operands):
                vals, state = operands
                full = list(args)
                for i, v in zip(dyn, vals):
                    full[i] = v

                def body():
                    outs = self.run(sub, full)
                    return [self.dynamic(o, d) for o, d in zip(outs, out_dtypes)]

                return self._in_state(ids, state, body)

            return f

        p = self.jnp.asarray(pred).astype(bool).reshape(())
        operands = ([args[i] for i in dyn], [self.vars[k] for k in ids])
        fns = [branch(then_sub), branch(else_sub)]
        if any(d == _VARIANT for d in out_dtypes):
            # a list written in one branch only is empty (all zeros) in the other: give it
            # the zeros buffer there, as lax.cond needs the branches' results to agree
            lists = _lists()
            shapes = [self.jax.eval_shape(f, operands) for f in fns]
            target = lists.merge_known(self, *shapes)
            fns = [lambda o, f=f: lists.conform(self, f(o), target, "a cond") for f in fns]
        outs, state = self.lax.cond(p, fns[0], fns[1], operands)
        self.vars.update(zip(ids, state))
        return tuple(outs)

    def while_loop(self, cond_sub, body_sub, n, args, out_dtypes, keep_history, bound=None):
        """``While``: ``lax.while_loop`` carrying the loop variables and assigned variables;
        kept for a tape (``keep_history``), a ``lax.scan`` of its static bound (``bound``,
        the op's ``max_iterations``) with the iterations past the condition masked."""
        if keep_history:
            if bound is None:
                raise NotLowerable(
                    "a while_loop differentiated by a GradientTape keeps every iteration, "
                    "and XLA needs a static bound of its trip count for that: give "
                    "tf.while_loop a `maximum_iterations` known when tracing (a Python int), "
                    "or loop with `for ... in tf.range(n)` (or over a tensor) whose length is "
                    "static, n known when tracing; or use tf.scan/map_fn"
                )
            return self._while_history(cond_sub, body_sub, n, args, out_dtypes, int(bound))
        ids = self._assigned(cond_sub, body_sub)
        caps = list(args[n:])
        init = [self.dynamic(a, d) for a, d in zip(args[:n], out_dtypes)]

        def cond_fn(carry):
            vs, state = carry
            r, _ = self._in_state(ids, state, lambda: self.run(cond_sub, list(vs) + caps)[0])
            return self.jnp.asarray(r).astype(bool).reshape(())

        def body_fn(carry):
            vs, state = carry

            def body():
                outs = self.run(body_sub, list(vs) + caps)
                return [self.dynamic(o, v.dtype) for o, v in zip(outs, vs)]

            return self._conform(self._in_state(ids, state, body), carry, "a while_loop")

        carry = self._settle(body_fn, (init, [self.vars[k] for k in ids]))
        vs, state = self.lax.while_loop(cond_fn, body_fn, carry)
        self.vars.update(zip(ids, state))
        return tuple(vs)

    def _while_history(self, cond_sub, body_sub, n, args, out_dtypes, bound):
        """A ``While`` kept for its gradient: ``bound`` steps of ``lax.scan``, each running
        the body while the condition holds (an ``active`` flag; a step past the end keeps
        the values). Returns the loop variables and the history ``WhileGrad`` reads:
        (each step's loop variables stacked, the count of real iterations, ``bound``)."""
        if self._assigned(cond_sub, body_sub):
            raise NotLowerable(
                "a while_loop that assigns variables, differentiated by a GradientTape, does "
                "not compile yet (the scan that keeps its iterations does not carry "
                "variables); assign the variables outside the loop, or run it without XLA"
            )
        jnp, lax = self.jnp, self.lax
        caps = list(args[n:])
        init = [self.dynamic(a, d) for a, d in zip(args[:n], out_dtypes)]

        def holds(vs):
            r = self.run(cond_sub, list(vs) + caps)[0]
            return jnp.asarray(r).astype(bool).reshape(())

        def body(vs):
            outs = self.run(body_sub, list(vs) + caps)
            new = [self.dynamic(o, v.dtype) for o, v in zip(outs, vs)]
            return self._conform(new, list(vs), "a while_loop")

        def step(carry, _):
            vs, active, count = carry
            go = jnp.logical_and(active, holds(vs))
            new = lax.cond(go, body, list, list(vs))
            return (new, go, count + go.astype(np.int32)), list(vs)

        init = self._settle(body, init)
        carry = (init, jnp.asarray(True), jnp.asarray(0, np.int32))
        (vs, _, count), hist = lax.scan(step, carry, None, length=bound)
        return (*vs, (tuple(hist), count, bound))

    def while_grad(self, history, args, vjp, n, avals):
        """``WhileGrad``: the body's vector-Jacobian product, scanned backwards over the
        ``bound`` recorded steps; a step past the real iterations leaves the gradients."""
        if not (isinstance(history, tuple) and len(history) == 3):
            raise NotLowerable(
                "the history of the while_loop it differentiates was not lowered in this "
                "computation"
            )
        stacked, count, bound = history
        jnp, lax = self.jnp, self.lax
        dvars = [self.dynamic(d, a.dtype.np) for d, a in zip(args[:n], avals[:n])]
        caps = list(args[n:])
        dcaps = [self._zeros_like(c, a.dtype.np) for c, a in zip(caps, avals[n:])]

        def step(carry, xs):
            k, hist = xs

            def run(c):
                dv, dk = c
                r = self.run(vjp, list(hist) + caps + list(dv))
                new_dv = [self.dynamic(v, d.dtype) for v, d in zip(r[:n], dv)]
                new_dk = [self._add(a, self.dynamic(b, a.dtype)) for a, b in zip(dk, r[n:])]
                return self._conform((new_dv, new_dk), c, "a while_loop's gradient")

            return lax.cond(k < count, run, lambda c: c, carry), None

        xs = (jnp.arange(bound, dtype=np.int32), list(stacked))
        carry = self._settle(lambda c, x: step(c, x)[0], (dvars, dcaps), xs)
        (dv, dk), _ = lax.scan(step, carry, xs, length=bound, reverse=True)
        return (*dv, *dk)

    def scan(self, body_sub, nc, ne, args, out_dtypes, reverse, keep_history):
        """``Scan``: ``lax.scan``; with ``keep_history`` also each step's carry, stacked
        (indexed like the elements), as the variant output ``ScanGrad`` reads."""
        ids = self._assigned(body_sub)
        init = [self.dynamic(a, d) for a, d in zip(args[:nc], out_dtypes)]
        elems = [self.dynamic(a) for a in args[nc : nc + ne]]
        caps = list(args[nc + ne :])
        length = elems[0].shape[0] if ne else 0
        y_dtypes = out_dtypes[nc:]

        def step(carry, xs):
            cs, state = carry

            def body():
                outs = self.run(body_sub, list(cs) + list(xs) + caps)
                new = [self.dynamic(o, c.dtype) for o, c in zip(outs[:nc], cs)]
                ys = [self.dynamic(y, d) for y, d in zip(outs[nc:], y_dtypes)]
                return new, ys + (list(cs) if keep_history else [])

            (new, ys), state = self._in_state(ids, state, body)
            return self._conform((new, state), carry, "a scan"), ys

        carry = self._settle(lambda c, x: step(c, x)[0], (init, [self.vars[k] for k in ids]), elems)
        (cs, state), ys = self.lax.scan(step, carry, elems, length=length, reverse=reverse)
        self.vars.update(zip(ids, state))
        ny = len(y_dtypes)
        outs = (*cs, *ys[:ny])
        return (*outs, tuple(ys[ny:])) if keep_history else outs

    def scan_grad(self, history, args, vjp, nc, ne, reverse, avals):
        """``ScanGrad``: the body's vector-Jacobian product, scanned the other way."""
        n_caps = len(avals) - nc - ne
        elems = [self.dynamic(a) for a in args[:ne]]
        caps = list(args[ne : ne + n_caps])
        dys = args[ne + n_caps :]
        dcarry = [self.dynamic(d, a.dtype.np) for d, a in zip(dys[:nc], avals[:nc])]
        dstacked = [self.dynamic(d) for d in dys[nc:]]
        dcaps = [self._zeros_like(c, a.dtype.np) for c, a in zip(caps, avals[nc + ne :])]

        def step(carry, xs):
            dc, dk = carry
            hist, es, dy = xs
            r = self.run(vjp, list(hist) + list(es) + caps + list(dc) + list(dy))
            new_dc = [self.dynamic(v, d.dtype) for v, d in zip(r[:nc], dc)]
            de = [self.dynamic(v, e.dtype) for v, e in zip(r[nc : nc + ne], elems)]
            dk = [self._add(a, self.dynamic(b, a.dtype)) for a, b in zip(dk, r[nc + ne :])]
            return self._conform((new_dc, dk), carry, "a scan's gradient"), de

        length = elems[0].shape[0] if ne else 0
        xs = (list(history), elems, dstacked)
        carry = self._settle(lambda c, x: step(c, x)[0], (dcarry, dcaps), xs)
        (dc, dk), de = self.lax.scan(step, carry, xs, length=length, reverse=not reverse)
        return (*dc, *de, *dk)

    # lists in control flow ---------------------------------------------------------------
    def _has_lists(self, tree) -> bool:
        is_list = _lists().is_list
        return any(map(is_list, self.jax.tree_util.tree_leaves(tree, is_leaf=is_list)))

    def _settle(self, step, carry, xs=None):
        """``carry`` with each list of it that enters the loop empty (its element shape
        unknown, as a TensorArray's before its first write) given the zeros buffer that
        ``step`` (carry, one slice of ``xs`` -> next carry) writes into it: found by tracing
        the step abstractly, as TF's XLA does; lax.while_loop and lax.scan need a carry of
        one structure, and an empty list reads as zeros anyway."""
        lists, jax = _lists(), self.jax
        if not lists.has_unknown(self, carry):
            return carry
        extra = ()
        if xs is not None:  # the shapes of one slice of the scanned values
            slice_of = lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype)  # noqa: E731
            extra = (jax.tree_util.tree_map(slice_of, xs),)
        try:
            out = jax.eval_shape(step, carry, *extra)
        except OpError as e:  # e.g. a read of the empty list before its first write
            detail = e.message.rsplit(" (called from", 1)[0]
            raise NotLowerable(
                f"a TensorArray enters the loop with no element written and no "
                f"element_shape, and tracing the loop's body to learn its element shape "
                f"failed ({detail}); give the TensorArray an element_shape"
            ) from e
        # a list the step leaves empty (one it only reads or passes on) stays empty
        return lists.fill_unknown(self, carry, out)

    def _conform(self, out, carry, why):
        """A loop step's result ``out`` with each list it leaves empty given the buffer of
        zeros that list has in ``carry`` (the step's input), as the loop needs."""
        if not self._has_lists(carry):
            return out
        return _lists().conform(self, out, carry, why)

    def _zeros_like(self, v, dtype):
        """Zeros of ``v``'s shape and ``dtype`` (a gradient's start); an empty list for a
        list."""
        if dtype == _VARIANT:
            return _lists().zeros_like_list(self, v)
        return self.jnp.zeros(np.shape(v), dtype)

    def _add(self, a, b):
        """``a + b``; two lists (gradients) add element by element."""
        lists = _lists()
        if lists.is_list(a):
            return lists.add(self, a, b)
        return a + b

    # random ----------------------------------------------------------------------------
    def host_key(self, generator):
        """A fresh JAX key per execution, drawn from a host NumPy generator (``generator()``
        returns it): stateful random ops keep rill's seeded streams under XLA."""
        jax = self.jax

        def draw():
            return generator().integers(0, 2**32, size=2, dtype=np.uint32)

        return jax.experimental.io_callback(
            draw, jax.ShapeDtypeStruct((2,), np.uint32), ordered=True
        )

    def seed_key(self, seed):
        """The JAX key of a stateless op's seed pair."""
        s = self.jnp.asarray(seed).reshape(-1)[:2]
        return self.lax.convert_element_type(s, np.uint32)
