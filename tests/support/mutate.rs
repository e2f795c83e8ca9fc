//! Structural mutations of alarm payloads and world files for `tests/fuzz.rs`.
//!
//! A case is a base (a scenario's event and world, or a sample event with a small or a
//! scenario world) plus short lists of [`Op`]s. An op names its node by an index taken modulo
//! the number of nodes it can apply to, in pre-order, so shrinking an index towards 0 keeps
//! the op meaningful; an op with nowhere to apply does nothing.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Extreme JSON numbers.
pub const NUMBERS: [&str; 9] = [
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "9223372036854775807",
    "18446744073709551615",
    "-9223372036854775808",
    "-1",
    "0",
    "1e-300",
];

/// Strings that parse as non-finite or odd floats.
pub const NUMERIC_STRINGS: [&str; 6] = ["NaN", "inf", "-inf", "Infinity", "1e999", "-0"];

pub const CONTROLS: [&str; 6] = ["\u{1b}[31m", "\n", "\r", "\u{0}", "\u{85}", "\u{202e}"];

pub const MARKUP: [&str; 8] = [
    "<!channel>",
    "<!here>",
    "<@U012AB3CD>",
    "<#C012AB3CD>",
    "<https://evil.example|click>",
    "&",
    "<",
    ">",
];

pub const FAR_TIMES: [&str; 6] = [
    "-262143-01-01T00:00:00Z",
    "+262143-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "1970-01-01T00:00:00Z",
    "-262143-01-01T00:00:00.000+0000",
];

pub const BAD_ARNS: [&str; 10] = [
    "arn:",
    "arn:aws",
    "arn:aws:elasticloadbalancing:::",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web:x:y",
    "arn:aws:elasticloadbalancing:ü-éast-1:123456789012:loadbalancer/app/wéb/🔥",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/é",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app//",
    "arn:aws:acm:us-east-1:123456789012:certificate/",
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:",
];

/// Units a long string repeats (none spells a number word: see the numbers-in-words check).
pub const LONG_UNITS: [&str; 7] = ["x", "é", "🔥", "a b ", "e\u{301}", "&<>", "ab\u{200b}"];

/// Recorded when a retype turned text into a number, so a numeric string may later land
/// where the input had text.
const TEXT_MADE_NUMBER: &str = "\u{0}text made a number";

/// Stands for a 10,000-deep array until the document is serialized (a `Value` that deep
/// would overflow the stack when serialized or dropped).
const NEST_MARK: &str = "\u{0}fivexx-fuzz-nest\u{0}";
pub const NEST_DEPTH: usize = 10_000;
/// `[[[[...` prepended to a whole document.
pub const PREFIX_DEPTH: usize = 200;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

#[derive(Debug, Clone, Copy)]
pub enum Recase {
    Upper,
    Lower,
    /// Flips the case of the first letter (`alarmName` <-> `AlarmName`).
    FlipFirst,
}

#[derive(Debug, Clone)]
pub enum Op {
    /// Removes one entry of a non-empty object or array.
    Drop { node: usize, entry: usize },
    /// Re-cases one key, keeping the original beside it when `both`.
    Recase {
        node: usize,
        entry: usize,
        style: Recase,
        both: bool,
    },
    /// Replaces any node by a value of another type.
    Retype { node: usize, to: Kind },
    /// Replaces a number (or a numeric string) by an extreme number.
    Number { node: usize, which: usize },
    /// Replaces a number or numeric string by `"NaN"`, `"inf"`, ... (never under an id-like key).
    NumericString { node: usize, which: usize },
    /// Replaces a string by a long one.
    Long {
        node: usize,
        len: usize,
        unit: usize,
    },
    /// Inserts a control or bidi character into a string.
    Control {
        node: usize,
        which: usize,
        at: usize,
    },
    /// Inserts Slack markup into a string.
    Markup {
        node: usize,
        which: usize,
        at: usize,
    },
    /// Puts Slack markup wherever a region goes: `region` fields and every ARN's region part,
    /// in keys and values, inside embedded JSON (the SNS message) too.
    RegionMarkup { which: usize },
    /// Replaces a node by an array nested 10,000 deep.
    Nest { node: usize },
    /// Replaces a timestamp-looking string by a far one.
    FarTime { node: usize, which: usize },
    /// Replaces an ARN by a malformed one, or cuts it at a character.
    BadArn {
        node: usize,
        which: usize,
        at: usize,
    },
    /// Shuffles an array.
    Shuffle { node: usize, seed: u64 },
    /// Repeats one element of an array.
    Duplicate {
        node: usize,
        entry: usize,
        times: usize,
    },
    /// Sets the world's `Now` to a far time.
    Now { which: usize },
}

