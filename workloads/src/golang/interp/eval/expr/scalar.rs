//! Expressions whose value alone is wanted: a condition, an index, an
//! operand of arithmetic or of a comparison of numbers. [`G::eval`] builds
//! an [`Operand`] (every leaf and the trace source of every pointer word);
//! a number or a bool has one leaf and no pointer word, so these take the
//! value and nothing else. The steps counted and the trace recorded are
//! those of [`G::eval`]: anything that is not a plain number or bool goes
//! through it.

use super::super::*;

impl G<'_> {
    /// The first leaf of [`G::eval`] of `e` (a condition, an index, a
    /// number or bool operand).
    pub(in crate::golang::interp::eval) fn eval_value(&self, fr: &mut Frame, e: &Expr) -> R<Value> {
        if self.sh.info.to_iface[e.id.0 as usize].is_some() {
            return Ok(first_leaf(self.eval(fr, e)?));
        }
        self.step(e.pos)?;
        if let Some(v) = self.const_leaf(e) {
            return Ok(v);
        }
        match &e.kind {
            ExprKind::Ident(_) => {
                if let Some(NameRef::Var(v)) = self.sh.info.refs[e.id.0 as usize] {
                    if let Place::Reg(reg) = self.var_place(fr, v) {
                        if self.is_scalar(self.sh.info.vars[v.0 as usize].ty) {
                            return Ok(fr.regs[reg as usize].clone());
                        }
                    }
                }
            }
            ExprKind::Binary { op, x, y } if self.binary_is_scalar(*op, x, y) => {
                return self.binary_value(fr, e, *op, x, y);
            }
            _ => {}
        }
        Ok(first_leaf(self.eval_inner(fr, e)?))
    }

    /// The value of constant expression `e` (as [`G::eval`] gives it), if
    /// it is one.
    fn const_leaf(&self, e: &Expr) -> Option<Value> {
        let c = self.sh.info.consts[e.id.0 as usize].as_ref()?;
        if matches!(e.kind, ExprKind::Call { .. }) && matches!(c, Const::Str(_)) {
            return None;
        }
        self.sh.const_vals[e.id.0 as usize].clone()
    }

    /// Is a value of `ty` one leaf with no pointer word (a number, a bool)?
    #[inline]
    pub(in crate::golang::interp::eval) fn is_scalar(&self, ty: TypeId) -> bool {
        self.sh.fixed.is_scalar(ty).unwrap_or_else(|| {
            let l = self.layout(ty);
            l.leaves == 1 && l.ptr_words == 0
        })
    }

    /// Is `x op y` computed from its operands' values alone: `&&`, `||`,
    /// or an operator on two numbers or bools?
    #[inline(always)]
    pub(in crate::golang::interp::eval) fn binary_is_scalar(&self, op: BinaryOp, x: &Expr, y: &Expr) -> bool {
        matches!(op, BinaryOp::LogAnd | BinaryOp::LogOr) || (self.is_scalar(self.ty(x)) && self.is_scalar(self.ty(y)))
    }

    /// `x op y` (at `e`) where [`G::binary_is_scalar`] holds: its operands
    /// evaluated in order (the right one of `&&` and `||` only when it
    /// decides), then combined.
    pub(in crate::golang::interp::eval) fn binary_value(
        &self,
        fr: &mut Frame,
        e: &Expr,
        op: BinaryOp,
        x: &Expr,
        y: &Expr,
    ) -> R<Value> {
        if matches!(op, BinaryOp::LogAnd | BinaryOp::LogOr) {
            let a = self.eval_value(fr, x)?.bool();
            if (op == BinaryOp::LogAnd) != a {
                return Ok(Value::Bool(a));
            }
            return Ok(Value::Bool(self.eval_value(fr, y)?.bool()));
        }
        let a = self.eval_value(fr, x)?;
        let b = self.eval_value(fr, y)?;
        if op.is_comparison() {
            return Ok(Value::Bool(self.comparison(op, std::slice::from_ref(&a), std::slice::from_ref(&b))));
        }
        self.arith(e.pos, op, &a, &b, self.ty(x))
    }
}

/// The first leaf of an operand (nil for one with none).
fn first_leaf(mut v: Operand) -> Value {
    v.vals.first_mut().map(std::mem::take).unwrap_or_default()
}
