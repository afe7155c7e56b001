//! Calls: functions, methods, closures, conversions, the builtins and the
//! supported package functions; `go` statements; channels and maps.
//!
//! Channels and maps as blocks, after Go's runtime (`runtime/chan.go`,
//! `runtime/map.go`, Go 1.19):
//! - `make(chan T, n)` is one block of `hchan` (96 bytes) and the buffer
//!   when `T` holds no pointers, else an `hchan` whose first slot points to
//!   a separate buffer block. A value in a buffered channel is in its
//!   buffer slot until received (the slot is cleared then, as `chanrecv`
//!   does). An unbuffered send hands the value over through slots of the
//!   `hchan` (gcwb's stand-in for Go's direct stack-to-stack copy, which a
//!   trace cannot express: one goroutine never names another's frame).
//! - a map is an `hmap` block (48 bytes) whose first slot points to its
//!   bucket array: `2^B` buckets of 8 entries, grown (doubled) when the
//!   count passes 6.5 per bucket, as `hashGrow` does, with every entry's
//!   pointer words copied at once (Go evacuates incrementally). Entries
//!   iterate in insertion order (Go randomizes).

use super::super::*;
use super::static_str;

/// `hchan`'s size in Go 1.19 on 64-bit.
const HCHAN_BYTES: u64 = 96;
/// `hmap`'s size in Go 1.19 on 64-bit.
const HMAP_BYTES: u64 = 48;