#[derive(Debug, Clone, Copy)]
pub enum TextOp {
    /// Cuts the event (or world) text at a byte (moved back to a character boundary).
    Truncate { world: bool, at: usize },
    /// Prepends `[[[[...` 200 deep.
    Prefix { world: bool },
}

/// One fuzz case, before it is applied to its base.
#[derive(Debug, Clone)]
pub struct Case {
    pub base: usize,
    /// For a sample event: 0 pairs it with the small world, n with scenario world n - 1.
    pub world: usize,
    /// Applied to the alarm inside the SNS envelope's `Message` (else to the event itself).
    pub inner: Vec<Op>,
    pub event: Vec<Op>,
    pub world_ops: Vec<Op>,
    pub text: Option<TextOp>,
}

/// How big the mutations may get.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub long_string: usize,
    pub duplicates: usize,
    /// Serialized bytes a duplication may add.
    pub duplicate_bytes: usize,
}

impl Limits {
    pub const SHORT: Limits = Limits {
        long_string: 64 * 1024,
        duplicates: 1_000,
        duplicate_bytes: 2 << 20,
    };
    pub const LONG: Limits = Limits {
        long_string: 1 << 20,
        duplicates: 10_000,
        duplicate_bytes: 16 << 20,
    };
}

const NODE: std::ops::Range<usize> = 0..1_000_000;

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Null),
        Just(Kind::Bool),
        Just(Kind::Number),
        Just(Kind::String),
        Just(Kind::Array),
        Just(Kind::Object),
    ]
}

fn recase() -> impl Strategy<Value = Recase> {
    prop_oneof![
        Just(Recase::Upper),
        Just(Recase::Lower),
        Just(Recase::FlipFirst)
    ]
}

pub fn op(limits: Limits, world: bool) -> BoxedStrategy<Op> {
    let ops = prop_oneof![
        3 => (NODE, NODE).prop_map(|(node, entry)| Op::Drop { node, entry }),
        2 => (NODE, NODE, recase(), any::<bool>())
            .prop_map(|(node, entry, style, both)| Op::Recase { node, entry, style, both }),
        2 => (NODE, kind()).prop_map(|(node, to)| Op::Retype { node, to }),
        3 => (NODE, 0..NUMBERS.len()).prop_map(|(node, which)| Op::Number { node, which }),
        2 => (NODE, 0..NUMERIC_STRINGS.len())
            .prop_map(|(node, which)| Op::NumericString { node, which }),
        1 => (NODE, prop_oneof![1usize..512, 512..=limits.long_string], 0..LONG_UNITS.len())
            .prop_map(|(node, len, unit)| Op::Long { node, len, unit }),
        2 => (NODE, 0..CONTROLS.len(), NODE)
            .prop_map(|(node, which, at)| Op::Control { node, which, at }),
        2 => (NODE, 0..MARKUP.len(), NODE).prop_map(|(node, which, at)| Op::Markup { node, which, at }),
        1 => (0..MARKUP.len()).prop_map(|which| Op::RegionMarkup { which }),
        1 => NODE.prop_map(|node| Op::Nest { node }),
        2 => (NODE, 0..FAR_TIMES.len()).prop_map(|(node, which)| Op::FarTime { node, which }),
        2 => (NODE, 0..=BAD_ARNS.len(), NODE)
            .prop_map(|(node, which, at)| Op::BadArn { node, which, at }),
        1 => (NODE, any::<u64>()).prop_map(|(node, seed)| Op::Shuffle { node, seed }),
        2 => (NODE, NODE, prop_oneof![1usize..8, 8..=limits.duplicates])
            .prop_map(|(node, entry, times)| Op::Duplicate { node, entry, times }),
    ];
    if world {
        prop_oneof![
            12 => ops,
            1 => (0..FAR_TIMES.len()).prop_map(|which| Op::Now { which }),
        ]
        .boxed()
    } else {
        ops.boxed()
    }
}

fn text_op() -> impl Strategy<Value = Option<TextOp>> {
    prop_oneof![
        40 => Just(None),
        4 => (any::<bool>(), NODE).prop_map(|(world, at)| Some(TextOp::Truncate { world, at })),
        1 => any::<bool>().prop_map(|world| Some(TextOp::Prefix { world })),
    ]
}

