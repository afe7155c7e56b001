//! Expressions: values, allocations, calls, builtins, channels and maps.

use super::*;

impl G<'_> {
    /// Evaluates `e`, then applies an implicit conversion to an interface
    /// the checker recorded for it.
    pub(super) fn eval(&self, fr: &mut Frame, e: &Expr) -> R<Operand> {
        self.step(e.pos)?;
        if self.sh.info.to_iface[e.id.0 as usize].is_some() {
            let v = self.eval_inner(fr, e)?;
            return Ok(self.box_iface(e, v, self.ty(e)));
        }
        // A tail call: the operand is built where the caller wants it.
        self.eval_inner(fr, e)
    }

    /// `v` (of type `t`, or its constant) converted for a destination of
    /// type `want`: untyped constants already carry their final type.
    pub(super) fn convert_for(&self, _fr: &mut Frame, _e: &Expr, v: Operand, want: TypeId) -> R<Operand> {
        let _ = want;
        Ok(v)
    }

    /// The value of constant expression `e` (its constant is `c`); a
    /// string is a pointer word with no source.
    fn const_value(&self, e: &Expr, c: &Const) -> Operand {
        let v = self.sh.const_vals[e.id.0 as usize].clone().expect("a constant expression has a value");
        match c {
            Const::Str(_) => Operand::one(v, Src::Nil),
            _ => Operand::scalar(v),
        }
    }

    fn eval_inner(&self, fr: &mut Frame, e: &Expr) -> R<Operand> {
        if let Some(c) = &self.sh.info.consts[e.id.0 as usize] {
            if !matches!(e.kind, ExprKind::Call { .. }) || !matches!(c, Const::Str(_)) {
                return Ok(self.const_value(e, c));
            }
        }
        match &e.kind {
            ExprKind::Ident(_) => match &self.sh.info.refs[e.id.0 as usize] {
                Some(NameRef::Var(v)) => Ok(self.read_var(fr, *v)),
                Some(NameRef::Nil) => {
                    let t = self.ty(e);
                    let words = self.layout(t).ptr_words.max(1) as usize;
                    Ok(Operand { vals: smallvec![Value::Nil], srcs: smallvec_nil(words) })
                }
                Some(NameRef::Func(f)) => {
                    Ok(Operand::one(Value::Func(Rc::new(Closure { func: *f, env: None, static_fn: true })), Src::Nil))
                }
                _ => Err(self.unsupported(e.pos, "this name as a value")),
            },
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Char(_) | ExprKind::Str(_) => {
                Err(self.err(e.pos, GoErrorKind::Runtime, "internal error: a literal with no constant value"))
            }
            ExprKind::Composite { elts, .. } => self.composite(fr, e, self.ty(e), elts, None),
            ExprKind::FuncLit { .. } => self.closure(fr, e),
            ExprKind::Selector { x, sel } => match self.sh.info.refs[e.id.0 as usize] {
                Some(NameRef::Field { leaf, .. }) => {
                    if self.addressable(e) {
                        let p = self.place(fr, e)?;
                        return Ok(self.read_place(fr, &p, self.ty(e)));
                    }
                    // A field of a value that is not addressable (a call's
                    // result): its leaves and pointer words, cut out of the value.
                    let v = self.eval(fr, x)?;
                    let xl = self.layout(self.ty(x));
                    let l = self.layout(self.ty(e));
                    let vals = v.vals[leaf as usize..(leaf + l.leaves) as usize].iter().cloned().collect();
                    let first = if l.ptr_words > 0 { xl.ptr_before[leaf as usize] as usize } else { 0 };
                    let srcs = (first..first + l.ptr_words as usize)
                        .map(|k| v.srcs.get(k).cloned().unwrap_or(Src::Nil))
                        .collect();
                    Ok(Operand { vals, srcs })
                }
                _ => Err(self.unsupported(sel.pos, "a method value (a method not called at once)")),
            },
            ExprKind::Index { x, index } => {
                let xt = self.ty(x);
                match self.under(xt) {
                    Type::Map(..) => {
                        let m = self.eval(fr, x)?;
                        let k = self.eval(fr, index)?;
                        let (v, ok) = self.map_load(&m, &k, xt);
                        let mut out = v;
                        // The value is copied out of the map into the temporary.
                        self.move_to_temp(e, &mut out);
                        if let Type::Tuple(_) = self.under(self.ty(e)) {
                            out.vals.push(Value::Bool(ok));
                        }
                        Ok(out)
                    }
                    Type::Basic(_) => {
                        let s = self.eval(fr, x)?;
                        let i = self.eval_value(fr, index)?.int();
                        let b = s.vals[0].bytes();
                        if i < 0 || i as usize >= b.len() {
                            return Err(self.index_panic(e.pos, i, b.len()));
                        }
                        Ok(Operand::scalar(Value::Int(b[i as usize] as i64)))
                    }
                    _ => {
                        let p = self.place(fr, e)?;
                        Ok(self.read_place(fr, &p, self.ty(e)))
                    }
                }
            }
            ExprKind::SliceExpr { x, lo, hi, max } => self.slice_expr(fr, e, x, lo, hi, max),
            ExprKind::TypeAssert { x, .. } => {
                let v = self.eval(fr, x)?;
                let want = self.ty(e);
                let (want, comma_ok) = match self.under(want) {
                    Type::Tuple(ts) => (ts[0], true),
                    _ => (want, false),
                };
                let dyn_ty = match &v.vals[0] {
                    Value::Iface(i) => Some(i.ty),
                    _ => None,
                };
                let want_iface = self.is_iface(want);
                let missing = match dyn_ty {
                    Some(d) if want_iface => self.missing_method(d, want),
                    _ => None,
                };
                let ok = dyn_ty == Some(want) || (dyn_ty.is_some() && want_iface && missing.is_none());
                if !ok && !comma_ok {
                    // Go's `runtime.TypeAssertionError`.
                    let want_name = self.runtime_type_name(want);
                    let msg = match (dyn_ty, missing) {
                        (Some(d), Some(m)) => {
                            format!("{} is not {want_name}: missing method {m}", self.runtime_type_name(d))
                        }
                        (None, _) if want_iface => format!("interface is nil, not {want_name}"),
                        (d, _) => format!(
                            "{} is {}, not {want_name}",
                            self.runtime_type_name(self.ty(x)),
                            d.map_or("nil".to_string(), |d| self.runtime_type_name(d))
                        ),
                    };
                    return Err(self.panic(e.pos, format_args!("interface conversion: {msg}")));
                }
                let mut out = if !ok {
                    let words = self.layout(want).ptr_words as usize;
                    Operand { vals: self.zero(want).into(), srcs: smallvec_nil(words) }
                } else if self.is_iface(want) {
                    v
                } else {
                    self.unbox(&v, want)
                };
                self.move_to_temp(e, &mut out);
                if comma_ok {
                    out.vals.push(Value::Bool(ok));
                }
                Ok(out)
            }
            ExprKind::Call { fun, type_arg, args, ellipsis } => {
                self.call(fr, e, fun, type_arg.as_ref(), args, *ellipsis)
            }
            ExprKind::Deref(_) => {
                let p = self.place(fr, e)?;
                Ok(self.read_place(fr, &p, self.ty(e)))
            }
            ExprKind::AddrOf(x) => {
                if let ExprKind::Composite { elts, .. } = &x.kind {
                    let t = self.ty(x);
                    return self.composite(fr, x, t, elts, Some(e));
                }
                let p = self.place(fr, x)?;
                let Place::Mem { r, via } = p else {
                    return Err(self.err(e.pos, GoErrorKind::Runtime, "internal error: the address of a register"));
                };
                let v = Value::Ptr(r.clone());
                let src = match via {
                    Some((loc, via_slot)) => {
                        let k = r.obj.slot_of(r.cell) - via_slot;
                        if k == 0 {
                            Src::Loc(loc)
                        } else {
                            Src::Interior(loc, k)
                        }
                    }
                    None => Src::Nil,
                };
                Ok(self.in_temp(e, v, src))
            }
            ExprKind::Unary { op, x } => {
                let v = self.eval(fr, x)?;
                let t = self.ty(e);
                match op {
                    UnaryOp::Recv => {
                        let got = match self.recv(e.pos, &v)? {
                            Some((mut out, slot)) => {
                                // Copied out into the temporary: the slot is cleared.
                                self.move_to_temp(e, &mut out);
                                self.clear_chan_slot(&slot, &v);
                                Some(out)
                            }
                            None => None,
                        };
                        let comma_ok = matches!(self.under(t), Type::Tuple(_));
                        let elem = match self.under(self.ty(x)) {
                            Type::Chan(el) => el,
                            _ => unreachable!("checked"),
                        };
                        let ok = got.is_some();
                        let mut out = got.unwrap_or_else(|| {
                            let words = self.layout(elem).ptr_words as usize;
                            Operand { vals: self.zero(elem).into(), srcs: smallvec_nil(words) }
                        });
                        if comma_ok {
                            out.vals.push(Value::Bool(ok));
                        }
                        Ok(out)
                    }
                    UnaryOp::Neg => Ok(Operand::scalar(match &v.vals[0] {
                        Value::Float(f) => Value::Float(-f),
                        other => Value::Int(self.wrap(t, other.int().wrapping_neg())),
                    })),
                    UnaryOp::Plus => Ok(v),
                    UnaryOp::Not => Ok(Operand::scalar(Value::Bool(!v.vals[0].bool()))),
                    UnaryOp::Xor => Ok(Operand::scalar(Value::Int(self.wrap(t, !v.vals[0].int())))),
                }
            }
            ExprKind::Binary { op, x, y } => {
                if self.binary_is_scalar(*op, x, y) {
                    return Ok(Operand::scalar(self.binary_value(fr, e, *op, x, y)?));
                }
                let t = self.ty(x);
                let a = self.eval(fr, x)?;
                let b = self.eval(fr, y)?;
                let v = self.binary_values(fr, e.pos, *op, a, b, t, self.ty(y), Some(e))?;
                Ok(v)
            }
            ExprKind::TypeExpr(_) => Err(self.unsupported(e.pos, "a type used as a value")),
        }
    }

    /// Copies `out`'s pointer words into `e`'s temporaries (when it has
    /// them) and makes them its sources: the value then no longer depends
    /// on where it was read from (a map entry, a channel slot, a box).
    fn move_to_temp(&self, e: &Expr, out: &mut Operand) {
        let Some(t) = self.sh.info.temp[e.id.0 as usize] else { return };
        for (j, s) in out.srcs.iter_mut().enumerate() {
            let dst = Loc::local(t + j as u32);
            self.set(dst.clone(), std::mem::replace(s, Src::Loc(dst)));
        }
    }

    /// Wraps an integer result to the width of `t`.
    fn wrap(&self, t: TypeId, v: i64) -> i64 {
        match self.basic(t) {
            Some(Basic::Int8) => v as i8 as i64,
            Some(Basic::Int16) => v as i16 as i64,
            Some(Basic::Int32) => v as i32 as i64,
            Some(Basic::Uint8) => v as u8 as i64,
            Some(Basic::Uint16) => v as u16 as i64,
            Some(Basic::Uint32) => v as u32 as i64,
            _ => v,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn binary_values(
        &self,
        _fr: &mut Frame,
        pos: Pos,
        op: BinaryOp,
        a: Operand,
        b: Operand,
        t: TypeId,
        _yt: TypeId,
        site: Option<&Expr>,
    ) -> R<Operand> {
        if op.is_comparison() {
            return Ok(Operand::scalar(Value::Bool(self.comparison(op, &a.vals, &b.vals))));
        }
        if self.is_string(t) && op == BinaryOp::Add {
            let mut bytes = a.vals[0].bytes().to_vec();
            bytes.extend_from_slice(b.vals[0].bytes());
            let pos = site.map_or(pos, |s| s.pos);
            return Ok(match site {
                Some(e) => self.new_string(e, bytes, Cause::Concat, Some((SiteKind::Concat, pos))),
                None => Operand::one(static_str(bytes), Src::Nil),
            });
        }
        Ok(Operand::scalar(self.arith(pos, op, &a.vals[0], &b.vals[0], t)?))
    }

    pub(super) fn arith(&self, pos: Pos, op: BinaryOp, a: &Value, b: &Value, t: TypeId) -> R<Value> {
        let basic = self.basic(t);
        if basic.is_some_and(Basic::is_float) {
            let (x, y) = (a.float(), b.float());
            return Ok(Value::Float(match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                _ => return Err(self.unsupported(pos, format_args!("operator {} on floats", op.text()))),
            }));
        }
        let unsigned = basic.is_some_and(Basic::is_unsigned);
        let (x, y) = (a.int(), b.int());
        let v = match op {
            BinaryOp::Add => x.wrapping_add(y),
            BinaryOp::Sub => x.wrapping_sub(y),
            BinaryOp::Mul => x.wrapping_mul(y),
            BinaryOp::Div | BinaryOp::Rem => {
                if y == 0 {
                    return Err(self.panic(pos, "runtime error: integer divide by zero"));
                }
                match (op, unsigned) {
                    (BinaryOp::Div, false) => x.wrapping_div(y),
                    (BinaryOp::Rem, false) => x.wrapping_rem(y),
                    (BinaryOp::Div, true) => ((x as u64) / (y as u64)) as i64,
                    _ => ((x as u64) % (y as u64)) as i64,
                }
            }
            BinaryOp::And => x & y,
            BinaryOp::Or => x | y,
            BinaryOp::Xor => x ^ y,
            BinaryOp::AndNot => x & !y,
            BinaryOp::Shl => {
                if y >= 64 {
                    0
                } else {
                    x.wrapping_shl(y as u32)
                }
            }
            BinaryOp::Shr => match (y >= 64, unsigned) {
                (true, true) => 0,
                (true, false) => x >> 63,
                (false, true) => ((x as u64) >> y) as i64,
                (false, false) => x >> y,
            },
            _ => return Err(self.unsupported(pos, format_args!("operator {}", op.text()))),
        };
        Ok(Value::Int(self.wrap(t, v)))
    }

    /// Comparison `op` of two values (their leaves).
    pub(super) fn comparison(&self, op: BinaryOp, a: &[Value], b: &[Value]) -> bool {
        match op {
            BinaryOp::Eq => self.equal(a, b),
            BinaryOp::Ne => !self.equal(a, b),
            _ => {
                let ord = self.compare(&a[0], &b[0]);
                match op {
                    BinaryOp::Lt => ord.is_lt(),
                    BinaryOp::Le => ord.is_le(),
                    BinaryOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                }
            }
        }
    }

    pub(super) fn equal(&self, a: &[Value], b: &[Value]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (Value::Str(_), _) | (_, Value::Str(_)) => x.bytes() == y.bytes(),
                (Value::Int(_), _) | (Value::Float(_), _) | (Value::Bool(_), _) => x.key() == y.key(),
                _ => x.key() == y.key(),
            })
    }

    fn compare(&self, a: &Value, b: &Value) -> std::cmp::Ordering {
        match (a, b) {
            (Value::Float(_), _) | (_, Value::Float(_)) => {
                a.float().partial_cmp(&b.float()).unwrap_or(std::cmp::Ordering::Equal)
            }
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            _ => a.bytes().cmp(b.bytes()),
        }
    }

    // ---- allocation ----

    /// A string of `bytes` made at `e` (a block of its bytes unless empty,
    /// or short and not escaping where Go uses a stack buffer).
    fn new_string(&self, e: &Expr, bytes: Vec<u8>, cause: Cause, site: Option<(SiteKind, Pos)>) -> Operand {
        if bytes.is_empty() {
            return Operand::one(Value::Nil, Src::Nil);
        }
        let size = bytes.len() as u64;
        let dst = self.temp_loc(e);
        let obj = self.alloc(dst.clone(), self.bytes_type(size), size, cause, site);
        let v = Value::Str(Rc::new(GoStr { bytes, block: Some(obj), offset: 0 }));
        Operand::one(v, Src::Loc(dst))
    }

    /// `[n]byte`, the type of a string's or `[]byte`'s storage.
    fn bytes_type(&self, n: u64) -> TypeId {
        self.sh.types.borrow_mut().intern(Type::Array(n, known::UINT8))
    }

    fn array_type(&self, n: u64, el: TypeId) -> TypeId {
        self.sh.types.borrow_mut().intern(Type::Array(n, el))
    }

    /// A composite literal of type `t`; `addr` is the `&T{...}` around it.
    fn composite(&self, fr: &mut Frame, e: &Expr, t: TypeId, elts: &[Element], addr: Option<&Expr>) -> R<Operand> {
        match self.under(t) {
            Type::Struct(fields) if addr.is_none() => {
                let l = self.layout(t);
                let mut vals: Vec<Value> = self.zero(t);
                let mut srcs = smallvec_nil(l.ptr_words as usize);
                self.struct_elements(fr, &fields, &l, elts, |i, v| vals[i] = v, &mut srcs)?;
                Ok(Operand { vals: vals.into(), srcs })
            }
            Type::Struct(fields) => {
                // `&T{...}`: a new block of T, its fields filled in place
                // (nothing else can reach it yet), then each pointer word
                // stored in the trace, as a store of the whole value would.
                let a = addr.expect("a struct value is handled above");
                let l = self.layout(t);
                let dst = self.temp_loc(a);
                let obj = self.alloc(dst.clone(), t, l.size, Cause::Literal, Some((SiteKind::AddrOfLiteral, a.pos)));
                let mut srcs: SmallVec<[Src; 4]> = SmallVec::from_elem(Src::Nil, l.ptr_words as usize);
                self.struct_elements(fr, &fields, &l, elts, |i, v| obj.cells.borrow_mut()[i] = v, &mut srcs)?;
                let via = if obj.block { Some((dst.clone(), 0)) } else { None };
                let p = Place::Mem { r: Ref { obj, cell: 0 }, via };
                self.set_ptr_words(fr, &p, &l, &mut srcs);
                let Place::Mem { r, .. } = p else { unreachable!("a memory place") };
                Ok(Operand::one(Value::Ptr(r), Src::Loc(dst)))
            }
            Type::Array(_, el) if addr.is_none() => {
                let l = self.layout(t);
                let ell = self.layout(el);
                let mut vals: Vec<Value> = self.zero(t);
                let mut srcs = smallvec_nil(l.ptr_words as usize);
                for (i, x) in elts.iter().enumerate() {
                    let v = self.eval(fr, &x.value)?;
                    for (j, val) in v.vals.into_iter().enumerate() {
                        vals[i * ell.leaves as usize + j] = val;
                    }
                    for (j, s) in v.srcs.into_iter().enumerate() {
                        srcs[i * ell.ptr_words as usize + j] = s;
                    }
                }
                Ok(Operand { vals: vals.into(), srcs })
            }
            Type::Map(..) => {
                let m = self.make_map(e, t, elts.len() as u64, Some((SiteKind::Literal, e.pos)));
                for x in elts {
                    let k = self.eval(fr, x.key.as_ref().expect("checked"))?;
                    let v = self.eval(fr, &x.value)?;
                    self.map_store(e.pos, &m, k, v, t)?;
                }
                Ok(m)
            }
            Type::Slice(el) => {
                let n = elts.len() as u64;
                let arr = self.array_type(n, el);
                let size = self.layout(arr).size;
                let dst = self.temp_loc(e);
                let obj = self.alloc(dst.clone(), arr, size, Cause::Literal, Some((SiteKind::Literal, e.pos)));
                let base = Ref { obj: obj.clone(), cell: 0 };
                let sv = Value::Slice(Rc::new(SliceVal {
                    base: base.clone(),
                    len: n as usize,
                    cap: n as usize,
                    elem_leaves: self.layout(el).leaves,
                }));
                let out = Operand::one(sv, Src::Loc(dst.clone()));
                let via = if obj.block { Some((dst, 0)) } else { None };
                let ell = self.layout(el).leaves;
                for (i, x) in elts.iter().enumerate() {
                    let v = self.eval(fr, &x.value)?;
                    let p = Place::Mem { r: Ref { obj: obj.clone(), cell: i as u32 * ell }, via: via.clone() };
                    self.write_place(fr, &p, el, v);
                }
                Ok(out)
            }
            _ => {
                // `&T{...}`: a new block of T, filled field by field.
                let a = addr.expect("struct and array values are handled above");
                let size = self.layout(t).size;
                let dst = self.temp_loc(a);
                let obj = self.alloc(dst.clone(), t, size, Cause::Literal, Some((SiteKind::AddrOfLiteral, a.pos)));
                let value = self.composite(fr, e, t, elts, None)?;
                let via = if obj.block { Some((dst.clone(), 0)) } else { None };
                let p = Place::Mem { r: Ref { obj: obj.clone(), cell: 0 }, via };
                self.write_place(fr, &p, t, value);
                Ok(Operand::one(Value::Ptr(Ref { obj, cell: 0 }), Src::Loc(dst)))
            }
        }
    }

    /// Evaluates the elements of a literal of struct type (`fields`, laid
    /// out as `l`) in order: each field's leaves go to `put` (leaf index,
    /// value), its pointer words' sources into `srcs` (by pointer word).
    fn struct_elements(
        &self,
        fr: &mut Frame,
        fields: &[(String, TypeId, bool)],
        l: &Layout,
        elts: &[Element],
        mut put: impl FnMut(usize, Value),
        srcs: &mut [Src],
    ) -> R<()> {
        for (i, el) in elts.iter().enumerate() {
            let fi = match &el.key {
                Some(Expr { kind: ExprKind::Ident(n), .. }) => fields.iter().position(|f| &f.0 == n).unwrap_or(i),
                _ => i,
            };
            let v = self.eval(fr, &el.value)?;
            let start = l.field_leaf[fi] as usize;
            for (j, x) in v.vals.into_iter().enumerate() {
                put(start + j, x);
            }
            let pstart = if l.ptr_words > 0 { l.ptr_before[start] as usize } else { 0 };
            for (j, s) in v.srcs.into_iter().enumerate() {
                srcs[pstart + j] = s;
            }
        }
        Ok(())
    }

    /// A func literal: a closure block when it captures variables (Go's
    /// `func literal escapes to heap` / `does not escape`).
    fn closure(&self, fr: &mut Frame, e: &Expr) -> R<Operand> {
        let f = self.sh.info.lit_func[&e.id];
        let caps = self.sh.info.funcs[f.0 as usize].captures.clone();
        if caps.is_empty() {
            return Ok(Operand::one(Value::Func(Rc::new(Closure { func: f, env: None, static_fn: true })), Src::Nil));
        }
        let ct = self.closure_type(f);
        let l = self.layout(ct);
        let dst = self.temp_loc(e);
        let obj = self.alloc(dst.clone(), ct, l.size, Cause::Closure, Some((SiteKind::Closure, e.pos)));
        let via = if obj.block { Some((dst.clone(), 0)) } else { None };
        for (k, c) in caps.iter().enumerate() {
            let var = &self.sh.info.vars[c.var.0 as usize];
            let cell = l.field_leaf[k + 1];
            let p = Place::Mem { r: Ref { obj: obj.clone(), cell }, via: via.clone() };
            let vp = self.var_place(fr, c.var);
            if c.by_ref {
                // The pointer to the variable's block.
                let Place::Mem { r, via: vvia } = vp else { unreachable!("a variable captured by reference is boxed") };
                let src = vvia.map_or(Src::Nil, |(loc, _)| Src::Loc(loc));
                let pt = self.sh.types.borrow_mut().pointer(var.ty);
                self.write_place(fr, &p, pt, Operand::one(Value::Ptr(r), src));
            } else {
                let v = self.read_place(fr, &vp, var.ty);
                self.write_place(fr, &p, var.ty, v);
            }
        }
        Ok(Operand::one(Value::Func(Rc::new(Closure { func: f, env: Some(obj), static_fn: false })), Src::Loc(dst)))
    }

    /// The struct Go builds for a closure: the code pointer, then each
    /// captured variable (by value) or a pointer to it (by reference).
    pub(super) fn closure_type(&self, f: FuncId) -> TypeId {
        if let Some(&t) = self.sh.closure_types.borrow().get(&f) {
            return t;
        }
        let caps = self.sh.info.funcs[f.0 as usize].captures.clone();
        let mut fields = vec![("F".to_string(), known::UINTPTR, false)];
        for c in &caps {
            let vt = self.sh.info.vars[c.var.0 as usize].ty;
            let t = if c.by_ref { self.sh.types.borrow_mut().pointer(vt) } else { vt };
            fields.push((self.sh.info.vars[c.var.0 as usize].name.clone(), t, false));
        }
        let t = self.sh.types.borrow_mut().intern(Type::Struct(fields.into()));
        self.sh.closure_types.borrow_mut().insert(f, t);
        t
    }

    /// A value of concrete type `t` converted to an interface at `e`: boxed
    /// into a block unless pointer-shaped or one Go does not allocate for
    /// (zero-size, a single byte, an integer below 256: `runtime/iface.go`).
    fn box_iface(&self, e: &Expr, v: Operand, t: TypeId) -> Operand {
        let l = self.layout(t);
        let pointer_shaped = matches!(self.under(t), Type::Pointer(_) | Type::Map(..) | Type::Chan(_) | Type::Func(_));
        let tmp = self.sh.info.iface_temp[e.id.0 as usize].map(Loc::local);
        if pointer_shaped {
            let src = v.srcs.first().cloned().unwrap_or(Src::Nil);
            let iv = Value::Iface(Rc::new(IfaceVal { ty: t, vals: v.vals.into_vec(), boxed: None }));
            return match tmp {
                Some(loc) => {
                    self.set(loc.clone(), src);
                    Operand::one(iv, Src::Loc(loc))
                }
                None => Operand::one(iv, src),
            };
        }
        let small_int = l.leaves == 1
            && matches!(&v.vals[0], Value::Int(n) if (0..256).contains(n))
            && self.basic(t).is_some_and(Basic::is_integer);
        let no_alloc = l.size == 0 || l.size == 1 || small_int || self.sh.info.consts[e.id.0 as usize].is_some();
        let Some(loc) = tmp.filter(|_| !no_alloc) else {
            let iv = Value::Iface(Rc::new(IfaceVal { ty: t, vals: v.vals.into_vec(), boxed: None }));
            return Operand::one(iv, Src::Nil);
        };
        let obj = self.alloc(loc.clone(), t, l.size, Cause::Iface, Some((SiteKind::Iface, e.pos)));
        let via = if obj.block { Some((loc.clone(), 0)) } else { None };
        let mut fr_dummy = Frame::detached();
        let vals = v.vals.clone().into_vec();
        self.write_place(&mut fr_dummy, &Place::Mem { r: Ref { obj: obj.clone(), cell: 0 }, via }, t, v);
        let iv = Value::Iface(Rc::new(IfaceVal { ty: t, vals, boxed: Some(obj) }));
        Operand::one(iv, Src::Loc(loc))
    }

    /// The value inside an interface, as a `want`.
    pub(super) fn unbox(&self, v: &Operand, want: TypeId) -> Operand {
        let Value::Iface(i) = &v.vals[0] else {
            let words = self.layout(want).ptr_words as usize;
            return Operand { vals: self.zero(want).into(), srcs: smallvec_nil(words) };
        };
        let l = self.layout(want);
        let vals: SmallVec<[Value; 1]> = i.vals.iter().cloned().collect();
        let srcs: SmallVec<[Src; 1]> = match (&i.boxed, v.srcs.first()) {
            // A pointer-shaped value is the data word itself.
            (None, Some(s)) if l.ptr_words == 1 && l.leaves == 1 => smallvec![s.clone()],
            (Some(b), Some(Src::Loc(loc))) if b.block => {
                let mut out = SmallVec::new();
                for (j, is) in l.is_ptr.iter().enumerate() {
                    if *is {
                        out.push(Src::Loc(loc.clone().slot(l.ptr_before[j])));
                    }
                }
                out
            }
            _ => smallvec_nil(l.ptr_words as usize),
        };
        Operand { vals, srcs }
    }

    fn slice_expr(
        &self,
        fr: &mut Frame,
        e: &Expr,
        x: &Expr,
        lo: &Option<Box<Expr>>,
        hi: &Option<Box<Expr>>,
        max: &Option<Box<Expr>>,
    ) -> R<Operand> {
        let xt = self.ty(x);
        let bound = |g: &Self, fr: &mut Frame, b: &Option<Box<Expr>>| -> R<Option<i64>> {
            Ok(match b {
                Some(b) => Some(g.eval(fr, b)?.vals[0].int()),
                None => None,
            })
        };
        if self.is_string(xt) {
            let s = self.eval(fr, x)?;
            let bytes = s.vals[0].bytes();
            let l = bound(self, fr, lo)?.unwrap_or(0);
            let h = bound(self, fr, hi)?.unwrap_or(bytes.len() as i64);
            if let Some(msg) = slice_bounds_error(l, h, None, bytes.len() as i64, "length") {
                return Err(self.panic(e.pos, msg));
            }
            let sub = bytes[l as usize..h as usize].to_vec();
            if sub.is_empty() {
                return Ok(Operand::one(Value::Nil, Src::Nil));
            }
            let (block, offset) = match &s.vals[0] {
                Value::Str(gs) => (gs.block.clone(), gs.offset + l as u32),
                _ => (None, 0),
            };
            let src = match (&block, s.srcs.first()) {
                (Some(_), Some(Src::Loc(loc))) if l > 0 => Src::Interior(loc.clone(), l as u32 / 8),
                (Some(_), Some(src)) => src.clone(),
                _ => Src::Nil,
            };
            let v = Value::Str(Rc::new(GoStr { bytes: sub, block, offset }));
            return Ok(self.in_temp(e, v, src));
        }
        let unit = if matches!(self.under(xt), Type::Slice(_)) { "capacity" } else { "length" };
        let (base, len, cap, el, base_src) = match self.under(xt) {
            Type::Slice(el) => {
                let s = self.eval(fr, x)?;
                match &s.vals[0] {
                    Value::Slice(sv) => (Some(sv.base.clone()), sv.len, sv.cap, el, s.srcs.first().cloned()),
                    _ => (None, 0, 0, el, None),
                }
            }
            Type::Pointer(p) => {
                let Type::Array(n, el) = self.under(p) else { unreachable!("checked") };
                let ptr = self.eval(fr, x)?;
                let (r, _) = self.deref(e.pos, &ptr)?;
                (Some(r), n as usize, n as usize, el, ptr.srcs.first().cloned())
            }
            Type::Array(n, el) => {
                let p = self.place(fr, x)?;
                let Place::Mem { r, via } = p else {
                    return Err(self.unsupported(e.pos, "slicing a package-level array"));
                };
                let src = via.map(|(loc, s)| {
                    let k = r.obj.slot_of(r.cell) - s;
                    if k == 0 {
                        Src::Loc(loc)
                    } else {
                        Src::Interior(loc, k)
                    }
                });
                (Some(r), n as usize, n as usize, el, src)
            }
            _ => return Err(self.unsupported(e.pos, "slicing this type")),
        };
        let l = bound(self, fr, lo)?.unwrap_or(0);
        let h = bound(self, fr, hi)?.unwrap_or(len as i64);
        let m3 = bound(self, fr, max)?;
        if let Some(msg) = slice_bounds_error(l, h, m3, cap as i64, unit) {
            return Err(self.panic(e.pos, msg));
        }
        let m = m3.unwrap_or(cap as i64);
        let Some(base) = base else {
            return Ok(Operand::one(Value::Nil, Src::Nil));
        };
        let ell = self.layout(el).leaves;
        // Go does not move the pointer past the end: `s[cap:]` keeps the base.
        let off = if (l as usize) < cap { l as u32 } else { 0 };
        let r = Ref { obj: base.obj.clone(), cell: base.cell + off * ell };
        let src = match base_src {
            Some(Src::Loc(loc)) if base.obj.block => {
                let k = r.obj.slot_of(r.cell) - r.obj.slot_of(base.cell);
                if k == 0 {
                    Src::Loc(loc)
                } else {
                    Src::Interior(loc, k)
                }
            }
            Some(Src::Interior(loc, k0)) if base.obj.block => {
                Src::Interior(loc, k0 + r.obj.slot_of(r.cell) - r.obj.slot_of(base.cell))
            }
            _ => Src::Nil,
        };
        let v =
            Value::Slice(Rc::new(SliceVal { base: r, len: (h - l) as usize, cap: (m - l) as usize, elem_leaves: ell }));
        Ok(self.in_temp(e, v, src))
    }
}