impl G<'_> {
    pub(in crate::golang::interp::eval) fn call(
        &self,
        fr: &mut Frame,
        e: &Expr,
        fun: &Expr,
        type_arg: Option<&TypeExpr>,
        args: &[Expr],
        ellipsis: bool,
    ) -> R<Operand> {
        if let Some(NameRef::Type(t)) = self.sh.info.refs[e.id.0 as usize] {
            return self.conversion(fr, e, t, &args[0]);
        }
        let fref = &self.sh.info.refs[fun.id.0 as usize];
        if let Some(NameRef::Builtin(b)) = *fref {
            return self.builtin(fr, e, b, type_arg, args, ellipsis);
        }
        if let Some(NameRef::SyncMethod(_, name)) = fref {
            let ExprKind::Selector { x, .. } = &fun.kind else { unreachable!("a method is a selector") };
            let n = match args.first() {
                Some(a) => self.eval(fr, a)?.vals[0].int(),
                None => 0,
            };
            self.sync_call(fr, e.pos, x, name, n)?;
            return Ok(Operand::default());
        }
        let temp = self.sh.info.temp[e.id.0 as usize];
        let mut argv = ArgVals::new();
        let (f, env) = self.callee(fr, fun, &mut argv)?;
        for a in args {
            argv.push(self.eval(fr, a)?);
        }
        let vals = self.call_func(f, env, &mut argv, temp, e.pos)?;
        self.result_operand(e, vals, temp)
    }

    /// A call's results as an operand: its pointer word is in the temporary.
    fn result_operand(&self, e: &Expr, vals: ResultVals, temp: Option<u32>) -> R<Operand> {
        let t = self.ty(e);
        let words = self.layout(t).ptr_words;
        let srcs = match (temp, words) {
            (_, 0) => SmallVec::new(),
            (Some(t), _) => smallvec![Src::Loc(Loc::local(t))],
            (None, n) => smallvec_nil(n as usize),
        };
        Ok(Operand { vals, srcs })
    }

    /// The function a call expression calls: its id and its closure; a
    /// method's receiver is pushed onto `argv` as its first argument.
    fn callee(&self, fr: &mut Frame, fun: &Expr, argv: &mut ArgVals) -> R<Callee> {
        match &self.sh.info.refs[fun.id.0 as usize] {
            Some(NameRef::Func(f)) => Ok((*f, None)),
            &Some(NameRef::Method { func, recv_ptr, x_ptr }) => {
                let ExprKind::Selector { x, .. } = &fun.kind else { unreachable!("a method is a selector") };
                let recv = match (recv_ptr, x_ptr) {
                    (true, true) | (false, false) => self.eval(fr, x)?,
                    (false, true) => {
                        let p = self.eval(fr, x)?;
                        let (r, via) = self.deref(fun.pos, &p)?;
                        let fi = &self.sh.info.funcs[func.0 as usize];
                        let rt = self.sh.info.vars[fi.recv.expect("a method").0 as usize].ty;
                        self.read_place(fr, &Place::Mem { r, via }, rt)
                    }
                    (true, false) => {
                        let p = self.place(fr, x)?;
                        let Place::Mem { r, via } = p else {
                            return Err(self.unsupported(fun.pos, "a pointer method on a package-level variable"));
                        };
                        let src = match via {
                            Some((loc, s)) => {
                                let k = r.obj.slot_of(r.cell) - s;
                                if k == 0 {
                                    Src::Loc(loc)
                                } else {
                                    Src::Interior(loc, k)
                                }
                            }
                            None => Src::Nil,
                        };
                        Operand::one(Value::Ptr(r), src)
                    }
                };
                argv.push(recv);
                Ok((func, None))
            }
            Some(NameRef::IfaceMethod(name)) => {
                let ExprKind::Selector { x, .. } = &fun.kind else { unreachable!("a method is a selector") };
                let v = self.eval(fr, x)?;
                let Value::Iface(i) = &v.vals[0] else {
                    return Err(self.panic(fun.pos, "runtime error: invalid memory address or nil pointer dereference"));
                };
                let base = match self.sh.types.borrow().get(i.ty) {
                    Type::Pointer(b) => *b,
                    _ => i.ty,
                };
                let Some(f) = self.method_named(base, name) else {
                    return Err(self.unsupported(fun.pos, format_args!("method {name} of this dynamic type")));
                };
                let rt = self.sh.info.vars[self.sh.info.funcs[f.0 as usize].recv.expect("a method").0 as usize].ty;
                let recv = self.unbox(&v, rt);
                argv.push(recv);
                Ok((f, None))
            }
            Some(NameRef::SyncMethod(..)) => Err(self.unsupported(fun.pos, "a sync method as a value")),
            _ => {
                let fv = self.eval(fr, fun)?;
                let Value::Func(c) = &fv.vals[0] else {
                    return Err(self.panic(fun.pos, "runtime error: invalid memory address or nil pointer dereference"));
                };
                let env = c.env.clone().map(|o| (o, fv.srcs.first().cloned().unwrap_or(Src::Nil)));
                Ok((c.func, env))
            }
        }
    }

    pub(in crate::golang::interp::eval) fn method_named(&self, base: TypeId, name: &str) -> Option<FuncId> {
        let tn = self.sh.types.borrow().name(base);
        let full = format!("{tn}.{name}");
        self.sh.info.funcs.iter().position(|f| f.name == full && f.decl.is_some()).map(|i| FuncId(i as u32))
    }

    /// `go f(args)`: the function and arguments are evaluated here, the
    /// `go` event gives the new goroutine its first frame.
    pub(in crate::golang::interp::eval) fn go_stmt(&self, fr: &mut Frame, call: &Expr) -> R<()> {
        let ExprKind::Call { fun, args, .. } = &call.kind else { unreachable!("checked") };
        if matches!(self.sh.info.refs[fun.id.0 as usize], Some(NameRef::Builtin(_)) | Some(NameRef::SyncMethod(..))) {
            return Err(self.unsupported(call.pos, "go with a builtin or a sync method"));
        }
        let mut argv = ArgVals::new();
        let (f, env) = self.callee(fr, fun, &mut argv)?;
        for a in args {
            argv.push(self.eval(fr, a)?);
        }
        let srcs = self.arg_srcs(f, env.as_ref().map(|e| e.1.clone()), &argv);
        let fi = &self.sh.info.funcs[f.0 as usize];
        self.op(TraceOp::Go { g: self.id, locals: fi.tlocals, bytes: fi.frame_bytes, args: srcs });
        let id = self.sh.next_g.get();
        self.sh.next_g.set(id + 1);
        let env = env.map(|e| e.0);
        let pos = call.pos;
        self.sh.spawned.borrow_mut().push((
            id,
            Box::new(move |g: &G| {
                g.temp_base.set(g.sh.info.funcs[f.0 as usize].temp_base);
                let mut frame = g.enter(f, env, &mut argv)?;
                g.run_body(&mut frame, pos)?;
                g.flush_work();
                g.op(TraceOp::Exit { g: g.id });
                Ok(())
            }),
        ));
        Ok(())
    }

    fn conversion(&self, fr: &mut Frame, e: &Expr, t: TypeId, arg: &Expr) -> R<Operand> {
        let at = self.ty(arg);
        let v = self.eval(fr, arg)?;
        let types = self.sh.types.borrow();
        let (to, from) = (types.under(t).clone(), types.under(at).clone());
        let (to_str, from_str) = (types.is_string(t), types.is_string(at));
        let to_basic = types.basic(t);
        drop(types);
        if to_str && !from_str {
            let bytes = match from {
                Type::Slice(_) => self.slice_bytes(&v.vals[0]),
                _ => char::from_u32(v.vals[0].int() as u32).unwrap_or('\u{FFFD}').to_string().into_bytes(),
            };
            return Ok(self.new_string(e, bytes, Cause::Conv, Some((SiteKind::Conv, e.pos))));
        }
        if from_str && matches!(to, Type::Slice(_)) {
            let bytes = v.vals[0].bytes().to_vec();
            let n = bytes.len() as u64;
            let cap = gorules::roundupsize(n.max(1)).max(n);
            let arr = self.bytes_type(cap);
            let dst = self.temp_loc(e);
            let obj = self.alloc(dst.clone(), arr, cap, Cause::Conv, Some((SiteKind::Conv, e.pos)));
            {
                let mut cells = obj.cells.borrow_mut();
                for (i, b) in bytes.iter().enumerate() {
                    cells[i] = Value::Int(*b as i64);
                }
            }
            let sv = SliceVal { base: Ref { obj, cell: 0 }, len: n as usize, cap: cap as usize, elem_leaves: 1 };
            return Ok(Operand::one(Value::Slice(Rc::new(sv)), Src::Loc(dst)));
        }
        if let Some(b) = to_basic {
            if b.is_float() {
                return Ok(Operand::scalar(Value::Float(v.vals[0].float())));
            }
            if b.is_integer() {
                let n = match &v.vals[0] {
                    Value::Float(f) => *f as i64,
                    other => other.int(),
                };
                return Ok(Operand::scalar(Value::Int(self.wrap(t, n))));
            }
        }
        Ok(v)
    }

    fn slice_bytes(&self, v: &Value) -> Vec<u8> {
        let Value::Slice(s) = v else { return Vec::new() };
        let cells = s.base.obj.cells.borrow();
        (0..s.len).map(|i| cells[s.base.cell as usize + i].int() as u8).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn builtin(
        &self,
        fr: &mut Frame,
        e: &Expr,
        b: Builtin,
        type_arg: Option<&TypeExpr>,
        args: &[Expr],
        ellipsis: bool,
    ) -> R<Operand> {
        let _ = type_arg;
        match b {
            Builtin::Len | Builtin::Cap => {
                let v = self.eval(fr, &args[0])?;
                let n = match &v.vals[0] {
                    Value::Str(s) => s.bytes.len(),
                    Value::Slice(s) if b == Builtin::Len => s.len,
                    Value::Slice(s) => s.cap,
                    Value::Map(m) => m.state.borrow().count,
                    Value::Chan(c) if b == Builtin::Len => c.state.borrow().queue.len(),
                    Value::Chan(c) => c.cap,
                    _ => 0,
                };
                Ok(Operand::scalar(Value::Int(n as i64)))
            }
            Builtin::Append => self.append(fr, e, args, ellipsis),
            Builtin::Copy => {
                let d = self.eval(fr, &args[0])?;
                let s = self.eval(fr, &args[1])?;
                let el = self.sh.types.borrow().elem(self.ty(&args[0])).expect("a slice");
                let n = self.copy_elems(fr, &d, &s, el)?;
                Ok(Operand::scalar(Value::Int(n as i64)))
            }
            Builtin::Make => {
                let t = self.ty(e);
                let n: Vec<i64> = args.iter().map(|a| self.eval(fr, a).map(|v| v.vals[0].int())).collect::<R<_>>()?;
                match self.under(t) {
                    Type::Slice(el) => {
                        let len = n[0];
                        let cap = n.get(1).copied().unwrap_or(len);
                        if len < 0 || cap < len {
                            return Err(self.panic(e.pos, "runtime error: makeslice: len out of range"));
                        }
                        Ok(self.make_slice(
                            e,
                            el,
                            len as usize,
                            cap as usize,
                            Cause::MakeSlice,
                            Some((SiteKind::MakeSlice, e.pos)),
                        ))
                    }
                    Type::Map(..) => Ok(self.make_map(
                        e,
                        t,
                        n.first().copied().unwrap_or(0).max(0) as u64,
                        Some((SiteKind::MakeMap, e.pos)),
                    )),
                    Type::Chan(el) => self.make_chan(e, el, n.first().copied().unwrap_or(0).max(0) as usize),
                    _ => Err(self.unsupported(e.pos, "make of this type")),
                }
            }
            Builtin::New => {
                let pt = self.ty(e);
                let t = self.sh.types.borrow().elem(pt).expect("a pointer");
                let size = self.layout(t).size;
                let dst = self.temp_loc(e);
                let obj = self.alloc(dst.clone(), t, size, Cause::New, Some((SiteKind::New, e.pos)));
                let src = if obj.block { Src::Loc(dst) } else { Src::Nil };
                Ok(Operand::one(Value::Ptr(Ref { obj, cell: 0 }), src))
            }
            Builtin::Panic => {
                let v = self.eval(fr, &args[0])?;
                let msg = format_values(&self.sh.types.borrow(), &[(known::ANY, v.vals.to_vec())], None);
                Err(self.err(e.pos, GoErrorKind::Runtime, format!("panic: {msg}")))
            }
            Builtin::Print | Builtin::Println => {
                let mut parts = Vec::new();
                for a in args {
                    let v = self.eval(fr, a)?;
                    parts.push((self.ty(a), v.vals.to_vec()));
                }
                let mut s = format_values(&self.sh.types.borrow(), &parts, None);
                if b == Builtin::Println {
                    s.push('\n');
                }
                self.write_output(&s, true);
                Ok(Operand::default())
            }
            Builtin::Close => {
                let v = self.eval(fr, &args[0])?;
                let Value::Chan(c) = &v.vals[0] else {
                    return Err(self.panic(e.pos, "close of nil channel"));
                };
                let mut st = c.state.borrow_mut();
                if st.closed {
                    return Err(self.panic(e.pos, "close of closed channel"));
                }
                st.closed = true;
                self.wake_chan(&mut st);
                Ok(Operand::default())
            }
            Builtin::Delete => {
                let m = self.eval(fr, &args[0])?;
                let k = self.eval(fr, &args[1])?;
                self.map_delete(&m, &k, self.ty(&args[0]));
                Ok(Operand::default())
            }
            Builtin::FmtPrintln | Builtin::FmtPrint | Builtin::FmtPrintf | Builtin::FmtSprintf | Builtin::FmtSprint => {
                let mut parts = Vec::new();
                let mut format = None;
                for (i, a) in args.iter().enumerate() {
                    let v = self.eval(fr, a)?;
                    if i == 0 && matches!(b, Builtin::FmtPrintf | Builtin::FmtSprintf) {
                        format = Some(String::from_utf8_lossy(v.vals[0].bytes()).into_owned());
                        continue;
                    }
                    parts.push((known::ANY, v.vals.to_vec()));
                }
                let mut s = format_values(&self.sh.types.borrow(), &parts, format.as_deref());
                if b == Builtin::FmtPrintln {
                    s.push('\n');
                }
                if matches!(b, Builtin::FmtSprintf | Builtin::FmtSprint) {
                    return Ok(self.new_string(e, s.into_bytes(), Cause::Other, None));
                }
                self.write_output(&s, false);
                Ok(Operand::default())
            }
            Builtin::StrconvItoa => {
                let n = self.eval(fr, &args[0])?.vals[0].int();
                let s = n.to_string().into_bytes();
                // `strconv.Itoa` returns a constant for 0..99 (`smallsString`).
                if (0..100).contains(&n) {
                    return Ok(Operand::one(static_str(s), Src::Nil));
                }
                Ok(self.new_string(e, s, Cause::Itoa, None))
            }
            Builtin::RuntimeGC => {
                self.op(TraceOp::Gc { g: self.id });
                Ok(Operand::default())
            }
            Builtin::RuntimeReadMemStats => {
                self.eval(fr, &args[0])?;
                Ok(Operand::default())
            }
            Builtin::OsGetenv => {
                self.eval(fr, &args[0])?;
                Ok(Operand::one(Value::Nil, Src::Nil))
            }
            Builtin::OsExit => {
                let code = self.eval(fr, &args[0])?.vals[0].int();
                Err(GoError::new(GoErrorKind::Exit, "", format!("exit status {code}")))
            }
            Builtin::OsStdout | Builtin::OsStderr => {
                Ok(Operand::scalar(Value::Int(i64::from(b == Builtin::OsStderr) + 1)))
            }
            Builtin::FmtFprintf | Builtin::FmtFprintln => {
                let fd = self.eval(fr, &args[0])?.vals[0].int();
                let mut parts = Vec::new();
                let mut format = None;
                for (i, a) in args[1..].iter().enumerate() {
                    let v = self.eval(fr, a)?;
                    if i == 0 && b == Builtin::FmtFprintf {
                        format = Some(String::from_utf8_lossy(v.vals[0].bytes()).into_owned());
                        continue;
                    }
                    parts.push((known::ANY, v.vals.to_vec()));
                }
                let mut s = format_values(&self.sh.types.borrow(), &parts, format.as_deref());
                if b == Builtin::FmtFprintln {
                    s.push('\n');
                }
                self.write_output(&s, fd == 2);
                Ok(Operand::default())
            }
            Builtin::SpanBegin | Builtin::SpanEnd => {
                let v = self.eval(fr, &args[0])?;
                let tag = String::from_utf8_lossy(v.vals[0].bytes()).into_owned();
                let tag = if tag.is_empty() { "request".to_string() } else { tag };
                if b == Builtin::SpanBegin {
                    self.op(TraceOp::Begin { g: self.id, tag });
                } else {
                    self.op(TraceOp::End { g: self.id, tag });
                }
                Ok(Operand::default())
            }
        }
    }

    /// `wg.Add(n)`, `wg.Done()`, `wg.Wait()`, `mu.Lock()`, `mu.Unlock()`.
    fn sync_call(&self, fr: &mut Frame, pos: Pos, x: &Expr, name: &str, n: i64) -> R<()> {
        let xt = self.ty(x);
        let v = if matches!(self.sh.types.borrow().get(xt), Type::Pointer(_)) {
            let p = self.eval(fr, x)?;
            let (r, via) = self.deref(pos, &p)?;
            self.read_place(fr, &Place::Mem { r, via }, known::WAIT_GROUP)
        } else {
            let p = self.place(fr, x)?;
            self.read_place(fr, &p, known::WAIT_GROUP)
        };
        let Value::Sync(s) = &v.vals[0] else {
            return Err(self.err(pos, GoErrorKind::Runtime, "internal error: not a sync value"));
        };
        match name {
            "Add" | "Done" => {
                let d = if name == "Done" { -1 } else { n };
                let c = {
                    let mut c = s.count.borrow_mut();
                    *c += d;
                    *c
                };
                if c < 0 {
                    return Err(self.panic(pos, "sync: negative WaitGroup counter"));
                }
                if c == 0 {
                    self.wake(&s.waiters);
                }
            }
            "Wait" => {
                while *s.count.borrow() > 0 {
                    s.waiters.borrow_mut().push(self.id);
                    self.block_at(pos);
                }
            }
            "Lock" => {
                while *s.count.borrow() > 0 {
                    s.waiters.borrow_mut().push(self.id);
                    self.block_at(pos);
                }
                *s.count.borrow_mut() = 1;
            }
            _ => {
                if *s.count.borrow() == 0 {
                    return Err(self.err(pos, GoErrorKind::Runtime, "fatal error: sync: unlock of unlocked mutex"));
                }
                *s.count.borrow_mut() = 0;
                self.wake(&s.waiters);
            }
        }
        Ok(())
    }

    fn write_output(&self, s: &str, stderr: bool) {
        match self.sh.opts.output {
            Output::Stderr => eprint!("{s}"),
            Output::Capture if !stderr => self.sh.output.borrow_mut().push_str(s),
            _ => {}
        }
    }

    // ---- slices ----

    /// A new slice of `len` elements and room for `cap`, its array
    /// allocated into the expression's temporary.
    fn make_slice(
        &self,
        e: &Expr,
        el: TypeId,
        len: usize,
        cap: usize,
        cause: Cause,
        site: Option<(SiteKind, Pos)>,
    ) -> Operand {
        let arr = self.array_type(cap as u64, el);
        let size = self.layout(arr).size;
        let dst = self.temp_loc(e);
        let obj = self.alloc(dst.clone(), arr, size, cause, site);
        let src = if obj.block { Src::Loc(dst) } else { Src::Nil };
        let sv = SliceVal { base: Ref { obj, cell: 0 }, len, cap, elem_leaves: self.layout(el).leaves };
        Operand::one(Value::Slice(Rc::new(sv)), src)
    }

    fn append(&self, fr: &mut Frame, e: &Expr, args: &[Expr], ellipsis: bool) -> R<Operand> {
        let st = self.ty(e);
        let el = self.sh.types.borrow().elem(st).expect("a slice");
        let s = self.eval(fr, &args[0])?;
        let mut items: Vec<Operand> = Vec::new();
        if ellipsis {
            let other = self.eval(fr, &args[1])?;
            match &other.vals[0] {
                Value::Slice(o) => {
                    let via = self.via_of(&other.vals[0], other.srcs.first());
                    for i in 0..o.len {
                        let r = Ref { obj: o.base.obj.clone(), cell: o.base.cell + (i as u32) * o.elem_leaves };
                        items.push(self.read_place(fr, &Place::Mem { r, via: via.clone() }, el));
                    }
                }
                Value::Str(s) => items.extend(s.bytes.iter().map(|b| Operand::scalar(Value::Int(*b as i64)))),
                _ => {}
            }
        } else {
            for a in &args[1..] {
                items.push(self.eval(fr, a)?);
            }
        }
        let (old, old_src) = match &s.vals[0] {
            Value::Slice(sv) => (Some(sv.clone()), s.srcs.first().cloned()),
            _ => (None, None),
        };
        let len = old.as_ref().map_or(0, |o| o.len);
        let cap = old.as_ref().map_or(0, |o| o.cap);
        let need = len + items.len();
        let ell = self.layout(el);
        let (base, base_src) = if need <= cap {
            let o = old.clone().expect("cap > 0");
            (o.base.clone(), old_src.clone().unwrap_or(Src::Nil))
        } else {
            // `growslice`: a new array (always on the heap), the old elements copied.
            let has_ptr = ell.ptr_words > 0;
            let newcap = gorules::growslice_cap_typed(cap as u64, need as u64, ell.size.max(1), has_ptr) as usize;
            let grown = self.make_slice(e, el, need, newcap.max(need), Cause::Append, None);
            let Value::Slice(g) = &grown.vals[0] else { unreachable!("a slice") };
            if let Some(o) = &old {
                let src_op = Operand {
                    vals: smallvec![Value::Slice(o.clone())],
                    srcs: smallvec![old_src.clone().unwrap_or(Src::Nil)],
                };
                let dst_op = Operand {
                    vals: smallvec![Value::Slice(Rc::new(SliceVal {
                        base: g.base.clone(),
                        len: o.len,
                        cap: newcap,
                        elem_leaves: ell.leaves
                    }))],
                    srcs: grown.srcs.clone(),
                };
                self.copy_elems(fr, &dst_op, &src_op, el)?;
            }
            (g.base.clone(), grown.srcs[0].clone())
        };
        let newcap = if need <= cap { cap } else { (base.obj.layout.leaves / ell.leaves.max(1)) as usize };
        let via = self.via_of(
            &Value::Slice(Rc::new(SliceVal { base: base.clone(), len: need, cap: newcap, elem_leaves: ell.leaves })),
            Some(&base_src),
        );
        for (i, it) in items.into_iter().enumerate() {
            let r = Ref { obj: base.obj.clone(), cell: base.cell + ((len + i) as u32) * ell.leaves };
            self.write_place(fr, &Place::Mem { r, via: via.clone() }, el, it);
        }
        let v = Value::Slice(Rc::new(SliceVal { base, len: need, cap: newcap.max(need), elem_leaves: ell.leaves }));
        Ok(self.in_temp(e, v, base_src))
    }

    /// `copy(dst, src)`: element by element, pointer words in the trace.
    fn copy_elems(&self, fr: &mut Frame, d: &Operand, s: &Operand, el: TypeId) -> R<usize> {
        let Value::Slice(dv) = &d.vals[0] else { return Ok(0) };
        let dvia = self.via_of(&d.vals[0], d.srcs.first());
        match &s.vals[0] {
            Value::Slice(sv) => {
                let svia = self.via_of(&s.vals[0], s.srcs.first());
                let n = dv.len.min(sv.len);
                let ell = self.layout(el).leaves;
                for i in 0..n {
                    let sr = Ref { obj: sv.base.obj.clone(), cell: sv.base.cell + i as u32 * ell };
                    let v = self.read_place(fr, &Place::Mem { r: sr, via: svia.clone() }, el);
                    let dr = Ref { obj: dv.base.obj.clone(), cell: dv.base.cell + i as u32 * ell };
                    self.write_place(fr, &Place::Mem { r: dr, via: dvia.clone() }, el, v);
                }
                Ok(n)
            }
            Value::Str(st) => {
                let n = dv.len.min(st.bytes.len());
                let mut cells = dv.base.obj.cells.borrow_mut();
                for i in 0..n {
                    cells[dv.base.cell as usize + i] = Value::Int(st.bytes[i] as i64);
                }
                Ok(n)
            }
            _ => Ok(0),
        }
    }

    // ---- channels ----

    fn make_chan(&self, e: &Expr, el: TypeId, cap: usize) -> R<Operand> {
        let ell = self.layout(el);
        let dst = self.temp_loc(e);
        let site = Some((SiteKind::MakeChan, e.pos));
        let pad = |g: &Self, bytes: u64| g.sh.types.borrow_mut().intern(Type::Array(bytes / 8, known::UINTPTR));
        let (hchan, buf) = if ell.ptr_words == 0 || cap == 0 {
            // One block: the header, then the buffer (or the handoff slots).
            let fields = if ell.ptr_words > 0 {
                vec![("handoff".to_string(), el, false), ("hdr".to_string(), pad(self, HCHAN_BYTES), false)]
            } else {
                let buf = self.array_type(cap as u64, el);
                vec![("hdr".to_string(), pad(self, HCHAN_BYTES), false), ("buf".to_string(), buf, false)]
            };
            let t = self.sh.types.borrow_mut().intern(Type::Struct(fields.into()));
            let size = self.layout(t).size;
            (self.alloc(dst.clone(), t, size, Cause::MakeChan, site), None)
        } else {
            let arr = self.array_type(cap as u64, el);
            let pa = self.sh.types.borrow_mut().pointer(arr);
            let hdr = pad(self, HCHAN_BYTES - 8);
            let t = self
                .sh
                .types
                .borrow_mut()
                .intern(Type::Struct(vec![("buf".to_string(), pa, false), ("hdr".to_string(), hdr, false)].into()));
            let h = self.alloc(dst.clone(), t, HCHAN_BYTES, Cause::MakeChan, site);
            let size = self.layout(arr).size;
            let b = self.alloc(dst.clone().slot(0), arr, size, Cause::MakeChan, None);
            h.cells.borrow_mut()[0] = Value::Ptr(Ref { obj: b.clone(), cell: 0 });
            (h, Some(b))
        };
        let c = ChanObj {
            elem: el,
            hchan,
            buf,
            cap,
            elem_leaves: ell.leaves,
            elem_words: ell.ptr_words,
            state: RefCell::new(ChanState::default()),
        };
        Ok(Operand::one(Value::Chan(Rc::new(c)), Src::Loc(dst)))
    }

    /// The place of buffer entry `idx` (or of the handoff value) of a channel.
    fn chan_slot(&self, c: &ChanObj, chan_src: Option<&Src>, idx: Option<usize>) -> Place {
        let loc = match chan_src {
            Some(Src::Loc(l)) => Some(l.clone()),
            _ => None,
        };
        match (idx, &c.buf) {
            (Some(i), Some(buf)) => Place::Mem {
                r: Ref { obj: buf.clone(), cell: i as u32 * c.elem_leaves },
                via: loc.map(|l| (l.slot(0), 0)),
            },
            (Some(i), None) => {
                let hdr = c.hchan.layout.field_leaf.get(1).copied().unwrap_or(0);
                Place::Mem {
                    r: Ref { obj: c.hchan.clone(), cell: hdr + i as u32 * c.elem_leaves },
                    via: loc.map(|l| (l, 0)),
                }
            }
            (None, _) => Place::Mem { r: Ref { obj: c.hchan.clone(), cell: 0 }, via: loc.map(|l| (l, 0)) },
        }
    }

    pub(in crate::golang::interp::eval) fn send(&self, pos: Pos, ch: &Operand, v: Operand) -> R<()> {
        let Value::Chan(c) = &ch.vals[0] else {
            self.block_at(pos);
            return Err(self.err(pos, GoErrorKind::Runtime, "send on a nil channel blocks forever"));
        };
        let el_ty = self.chan_elem(ch);
        let mut fr_dummy = Frame::detached();
        if c.cap > 0 {
            loop {
                let st = c.state.borrow();
                if st.closed {
                    return Err(self.panic(pos, "send on closed channel"));
                }
                if st.queue.len() < c.cap {
                    break;
                }
                drop(st);
                c.state.borrow_mut().waiters.push(self.id);
                self.block_at(pos);
            }
            let idx = c.state.borrow().sendx;
            let p = self.chan_slot(c, ch.srcs.first(), Some(idx));
            let vals = v.vals.to_vec();
            self.write_place(&mut fr_dummy, &p, el_ty, v);
            let mut st = c.state.borrow_mut();
            st.queue.push_back((idx, vals));
            st.sendx = (idx + 1) % c.cap;
            self.wake_chan(&mut st);
            return Ok(());
        }
        // Unbuffered: wait for the handoff slots and fill them. A receiver
        // already waiting takes the value and the sender goes on, as Go's
        // `send` to a parked receiver does; else the sender waits for one.
        loop {
            let st = c.state.borrow();
            if st.closed {
                return Err(self.panic(pos, "send on closed channel"));
            }
            if st.handoff.is_none() {
                break;
            }
            drop(st);
            c.state.borrow_mut().waiters.push(self.id);
            self.block_at(pos);
        }
        let p = self.chan_slot(c, ch.srcs.first(), None);
        let vals = v.vals.to_vec();
        if c.elem_words > 0 {
            self.write_place(&mut fr_dummy, &p, el_ty, v);
        }
        let (mine, receiver_waiting) = {
            let mut st = c.state.borrow_mut();
            st.handoff = Some(vals);
            st.sent += 1;
            self.wake_chan(&mut st);
            (st.sent, st.receivers > 0)
        };
        if receiver_waiting {
            return Ok(());
        }
        while c.state.borrow().received < mine {
            c.state.borrow_mut().waiters.push(self.id);
            self.block_at(pos);
        }
        Ok(())
    }

    fn wake_chan(&self, st: &mut ChanState) {
        let w = std::mem::take(&mut st.waiters);
        self.sh.woken.borrow_mut().extend(w);
    }

    fn chan_elem(&self, ch: &Operand) -> TypeId {
        match &ch.vals[0] {
            Value::Chan(c) => c.elem,
            _ => known::INT,
        }
    }

    /// Receives from a channel: the value, read from its buffer slot (or the
    /// handoff slots), and that slot, which the caller clears with
    /// [`G::clear_chan_slot`] once it has copied the value out (Go's
    /// `chanrecv` clears it, so the channel no longer keeps what it pointed
    /// to); `None` when the channel is closed and drained.
    pub(in crate::golang::interp::eval) fn recv(&self, pos: Pos, ch: &Operand) -> R<Option<(Operand, Place)>> {
        let Value::Chan(c) = &ch.vals[0] else {
            self.block_at(pos);
            return Err(self.err(pos, GoErrorKind::Runtime, "receive from a nil channel blocks forever"));
        };
        let el_ty = self.chan_elem(ch);
        let fr_dummy = Frame::detached();
        if c.cap > 0 {
            loop {
                let st = c.state.borrow();
                if !st.queue.is_empty() {
                    break;
                }
                if st.closed {
                    return Ok(None);
                }
                drop(st);
                c.state.borrow_mut().waiters.push(self.id);
                self.block_at(pos);
            }
            let (idx, _) = c.state.borrow_mut().queue.pop_front().expect("not empty");
            let p = self.chan_slot(c, ch.srcs.first(), Some(idx));
            let out = self.read_place(&fr_dummy, &p, el_ty);
            let mut st = c.state.borrow_mut();
            self.wake_chan(&mut st);
            return Ok(Some((out, p)));
        }
        loop {
            let st = c.state.borrow();
            if st.handoff.is_some() {
                break;
            }
            if st.closed {
                return Ok(None);
            }
            drop(st);
            {
                let mut st = c.state.borrow_mut();
                st.waiters.push(self.id);
                st.receivers += 1;
            }
            self.block_at(pos);
            c.state.borrow_mut().receivers -= 1;
        }
        let p = self.chan_slot(c, ch.srcs.first(), None);
        let mut out = self.read_place(&fr_dummy, &p, el_ty);
        let mut st = c.state.borrow_mut();
        out.vals = st.handoff.take().unwrap_or_default().into();
        st.received = st.sent;
        self.wake_chan(&mut st);
        Ok(Some((out, p)))
    }

    /// Clears the pointer words of a channel slot a value was received from.
    pub(in crate::golang::interp::eval) fn clear_chan_slot(&self, slot: &Place, ch: &Operand) {
        let Value::Chan(c) = &ch.vals[0] else { return };
        if c.elem_words == 0 {
            return;
        }
        let el_ty = self.chan_elem(ch);
        let zero = Operand { vals: self.zero(el_ty).into(), srcs: smallvec_nil(c.elem_words as usize) };
        let mut fr_dummy = Frame::detached();
        self.write_place(&mut fr_dummy, slot, el_ty, zero);
    }

    // ---- maps ----

    /// Go's map bucket: 8 tophash bytes, 8 keys, 8 values, the overflow pointer.
    fn bucket_bytes(&self, k: TypeId, v: TypeId) -> u64 {
        8 + 8 * self.layout(k).size + 8 * self.layout(v).size + 8
    }

    pub(in crate::golang::interp::eval) fn make_map(
        &self,
        e: &Expr,
        t: TypeId,
        hint: u64,
        site: Option<(SiteKind, Pos)>,
    ) -> Operand {
        let Type::Map(k, v) = self.under(t) else { unreachable!("a map") };
        let dst = self.temp_loc(e);
        let hdr = self.array_type(4, known::UINTPTR);
        let ht = self.sh.types.borrow_mut().intern(Type::Struct(
            vec![
                ("buckets".to_string(), known::UNTYPED_NIL, false),
                ("oldbuckets".to_string(), known::UNTYPED_NIL, false),
                ("hdr".to_string(), hdr, false),
            ]
            .into(),
        ));
        let hmap = self.alloc(dst.clone(), ht, HMAP_BYTES, Cause::MakeMap, site);
        let m = Rc::new(MapObj { hmap, state: RefCell::new(MapState::default()) });
        if hint > 8 {
            let b = gorules::map_b_for_hint(hint);
            self.grow_map(&m, &Src::Loc(dst.clone()), k, v, b, Cause::MakeMap);
        }
        Operand::one(Value::Map(m), Src::Loc(dst))
    }

    /// A new bucket array of `2^b` buckets, every entry copied into it:
    /// the old array moves to `oldbuckets` (slot 1), the new one is
    /// allocated into `buckets` (slot 0), each entry's pointer words are
    /// copied across, and `oldbuckets` is cleared (Go's `hashGrow`, with the
    /// evacuation done at once).
    fn grow_map(&self, m: &MapObj, msrc: &Src, k: TypeId, v: TypeId, b: u8, cause: Cause) {
        let Src::Loc(mloc) = msrc else { return };
        let room = 8usize << b;
        let entry = self.entry_type(k, v);
        let el = self.layout(entry);
        let arr = self.array_type(room as u64, entry);
        let size = self.bucket_bytes(k, v) << b;
        let old = m.state.borrow().buckets.clone();
        if old.is_some() {
            self.set(mloc.clone().slot(1), Src::Loc(mloc.clone().slot(0)));
        }
        let obj = self.alloc(mloc.clone().slot(0), arr, size, cause, None);
        if let Some(old) = old {
            let n = m.state.borrow().keys.len();
            let mut fr_dummy = Frame::detached();
            for i in 0..n {
                let from = Place::Mem {
                    r: Ref { obj: old.clone(), cell: i as u32 * el.leaves },
                    via: Some((mloc.clone().slot(1), 0)),
                };
                let v = self.read_place(&fr_dummy, &from, entry);
                let to = Place::Mem {
                    r: Ref { obj: obj.clone(), cell: i as u32 * el.leaves },
                    via: Some((mloc.clone().slot(0), 0)),
                };
                self.write_place(&mut fr_dummy, &to, entry, v);
            }
            self.set(mloc.clone().slot(1), Src::Nil);
        }
        let mut st = m.state.borrow_mut();
        st.buckets = Some(obj);
        st.room = room;
        st.b = b;
    }

    pub(in crate::golang::interp::eval) fn entry_type(&self, k: TypeId, v: TypeId) -> TypeId {
        self.sh.types.borrow_mut().intern(Type::Struct(vec![("k".into(), k, false), ("v".into(), v, false)].into()))
    }

    fn map_types(&self, t: TypeId) -> (TypeId, TypeId) {
        match self.under(t) {
            Type::Map(k, v) => (k, v),
            _ => (known::INT, known::INT),
        }
    }

    pub(in crate::golang::interp::eval) fn map_store(
        &self,
        pos: Pos,
        m: &Operand,
        key: Operand,
        val: Operand,
        t: TypeId,
    ) -> R<()> {
        let Value::Map(mo) = &m.vals[0] else {
            return Err(self.panic(pos, "assignment to entry in nil map"));
        };
        let (kt, vt) = self.map_types(t);
        let msrc = m.srcs.first().cloned().unwrap_or(Src::Nil);
        let mk = MapKey::Tuple(key.vals.iter().map(Value::key).collect());
        let existing = mo.state.borrow().index.get(&mk).copied();
        let idx = match existing {
            Some(i) => i,
            None => {
                let (count, room, b) = {
                    let st = mo.state.borrow();
                    (st.count, st.room, st.b)
                };
                if st_needs_bucket(room) {
                    self.grow_map(mo, &msrc, kt, vt, 0, Cause::MakeMap);
                } else if gorules::over_load_factor(count as u64 + 1, b) || count >= room {
                    self.grow_map(mo, &msrc, kt, vt, b + 1, Cause::MapGrow);
                }
                let mut st = mo.state.borrow_mut();
                let i = st.free.pop().unwrap_or(st.keys.len());
                if i == st.keys.len() {
                    st.keys.push(key.vals.to_vec());
                    st.vals.push(val.vals.to_vec());
                } else {
                    st.keys[i] = key.vals.to_vec();
                }
                st.index.insert(mk, i);
                st.count += 1;
                i
            }
        };
        let entry = self.entry_type(kt, vt);
        let el = self.layout(entry);
        let mut kv = key.clone();
        kv.vals.extend(val.vals.iter().cloned());
        kv.srcs.extend(val.srcs.iter().cloned());
        let buckets = mo.state.borrow().buckets.clone().expect("allocated above");
        let via = match &msrc {
            Src::Loc(l) => Some((l.clone().slot(0), 0)),
            _ => None,
        };
        let mut fr_dummy = Frame::detached();
        self.write_place(
            &mut fr_dummy,
            &Place::Mem { r: Ref { obj: buckets, cell: idx as u32 * el.leaves }, via },
            entry,
            kv,
        );
        mo.state.borrow_mut().vals[idx] = val.vals.to_vec();
        Ok(())
    }

    pub(in crate::golang::interp::eval) fn map_load(&self, m: &Operand, key: &Operand, t: TypeId) -> (Operand, bool) {
        let (kt, vt) = self.map_types(t);
        let zero = || {
            let words = self.layout(vt).ptr_words as usize;
            Operand { vals: self.zero(vt).into(), srcs: smallvec_nil(words) }
        };
        let Value::Map(mo) = &m.vals[0] else { return (zero(), false) };
        let mk = MapKey::Tuple(key.vals.iter().map(Value::key).collect());
        let Some(idx) = mo.state.borrow().index.get(&mk).copied() else { return (zero(), false) };
        let entry = self.entry_type(kt, vt);
        let el = self.layout(entry);
        let buckets = mo.state.borrow().buckets.clone().expect("an entry exists");
        let via = match m.srcs.first() {
            Some(Src::Loc(l)) => Some((l.clone().slot(0), 0)),
            _ => None,
        };
        let fr_dummy = Frame::detached();
        let cell = idx as u32 * el.leaves + el.field_leaf[1];
        let out = self.read_place(&fr_dummy, &Place::Mem { r: Ref { obj: buckets, cell }, via }, vt);
        (out, true)
    }

    fn map_delete(&self, m: &Operand, key: &Operand, t: TypeId) {
        let (kt, vt) = self.map_types(t);
        let Value::Map(mo) = &m.vals[0] else { return };
        let mk = MapKey::Tuple(key.vals.iter().map(Value::key).collect());
        let Some(idx) = mo.state.borrow_mut().index.remove(&mk) else { return };
        let entry = self.entry_type(kt, vt);
        let el = self.layout(entry);
        let buckets = mo.state.borrow().buckets.clone().expect("an entry exists");
        let via = match m.srcs.first() {
            Some(Src::Loc(l)) => Some((l.clone().slot(0), 0)),
            _ => None,
        };
        let zero = Operand { vals: self.zero(entry).into(), srcs: smallvec_nil(el.ptr_words as usize) };
        let mut fr_dummy = Frame::detached();
        self.write_place(
            &mut fr_dummy,
            &Place::Mem { r: Ref { obj: buckets, cell: idx as u32 * el.leaves }, via },
            entry,
            zero,
        );
        let mut st = mo.state.borrow_mut();
        st.free.push(idx);
        st.count -= 1;
    }
}

fn st_needs_bucket(room: usize) -> bool {
    room == 0
}