/// Cases over `events` sample events (bases `0..events`) and `scenarios` scenario pairs
/// (bases `events..events + scenarios`).
pub fn case(scenarios: usize, events: usize, limits: Limits) -> impl Strategy<Value = Case> {
    (
        0..scenarios + events,
        0..=scenarios,
        prop_oneof![Just(Vec::new()), vec(op(limits, false), 1..=3)],
        vec(op(limits, false), 0..=4),
        prop_oneof![Just(Vec::new()), vec(op(limits, true), 1..=3)],
        text_op(),
    )
        .prop_map(|(base, world, inner, event, world_ops, text)| Case {
            base,
            world,
            inner,
            event,
            world_ops,
            text,
        })
}

/// A case applied: the texts to triage, and the free text its mutations injected (a number
/// word rendered from there is no defect).
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub event: String,
    pub world: String,
    pub free_text: Vec<String>,
}

/// Serializes a document, expanding the nesting marks.
pub fn to_text(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    let mark = serde_json::to_string(NEST_MARK).unwrap_or_default();
    if text.contains(&mark) {
        let deep = "[".repeat(NEST_DEPTH) + &"]".repeat(NEST_DEPTH);
        text.replace(&mark, &deep)
    } else {
        text
    }
}

/// Applies `ops` to a document, in order.
pub fn apply_all(doc: &mut Value, ops: &[Op], limits: Limits, free: &mut Vec<String>) {
    for op in ops {
        apply(doc, op, limits, free);
    }
}

/// Applies `ops` to the alarm inside an SNS envelope (`Records[0].Sns.Message`) and writes it
/// back as a string; without one, to the event itself.
pub fn apply_inner(event: &mut Value, ops: &[Op], limits: Limits, free: &mut Vec<String>) {
    if ops.is_empty() {
        return;
    }
    let inner = event
        .pointer("/Records/0/Sns/Message")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok());
    match inner {
        Some(mut alarm) => {
            apply_all(&mut alarm, ops, limits, free);
            if let Some(m) = event.pointer_mut("/Records/0/Sns/Message") {
                *m = Value::String(to_text(&alarm));
            }
        }
        None => apply_all(event, ops, limits, free),
    }
}

/// Keys under which a numeric string stays what it is (ids and names are text).
fn id_like(key: Option<&str>) -> bool {
    let Some(k) = key else { return false };
    ["Id", "Name", "Arn", "Account", "Key"]
        .iter()
        .any(|w| k.contains(w))
        || matches!(
            k.to_ascii_lowercase().as_str(),
            "id" | "name" | "arn" | "account" | "key"
        )
}

fn numeric(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    }
}

fn timestamp_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (s.contains('T') || s.contains(' '))
}

type Pred = dyn Fn(&Value, Option<&str>) -> bool;

fn count(v: &Value, key: Option<&str>, pred: &Pred) -> usize {
    let here = usize::from(pred(v, key));
    here + match v {
        Value::Object(m) => m.iter().map(|(k, c)| count(c, Some(k), pred)).sum(),
        Value::Array(a) => a.iter().map(|c| count(c, key, pred)).sum(),
        _ => 0,
    }
}

/// The `n`-th node (pre-order) that `pred` accepts; array elements carry their array's key.
fn nth<'a>(
    v: &'a mut Value,
    key: Option<&str>,
    pred: &Pred,
    n: &mut usize,
) -> Option<&'a mut Value> {
    if pred(v, key) {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
    }
    match v {
        Value::Object(m) => {
            for (k, c) in m.iter_mut() {
                if let Some(found) = nth(c, Some(k), pred, n) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(a) => {
            for c in a.iter_mut() {
                if let Some(found) = nth(c, key, pred, n) {
                    return Some(found);
                }
            }
            None
        }
        _ => None,
    }
}

/// The node an op with index `node` lands on, among those `pred` accepts.
fn pick<'a>(doc: &'a mut Value, node: usize, pred: &Pred) -> Option<&'a mut Value> {
    let total = count(doc, None, pred);
    if total == 0 {
        return None;
    }
    let mut n = node % total;
    nth(doc, None, pred, &mut n)
}

fn insert_at(s: &str, at: usize, piece: &str) -> String {
    let chars = s.chars().count();
    let byte = s
        .char_indices()
        .nth(at % (chars + 1))
        .map_or(s.len(), |(i, _)| i);
    let mut out = String::with_capacity(s.len() + piece.len());
    out.push_str(&s[..byte]);
    out.push_str(piece);
    out.push_str(&s[byte..]);
    out
}