/// Go's panic for the bounds `[l:h]` or `[l:h:m]` of a slice expression
/// whose operand's capacity (`unit` "capacity") or length (strings and
/// arrays, `unit` "length") is `cap`, or `None` when they are in range:
/// the checks in Go's order and its wording (`runtime.boundsError`; a
/// negative bound is printed alone).
pub(super) fn slice_bounds_error(l: i64, h: i64, m: Option<i64>, cap: i64, unit: &str) -> Option<String> {
    let what = match m {
        Some(m) if m < 0 => format!("[::{m}]"),
        Some(m) if m > cap => format!("[::{m}] with {unit} {cap}"),
        Some(_) if h < 0 => format!("[:{h}:]"),
        Some(m) if h > m => format!("[:{h}:{m}]"),
        Some(_) if l < 0 => format!("[{l}::]"),
        Some(_) if l > h => format!("[{l}:{h}:]"),
        Some(_) => return None,
        None if h < 0 => format!("[:{h}]"),
        None if h > cap => format!("[:{h}] with {unit} {cap}"),
        None if l < 0 => format!("[{l}:]"),
        None if l > h => format!("[{l}:{h}]"),
        None => return None,
    };
    Some(format!("runtime error: slice bounds out of range {what}"))
}

/// A string whose bytes are not a block (a literal's, Go's read-only data).
fn static_str(bytes: Vec<u8>) -> Value {
    if bytes.is_empty() {
        return Value::Nil;
    }
    Value::Str(Rc::new(GoStr { bytes, block: None, offset: 0 }))
}

mod calls;
mod scalar;
