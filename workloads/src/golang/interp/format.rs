//! `fmt` for the interpreter: `%v` and the common verbs, as Go prints
//! them, so that an interpreted program's output can be compared with a
//! native run's.

use super::value::Value;
use crate::golang::types::{known, Basic, Type, TypeId, TypeTable};

/// Formats `parts` (each a static type and its leaves) as `fmt.Println`
/// (space-separated) when `format` is `None`, else as `fmt.Printf`.
pub(super) fn format_values(types: &TypeTable, parts: &[(TypeId, Vec<Value>)], format: Option<&str>) -> String {
    let Some(f) = format else {
        let items: Vec<String> = parts.iter().map(|(t, v)| value_text(types, *t, v)).collect();
        return items.join(" ");
    };
    let mut out = String::new();
    let mut args = parts.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || n == '.' || n == '-' || n == '+' || n == ' ' || n == '0' {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else { break };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some((t, v)) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let (t, v) = dynamic(types, *t, v);
        let text = match verb {
            'd' => v.first().map_or(String::new(), |x| x.int().to_string()),
            'f' | 'g' | 'e' => {
                let prec = spec.split('.').nth(1).and_then(|p| p.parse::<usize>().ok());
                let x = v.first().map_or(0.0, Value::float);
                match (verb, prec) {
                    ('f', p) => format!("{:.*}", p.unwrap_or(6), x),
                    _ => float_text(x),
                }
            }
            's' | 'v' => value_text(types, t, &v),
            'q' => format!("{:?}", String::from_utf8_lossy(v.first().map_or(&[][..], |x| x.bytes()))),
            't' => value_text(types, known::BOOL, &v),
            'x' => v.first().map_or(String::new(), |x| match x {
                Value::Str(s) => s.bytes.iter().map(|b| format!("{b:02x}")).collect(),
                other => format!("{:x}", other.int()),
            }),
            'c' => {
                v.first().map_or(String::new(), |x| char::from_u32(x.int() as u32).unwrap_or('\u{FFFD}').to_string())
            }
            _ => format!("%!{verb}(unsupported)"),
        };
        let width =
            spec.trim_start_matches(['-', '+', ' ', '0']).split('.').next().and_then(|w| w.parse::<usize>().ok());
        match width {
            Some(w) if text.len() < w => {
                let pad = " ".repeat(w - text.len());
                if spec.starts_with('-') {
                    out.push_str(&text);
                    out.push_str(&pad);
                } else if spec.starts_with('0') {
                    out.push_str(&"0".repeat(w - text.len()));
                    out.push_str(&text);
                } else {
                    out.push_str(&pad);
                    out.push_str(&text);
                }
            }
            _ => out.push_str(&text),
        }
    }
    out
}

/// The dynamic type and value behind an interface value.
fn dynamic(types: &TypeTable, t: TypeId, v: &[Value]) -> (TypeId, Vec<Value>) {
    if types.is_interface(t) {
        if let Some(Value::Iface(i)) = v.first() {
            return (i.ty, i.vals.clone());
        }
    }
    (t, v.to_vec())
}

/// `%v` of a value of type `t`.
fn value_text(types: &TypeTable, t: TypeId, v: &[Value]) -> String {
    let (t, v) = dynamic(types, t, v);
    match types.under(t) {
        Type::Basic(b) if b.is_float() => float_text(v.first().map_or(0.0, Value::float)),
        Type::Basic(Basic::Bool | Basic::UntypedBool) => v.first().is_some_and(Value::bool).to_string(),
        Type::Basic(Basic::String | Basic::UntypedString) => {
            String::from_utf8_lossy(v.first().map_or(&[][..], |x| x.bytes())).into_owned()
        }
        Type::Basic(_) => v.first().map_or(String::new(), |x| x.int().to_string()),
        Type::Interface(_) => "<nil>".to_string(),
        _ => match v.first() {
            Some(Value::Nil) | None => {
                if matches!(types.under(t), Type::Slice(_)) {
                    "[]".to_string()
                } else if matches!(types.under(t), Type::Map(..)) {
                    "map[]".to_string()
                } else {
                    "<nil>".to_string()
                }
            }
            Some(Value::Ptr(r)) => {
                format!("0xc{:09x}", (std::rc::Rc::as_ptr(&r.obj) as usize & 0xfffffffff) + r.cell as usize * 8)
            }
            Some(_) => format!("{{{}}}", v.iter().map(leaf_text).collect::<Vec<_>>().join(" ")),
        },
    }
}

fn leaf_text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Float(f) => float_text(*f),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => String::from_utf8_lossy(&s.bytes).into_owned(),
        Value::Nil => "<nil>".to_string(),
        _ => "0xc000000000".to_string(),
    }
}

/// A float as Go's `%v` prints it (`strconv.FormatFloat(f, 'g', -1, 64)`:
/// the shortest digits, an exponent when it is below -4 or at least 21).
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').expect("an exponent");
    let exp: i32 = exp.parse().expect("a number");
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::float_text;

    #[test]
    fn floats_print_as_go_prints_them() {
        assert_eq!(float_text(3.0), "3");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(1e21), "1e+21");
        assert_eq!(float_text(123456.5), "123456.5");
        assert_eq!(float_text(0.00001), "1e-05");
    }
}