fn recased(key: &str, style: Recase) -> String {
    match style {
        Recase::Upper => key.to_uppercase(),
        Recase::Lower => key.to_lowercase(),
        Recase::FlipFirst => {
            let mut c = key.chars();
            match c.next() {
                Some(f) if f.is_uppercase() => f.to_lowercase().chain(c).collect(),
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

fn retyped(v: &Value, to: Kind) -> Value {
    match to {
        Kind::Null => Value::Null,
        Kind::Bool => Value::Bool(!v.as_bool().unwrap_or(false)),
        Kind::Number => match v {
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map_or(Value::from(1), Value::Number),
            Value::Bool(b) => Value::from(u8::from(*b)),
            _ => Value::from(0),
        },
        Kind::String => match v {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        Kind::Array => Value::Array(vec![v.clone()]),
        Kind::Object => {
            let mut m = Map::new();
            m.insert("value".into(), v.clone());
            Value::Object(m)
        }
    }
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A small deterministic generator for shuffles (the op's seed shrinks like any number).
fn shuffle(a: &mut [Value], seed: u64) {
    let mut x = seed | 1;
    for i in (1..a.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = usize::try_from(x % (i as u64 + 1)).unwrap_or(0);
        a.swap(i, j);
    }
}

/// The ARN with its region (the fourth field) replaced, if it is an ARN with one.
fn arn_with_region(s: &str, region: &str) -> Option<String> {
    if !s.starts_with("arn:") {
        return None;
    }
    let parts: Vec<&str> = s.splitn(5, ':').collect();
    if parts.len() < 5 {
        return None;
    }
    Some(format!(
        "{}:{}:{}:{region}:{}",
        parts[0], parts[1], parts[2], parts[4]
    ))
}

fn region_markup(v: &mut Value, key: Option<&str>, markup: &str) {
    match v {
        Value::String(s) => {
            if key.is_some_and(|k| k.eq_ignore_ascii_case("region")) {
                *s = markup.to_owned();
            } else if let Some(a) = arn_with_region(s, markup) {
                *s = a;
            } else if s.starts_with('{')
                && let Ok(mut inner) = serde_json::from_str::<Value>(s)
            {
                region_markup(&mut inner, None, markup);
                *s = to_text(&inner);
            }
        }
        Value::Object(m) => {
            let entries = std::mem::take(m);
            for (k, mut c) in entries {
                region_markup(&mut c, Some(&k), markup);
                let k = arn_with_region(&k, markup).unwrap_or(k);
                m.insert(k, c);
            }
        }
        Value::Array(a) => {
            for c in a {
                region_markup(c, key, markup);
            }
        }
        _ => {}
    }
}

fn apply(doc: &mut Value, op: &Op, limits: Limits, free: &mut Vec<String>) {
    match *op {
        Op::Drop { node, entry } => {
            let nonempty = |v: &Value, _: Option<&str>| match v {
                Value::Object(m) => !m.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => false,
            };
            match pick(doc, node, &nonempty) {
                Some(Value::Object(m)) => {
                    let k = m.keys().nth(entry % m.len()).cloned().unwrap_or_default();
                    m.remove(&k);
                }
                Some(Value::Array(a)) => {
                    let i = entry % a.len();
                    a.remove(i);
                }
                _ => {}
            }
        }
        Op::Recase {
            node,
            entry,
            style,
            both,
        } => {
            let objects = |v: &Value, _: Option<&str>| v.as_object().is_some_and(|m| !m.is_empty());
            if let Some(Value::Object(m)) = pick(doc, node, &objects) {
                let k = m.keys().nth(entry % m.len()).cloned().unwrap_or_default();
                let value = if both {
                    m.get(&k).cloned()
                } else {
                    m.remove(&k)
                };
                if let Some(value) = value {
                    m.insert(recased(&k, style), value);
                }
            }
        }
        Op::Retype { node, to } => {
            if let Some(v) = pick(doc, node, &|_, _| true) {
                if matches!(to, Kind::Number) && !numeric(v) {
                    // Text made a number: a later numeric string there replaces text.
                    free.push(TEXT_MADE_NUMBER.to_owned());
                }
                *v = retyped(v, to);
            }
        }
        Op::Number { node, which } => {
            let pred = |v: &Value, k: Option<&str>| {
                v.is_number() || (v.is_string() && numeric(v) && !id_like(k))
            };
            if let Some(v) = pick(doc, node, &pred) {
                *v = number(NUMBERS[which % NUMBERS.len()]);
            }
        }
        Op::NumericString { node, which } => {
            let pred = |v: &Value, k: Option<&str>| numeric(v) && !id_like(k);
            if let Some(v) = pick(doc, node, &pred) {
                let token = NUMERIC_STRINGS[which % NUMERIC_STRINGS.len()];
                if free.iter().any(|t| t == TEXT_MADE_NUMBER) {
                    // It may sit where text was (an alarm state retyped to a number): then it
                    // is echoed as text, which is no number rendered in words.
                    free.push(token.to_owned());
                }
                *v = Value::String(token.into());
            }
        }
        Op::Long { node, len, unit } => {
            if let Some(v) = pick(doc, node, &|v, _| v.is_string()) {
                let unit = LONG_UNITS[unit % LONG_UNITS.len()];
                let s = unit.repeat(len.min(limits.long_string) / unit.len() + 1);
                free.push(s.clone());
                *v = Value::String(s);
            }
        }
        Op::Control { node, which, at } => {
            if let Some(Value::String(s)) = pick(doc, node, &|v, _| v.is_string()) {
                let piece = CONTROLS[which % CONTROLS.len()];
                *s = insert_at(s, at, piece);
                free.push(s.clone());
            }
        }
        Op::Markup { node, which, at } => {
            if let Some(Value::String(s)) = pick(doc, node, &|v, _| v.is_string()) {
                let piece = MARKUP[which % MARKUP.len()];
                *s = insert_at(s, at, piece);
                free.push(s.clone());
            }
        }
        Op::RegionMarkup { which } => {
            let markup = MARKUP[which % MARKUP.len()];
            free.push(markup.to_owned());
            region_markup(doc, None, markup);
        }
        Op::Nest { node } => {
            if let Some(v) = pick(doc, node, &|_, _| true) {
                *v = Value::String(NEST_MARK.into());
            }
        }
        Op::FarTime { node, which } => {
            let pred = |v: &Value, _: Option<&str>| v.as_str().is_some_and(timestamp_like);
            if let Some(v) = pick(doc, node, &pred) {
                *v = Value::String(FAR_TIMES[which % FAR_TIMES.len()].into());
            }
        }
        Op::BadArn { node, which, at } => {
            let pred =
                |v: &Value, _: Option<&str>| v.as_str().is_some_and(|s| s.starts_with("arn:"));
            if let Some(Value::String(s)) = pick(doc, node, &pred) {
                *s = match BAD_ARNS.get(which) {
                    Some(bad) => (*bad).to_owned(),
                    // Past the list: the ARN cut at a character.
                    None => s.chars().take(at % (s.chars().count() + 1)).collect(),
                };
                free.push(s.clone());
            }
        }
        Op::Shuffle { node, seed } => {
            let pred = |v: &Value, _: Option<&str>| v.as_array().is_some_and(|a| a.len() >= 2);
            if let Some(Value::Array(a)) = pick(doc, node, &pred) {
                shuffle(a, seed);
            }
        }
        Op::Duplicate { node, entry, times } => {
            let pred = |v: &Value, _: Option<&str>| v.as_array().is_some_and(|a| !a.is_empty());
            if let Some(Value::Array(a)) = pick(doc, node, &pred) {
                let i = entry % a.len();
                let item = a[i].clone();
                let size = serde_json::to_string(&item).map_or(1, |s| s.len().max(1));
                let times = times
                    .min(limits.duplicates)
                    .min(limits.duplicate_bytes / size)
                    .max(1);
                let copies = std::iter::repeat_n(item, times);
                a.splice(i..i, copies);
            }
        }
        Op::Now { which } => {
            if let Some(m) = doc.as_object_mut() {
                m.insert(
                    "Now".into(),
                    Value::String(FAR_TIMES[which % FAR_TIMES.len()].into()),
                );
            }
        }
    }
}

/// Applies a text-level mutation.
pub fn apply_text(applied: &mut Applied, op: TextOp) {
    match op {
        TextOp::Truncate { world, at } => {
            let s = if world {
                &mut applied.world
            } else {
                &mut applied.event
            };
            let mut cut = at % (s.len() + 1);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
        }
        TextOp::Prefix { world } => {
            let s = if world {
                &mut applied.world
            } else {
                &mut applied.event
            };
            *s = "[".repeat(PREFIX_DEPTH) + s;
        }
    }
}
