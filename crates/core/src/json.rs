//! The JSON the core reads: a token's claims ([`crate::claims`]), its header and a JWK
//! ([`read_object`]), a list of keys ([`read_key_list`]). One small reader ([`Reader`]),
//! as strict as `serde_json::from_slice` and reading what it reads: RFC 8259 syntax, strings
//! read as UTF-8 with paired surrogates, numbers as serde_json makes them (`u64`, `i64`, or
//! `f64` by its own algorithm, out of range refused), serde_json's nesting limit; and values
//! skipped as serde_json's `IgnoredAny` skips them (syntax only, any depth). Not serde_json's
//! deserializer: its code, one copy per visitor, was ~14 KiB of the npm package's gzipped
//! wasm. Cross-checked against the serde_json readers it replaced (`json_oracle`, tests
//! only) by proptest, and against serde_json's `Value` for claims and numbers.

use alloc::{borrow::Cow, string::String, vec::Vec};

/// A number as serde_json parses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// A non-negative integer that fits.
    U64(u64),
    /// A negative integer that fits.
    I64(i64),
    /// Anything else: a fraction, an exponent, `-0`, or an integer too long.
    F64(f64),
}

/// Powers of ten as serde_json's `f64_from_parts` uses them (its algorithm without
/// `float_roundtrip`, the feature this crate builds it with).
static POW10: [f64; 309] = [
    1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009, 1e010, 1e011, 1e012,
    1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019, 1e020, 1e021, 1e022, 1e023, 1e024, 1e025,
    1e026, 1e027, 1e028, 1e029, 1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038,
    1e039, 1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049, 1e050, 1e051,
    1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059, 1e060, 1e061, 1e062, 1e063, 1e064,
    1e065, 1e066, 1e067, 1e068, 1e069, 1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077,
    1e078, 1e079, 1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089, 1e090,
    1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099, 1e100, 1e101, 1e102, 1e103,
    1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116,
    1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, 1e140, 1e141, 1e142,
    1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149, 1e150, 1e151, 1e152, 1e153, 1e154, 1e155,
    1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168,
    1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179, 1e180, 1e181,
    1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, 1e190, 1e191, 1e192, 1e193, 1e194,
    1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207,
    1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, 1e220,
    1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229, 1e230, 1e231, 1e232, 1e233,
    1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246,
    1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, 1e270, 1e271, 1e272,
    1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279, 1e280, 1e281, 1e282, 1e283, 1e284, 1e285,
    1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298,
    1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

/// A cursor over JSON bytes. Every method returns `None` for input serde_json refuses.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// serde_json's `remaining_depth`: containers read (not skipped) may nest 127 deep.
    depth: u8,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            depth: 128,
        }
    }

    fn byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.byte()?;
        self.pos += 1;
        Some(b)
    }

    /// The next byte after whitespace, not taken.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.byte() {
            self.pos += 1;
        }
        self.byte()
    }

    /// Nothing but whitespace is left.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(word.len())?;
        (self.bytes.get(self.pos..end)? == word).then_some(())?;
        self.pos = end;
        Some(())
    }

    /// Takes the `{` or `[` that [`Self::peek`] saw, counting it against the nesting limit.
    fn open(&mut self) -> Option<()> {
        self.pos += 1;
        self.depth -= 1;
        (self.depth > 0).then_some(())
    }

    /// Whether another item follows in the container `close` ends, its comma taken (`false`:
    /// at `close`, taken). `first`: no item was read yet. A comma then `close` is refused by
    /// the item's own read, as serde_json refuses a trailing comma.
    fn more(&mut self, close: u8, first: &mut bool) -> Option<bool> {
        let b = self.peek()?;
        if b == close {
            self.pos += 1;
            self.depth += 1;
            return Some(false);
        }
        if !core::mem::replace(first, false) {
            (b == b',').then_some(())?;
            self.pos += 1;
        }
        Some(true)
    }

    /// The next member's name of an object opened by [`Self::object`], its `:` taken; `None`
    /// at its `}`.
    pub(crate) fn key(&mut self, first: &mut bool) -> Option<Option<Cow<'a, str>>> {
        if !self.more(b'}', first)? {
            return Some(None);
        }
        let key = self.string()?;
        (self.peek()? == b':').then_some(())?;
        self.pos += 1;
        Some(Some(key))
    }

    /// Whether another element follows in an array opened by [`Self::array`].
    pub(crate) fn element(&mut self, first: &mut bool) -> Option<bool> {
        self.more(b']', first)
    }

    /// Opens the object that comes next.
    pub(crate) fn object(&mut self) -> Option<()> {
        (self.peek()? == b'{').then_some(())?;
        self.open()
    }

    /// Opens the array that comes next.
    pub(crate) fn array(&mut self) -> Option<()> {
        (self.peek()? == b'[').then_some(())?;
        self.open()
    }

    /// The string that comes next, unescaped: borrowed when it has no escapes.
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        (self.peek()? == b'"').then_some(())?;
        self.pos += 1;
        let mut copied: Option<Vec<u8>> = None;
        let mut start = self.pos;
        loop {
            match self.next()? {
                b'"' => {
                    let raw = self.bytes.get(start..self.pos - 1)?;
                    return match copied {
                        None => core::str::from_utf8(raw).ok().map(Cow::Borrowed),
                        Some(mut text) => {
                            text.extend_from_slice(raw);
                            String::from_utf8(text).ok().map(Cow::Owned)
                        }
                    };
                }
                b'\\' => {
                    let text = copied.get_or_insert_with(Vec::new);
                    text.extend_from_slice(self.bytes.get(start..self.pos - 1)?);
                    self.escape(text)?;
                    start = self.pos;
                }
                0..=0x1f => return None,
                _ => {}
            }
        }
    }

    fn escape(&mut self, text: &mut Vec<u8>) -> Option<()> {
        let b = match self.next()? {
            b @ (b'"' | b'\\' | b'/') => b,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut n = u32::from(self.hex4()?);
                if (0xDC00..=0xDFFF).contains(&n) {
                    return None;
                }
                if (0xD800..=0xDBFF).contains(&n) {
                    // A leading surrogate: `\u` and a trailing one must follow.
                    self.literal(b"\\u")?;
                    let low = u32::from(self.hex4()?);
                    (0xDC00..=0xDFFF).contains(&low).then_some(())?;
                    n = 0x1_0000 + ((n - 0xD800) << 10) + (low - 0xDC00);
                }
                let c = char::from_u32(n)?;
                text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Some(());
            }
            _ => return None,
        };
        text.push(b);
        Some(())
    }

    fn hex4(&mut self) -> Option<u16> {
        let mut n = 0u16;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16)?;
            n = n * 16 + u16::try_from(digit).ok()?;
        }
        Some(n)
    }

    /// The number that comes next, as serde_json's `deserialize_any` reads it.
    #[allow(
        clippy::cast_possible_wrap,
        clippy::cast_precision_loss,
        reason = "serde_json's conversions"
    )]
    pub(crate) fn number(&mut self) -> Option<Num> {
        let positive = self.peek()? != b'-';
        if !positive {
            self.pos += 1;
        }
        let significand = match self.next()? {
            b'0' => {
                // One leading zero only.
                (!matches!(self.byte(), Some(b'0'..=b'9'))).then_some(())?;
                0
            }
            c @ b'1'..=b'9' => {
                let mut significand = u64::from(c - b'0');
                while let Some(c @ b'0'..=b'9') = self.byte() {
                    // Past u64 (serde_json's `overflow!`), the integer is read as a float.
                    let Some(next) = push_digit(significand, c) else {
                        return self.long_integer(positive, significand).map(Num::F64);
                    };
                    self.pos += 1;
                    significand = next;
                }
                significand
            }
            _ => return None,
        };
        Some(match self.byte() {
            Some(b'.') => Num::F64(self.decimal(positive, significand, 0)?),
            Some(b'e' | b'E') => Num::F64(self.exponent(positive, significand, 0)?),
            _ if positive => Num::U64(significand),
            _ => {
                let negative = (significand as i64).wrapping_neg();
                // `-0` and integers below `i64::MIN` are floats.
                if negative >= 0 {
                    Num::F64(-(significand as f64))
                } else {
                    Num::I64(negative)
                }
            }
        })
    }

    fn long_integer(&mut self, positive: bool, significand: u64) -> Option<f64> {
        let mut exponent = 0i32;
        loop {
            match self.byte() {
                Some(b'0'..=b'9') => {
                    self.pos += 1;
                    exponent = exponent.saturating_add(1);
                }
                Some(b'.') => return self.decimal(positive, significand, exponent),
                Some(b'e' | b'E') => return self.exponent(positive, significand, exponent),
                _ => return f64_from_parts(positive, significand, exponent),
            }
        }
    }

    fn decimal(&mut self, positive: bool, mut significand: u64, before: i32) -> Option<f64> {
        self.pos += 1;
        let mut after = 0i32;
        while let Some(c @ b'0'..=b'9') = self.byte() {
            let Some(next) = push_digit(significand, c) else {
                // Further digits are dropped.
                self.digits();
                let exponent = before.saturating_add(after);
                return match self.byte() {
                    Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
                    _ => f64_from_parts(positive, significand, exponent),
                };
            };
            self.pos += 1;
            significand = next;
            after -= 1;
        }
        // At least one digit after the point.
        (after != 0).then_some(())?;
        let exponent = before.saturating_add(after);
        match self.byte() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => f64_from_parts(positive, significand, exponent),
        }
    }

    fn exponent(&mut self, positive: bool, significand: u64, start: i32) -> Option<f64> {
        self.pos += 1;
        let positive_exp = match self.byte() {
            Some(b'+') => {
                self.pos += 1;
                true
            }
            Some(b'-') => {
                self.pos += 1;
                false
            }
            _ => true,
        };
        let mut exp = match self.next()? {
            c @ b'0'..=b'9' => i32::from(c - b'0'),
            _ => return None,
        };
        while let Some(c @ b'0'..=b'9') = self.byte() {
            self.pos += 1;
            let Some(next) = exp
                .checked_mul(10)
                .and_then(|e| e.checked_add(i32::from(c - b'0')))
            else {
                // An exponent past i32: infinity is refused, zero is zero.
                (significand == 0 || !positive_exp).then_some(())?;
                self.digits();
                return Some(if positive { 0.0 } else { -0.0 });
            };
            exp = next;
        }
        let exponent = if positive_exp {
            start.saturating_add(exp)
        } else {
            start.saturating_sub(exp)
        };
        f64_from_parts(positive, significand, exponent)
    }

    /// Reads the value that comes next, every part checked as if it were read (strings as
    /// UTF-8, numbers in range, the nesting limit), and drops it.
    pub(crate) fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            b'[' => {
                self.open()?;
                let mut first = true;
                while self.element(&mut first)? {
                    self.value()?;
                }
            }
            b'{' => {
                self.open()?;
                let mut first = true;
                while self.key(&mut first)?.is_some() {
                    self.value()?;
                }
            }
            b'n' => self.literal(b"null")?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            _ => return None,
        }
        Some(())
    }

    /// The value that comes next, checked as [`Self::value`] checks it, as its JSON text.
    pub(crate) fn raw(&mut self) -> Option<&'a [u8]> {
        self.peek()?;
        let start = self.pos;
        self.value()?;
        self.bytes.get(start..self.pos)
    }

    /// Skips the value that comes next as serde_json's `IgnoredAny` does: JSON syntax only
    /// (strings are not checked as UTF-8 nor their `\u` escapes paired, numbers not ranged),
    /// nested to any depth (no recursion).
    pub(crate) fn skip(&mut self) -> Option<()> {
        // The containers open, innermost last: `true` for an object.
        let mut open: Vec<bool> = Vec::new();
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b @ (b'[' | b'{') => {
                    self.pos += 1;
                    let object = b == b'{';
                    if self.peek()? == if object { b'}' } else { b']' } {
                        self.pos += 1;
                    } else {
                        open.push(object);
                        if object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                _ => return None,
            }
            // A value ended: close what it ends, or go on after a comma.
            loop {
                let Some(&object) = open.last() else {
                    return Some(());
                };
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if object => {
                        self.pos += 1;
                        open.pop();
                    }
                    b']' if !object => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    fn skip_key(&mut self) -> Option<()> {
        (self.peek()? == b'"').then_some(())?;
        self.skip_string()?;
        (self.peek()? == b':').then_some(())?;
        self.pos += 1;
        Some(())
    }

    fn skip_string(&mut self) -> Option<()> {
        self.pos += 1;
        loop {
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        self.hex4()?;
                    }
                    _ => return None,
                },
                0..=0x1f => return None,
                _ => {}
            }
        }
    }

    fn skip_number(&mut self) -> Option<()> {
        if self.byte() == Some(b'-') {
            self.pos += 1;
        }
        match self.next()? {
            b'0' => (!matches!(self.byte(), Some(b'0'..=b'9'))).then_some(())?,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.byte() == Some(b'.') {
            self.pos += 1;
            self.next()?.is_ascii_digit().then_some(())?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.byte() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.byte() {
                self.pos += 1;
            }
            self.next()?.is_ascii_digit().then_some(())?;
            self.digits();
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.byte() {
            self.pos += 1;
        }
    }

    /// Where `s`, a string this reader borrowed, lies in its bytes.
    pub(crate) fn span(&self, s: &str) -> (usize, usize) {
        let start = (s.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
        (start, start + s.len())
    }

    /// A string or `null`, what a header's or JWK's member may be.
    fn str_or_null(&mut self) -> Option<Member<'a>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(Member::Null);
        }
        self.string().map(Member::Str)
    }
}

/// `n` with the decimal digit `c` appended, or `None` past `u64::MAX`.
fn push_digit(n: u64, c: u8) -> Option<u64> {
    let digit = u64::from(c - b'0');
    // serde_json's `overflow!` test: a checked multiply here cost ~3% of an HS256 verify.
    (n < u64::MAX / 10 || n == u64::MAX / 10 && digit <= u64::MAX % 10).then(|| n * 10 + digit)
}

/// serde_json's `f64_from_parts`: `significand × 10^exponent`, infinity refused.
#[allow(clippy::cast_precision_loss, reason = "serde_json's conversion")]
fn f64_from_parts(positive: bool, significand: u64, mut exponent: i32) -> Option<f64> {
    let mut f = significand as f64;
    loop {
        match POW10.get(exponent.unsigned_abs() as usize) {
            Some(&pow) => {
                if exponent >= 0 {
                    f *= pow;
                    if f.is_infinite() {
                        return None;
                    }
                } else {
                    f /= pow;
                }
                break;
            }
            None => {
                if f == 0.0 {
                    break;
                }
                if exponent >= 0 {
                    return None;
                }
                f /= 1e308;
                exponent += 308;
            }
        }
    }
    Some(if positive { f } else { -f })
}

/// Most members one [`Fields`] reads.
pub(crate) const MAX: usize = 8;

/// A member read, by its place in [`Fields::names`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Member<'a> {
    /// Not in the object.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A string.
    Str(Cow<'a, str>),
    /// Any value, skipped unread (a member in [`Fields::skipped`]).
    Present,
}

impl<'a> Member<'a> {
    /// The member as `Option<Cow<str>>` with `#[serde(default)]`: absent or `null` is `None`.
    pub(crate) fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Which members of an object to read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Their names (at most [`MAX`]); each must be a string or `null`, unless skipped.
    pub names: &'static [&'static str],
    /// Bit `i` set: `names[i]` may hold any value, skipped unread (as `serde::de::IgnoredAny`).
    pub skipped: u8,
}

/// The object `json` with `fields` read, or `None` for input a derived struct refuses: not
/// one JSON object (a leading `[`, which such a struct reads as a sequence, is refused too),
/// a member read that is neither a string nor `null`, or named twice. Other members are
/// skipped as serde skips a struct's unknown fields.
#[cfg_attr(edgejwt_size, optimize(size))]
pub(crate) fn read_object(json: &[u8], fields: Fields) -> Option<[Member<'_>; MAX]> {
    let mut r = Reader::new(json);
    r.object()?;
    let mut members: [Member<'_>; MAX] = Default::default();
    let mut first = true;
    while let Some(name) = r.key(&mut first)? {
        let index = fields.names.iter().position(|n| *n == name);
        let Some((i, member)) = index.and_then(|i| Some((i, members.get_mut(i)?))) else {
            r.skip()?;
            continue;
        };
        if *member != Member::Absent {
            return None;
        }
        *member = if fields.skipped & (1 << i) != 0 {
            r.skip()?;
            Member::Present
        } else {
            r.str_or_null()?
        };
    }
    r.end()?;
    Some(members)
}

/// One entry of a list of keys (`PREVIOUS_VERIFYING_KEYS`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ListedKey<'a> {
    /// A string: PEM text or a secret.
    Text(Cow<'a, str>),
    /// An object: a JWK, as the JSON text it is written in.
    Jwk(&'a str),
    /// Any other value.
    Other,
}

/// Why [`read_key_list`] read no list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyListError {
    /// Not JSON, or JSON that is neither an array nor an object.
    NotAList,
    /// An object without an array as `keys`.
    NotASet,
    /// More than the maximum of keys.
    TooMany,
}

/// A JSON array of keys, or a JWK Set (`{"keys": [...]}`, other members ignored), holding at
/// most `max` keys, each object kept as the JSON text it is written in (to be read as a JWK by
/// the key loader). The JSON and its shape are checked first ([`shape`]); the texts are then
/// cut out of the checked text at its top-level commas ([`split`]).
#[cfg_attr(edgejwt_size, optimize(size))]
pub(crate) fn read_key_list(json: &[u8], max: usize) -> Result<Vec<ListedKey<'_>>, KeyListError> {
    let mut r = Reader::new(json);
    let shape = shape(&mut r, max, true).ok_or(KeyListError::NotAList)?;
    r.end().ok_or(KeyListError::NotAList)?;
    let text = core::str::from_utf8(json).map_err(|_| KeyListError::NotAList)?;
    let array = match shape? {
        None => text.trim(),
        // The member's name, `:`, then the array.
        Some(member) => {
            let member = split(text.trim())
                .into_iter()
                .nth(member)
                .unwrap_or_default();
            let colon = structural(member).find(|&(_, b)| b == b':');
            let value = colon.and_then(|(i, _)| member.get(i + 1..));
            value.unwrap_or_default().trim()
        }
    };
    Ok(split(array)
        .into_iter()
        .map(|item| match item.as_bytes().first() {
            Some(b'"') => match Reader::new(item.as_bytes()).string() {
                Some(s) => ListedKey::Text(s),
                None => ListedKey::Other,
            },
            Some(b'{') => ListedKey::Jwk(item),
            _ => ListedKey::Other,
        })
        .collect())
}

/// The shape of a list of keys (`None`: the top-level array; `Some(i)`: the array of the
/// Set's `i`-th member, `keys`), its length checked; `None` for JSON serde_json refuses.
/// `top`: the whole value (an array or a JWK Set), not the Set's `keys` (an array only).
fn shape(r: &mut Reader<'_>, max: usize, top: bool) -> Option<Result<Option<usize>, KeyListError>> {
    let not_a_list = Err(if top {
        KeyListError::NotAList
    } else {
        KeyListError::NotASet
    });
    match r.peek()? {
        b'[' => {
            r.array()?;
            let (mut first, mut count) = (true, 0usize);
            while r.element(&mut first)? {
                r.skip()?;
                count += 1;
            }
            Some(if count > max {
                Err(KeyListError::TooMany)
            } else {
                Ok(None)
            })
        }
        b'{' => {
            r.object()?;
            let mut first = true;
            let (mut keys, mut members) = (None, 0);
            while let Some(name) = r.key(&mut first)? {
                if !top || name != "keys" {
                    r.skip()?;
                } else if keys.is_some() {
                    // `keys` twice: which one is the Set?
                    return None;
                } else {
                    keys = Some(shape(r, max, false)?.map(|_| Some(members)));
                }
                members += 1;
            }
            Some(if top {
                keys.unwrap_or(Err(KeyListError::NotASet))
            } else {
                not_a_list
            })
        }
        _ => r.value().map(|()| not_a_list),
    }
}

/// The texts between the top-level commas of `container`, a JSON array or object that
/// serde_json accepted (so brackets balance and strings close), each trimmed: the array's
/// values, the object's `"name": value` members. Empty for `[]` and `{}`.
#[cfg_attr(edgejwt_size, optimize(size))]
fn split(container: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 1usize);
    for (i, b) in structural(container) {
        match b {
            b'[' | b'{' => depth += 1,
            b',' if depth == 1 => {
                parts.push(container.get(start..i).unwrap_or_default().trim());
                start = i + 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let last = container.get(start..i).unwrap_or_default().trim();
                    if !last.is_empty() || !parts.is_empty() {
                        parts.push(last);
                    }
                    break;
                }
            }
            _ => {}
        }
    }
    parts
}

/// The bytes of JSON `text` outside its strings, with their indices: brackets, commas and
/// colons there are JSON's own, never a string's.
fn structural(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.bytes().enumerate().filter(move |&(_, b)| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            false
        } else {
            in_string = b == b'"';
            !in_string
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::{
        string::{String, ToString},
        vec,
    };
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn texts(json: &str) -> Result<Vec<String>, KeyListError> {
        read_key_list(json.as_bytes(), 16).map(|keys| {
            keys.into_iter()
                .map(|k| match k {
                    ListedKey::Text(t) => alloc::format!("text:{t}"),
                    ListedKey::Jwk(j) => alloc::format!("jwk:{j}"),
                    ListedKey::Other => "other".into(),
                })
                .collect()
        })
    }

    /// Objects come back as written, strings unescaped, whatever commas and brackets the
    /// strings hold; in a Set, whichever member `keys` is (its name escaped too).
    #[test]
    fn key_lists_and_sets() {
        assert_eq!(texts(" [ ] "), Ok(vec![]));
        assert_eq!(
            texts(r#"[ "a,]}" , {"kty":"oct","k":"[,{\"}"} ,1, null,["x"]]"#),
            Ok(vec![
                "text:a,]}".into(),
                r#"jwk:{"kty":"oct","k":"[,{\"}"}"#.into(),
                "other".into(),
                "other".into(),
                "other".into(),
            ])
        );
        assert_eq!(texts(r#"["\u0041\n"]"#), Ok(vec!["text:A\n".into()]));
        let set =
            r#"{"x":"],{\"keys\":", "y":[1,{"keys":[]}], "k\u0065ys" : [ {"a":"b"} ,"s"], "z":{}}"#;
        assert_eq!(
            texts(set),
            Ok(vec![r#"jwk:{"a":"b"}"#.into(), "text:s".into()])
        );
        assert_eq!(texts(r#"{"keys":[]}"#), Ok(vec![]));
    }

    #[test]
    fn what_is_not_a_key_list() {
        use KeyListError::*;
        for (json, error) in [
            ("", NotAList),
            ("\"[]\"", NotAList),
            ("1", NotAList),
            ("null", NotAList),
            ("[1", NotAList),
            ("[1,]", NotAList),
            ("[] []", NotAList),
            (r#"{"keys":[],"keys":[]}"#, NotAList),
            ("{}", NotASet),
            (r#"{"key":[]}"#, NotASet),
            (r#"{"keys":"a"}"#, NotASet),
            (r#"{"keys":{"a":[]}}"#, NotASet),
            (r#"{"keys":null}"#, NotASet),
        ] {
            assert_eq!(texts(json), Err(error), "{json}");
        }
        let many = serde_json::to_string(&vec!["k"; 17]).unwrap();
        assert_eq!(texts(&many), Err(TooMany));
        let set = json!({ "keys": vec!["k"; 17] }).to_string();
        assert_eq!(texts(&set), Err(TooMany));
        assert_eq!(
            texts(&serde_json::to_string(&vec!["k"; 16]).unwrap()).map(|t| t.len()),
            Ok(16)
        );
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[\\[\\]{},:\"\\\\a-z \u{e9}\u{1F600}\n]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[\\[\\]{},:\"a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Cross-checked with serde_json's own values: each listed text, read again, is the
        /// element it was cut from, in arrays written compactly or pretty.
        #[test]
        fn cut_texts_are_the_elements(items in prop::collection::vec(any_json(), 0..6), pretty: bool) {
            let array = Value::from(items.clone());
            let json = if pretty { serde_json::to_string_pretty(&array) } else { serde_json::to_string(&array) }.unwrap();
            let keys = read_key_list(json.as_bytes(), 16).unwrap();
            prop_assert_eq!(keys.len(), items.len());
            for (key, item) in keys.iter().zip(&items) {
                match (key, item) {
                    (ListedKey::Text(t), Value::String(s)) => prop_assert_eq!(t.as_ref(), s.as_str()),
                    (ListedKey::Jwk(j), Value::Object(_)) => {
                        prop_assert_eq!(&serde_json::from_str::<Value>(j).unwrap(), item)
                    }
                    (ListedKey::Other, v) => prop_assert!(!v.is_string() && !v.is_object()),
                    _ => prop_assert!(false, "{key:?} for {item}"),
                }
            }
        }
    }

    /// JSON-like bytes: values written compactly from the parts serde_json draws lines at
    /// (escapes, surrogates paired or not, numbers at u64's, i64's and f64's limits, nesting),
    /// then up to three bytes inserted, replaced or removed.
    pub(crate) fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let number = "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,4})?";
        let string = "\"([a-z ]|\\\\[\"\\\\/bfnrtx]|\\\\u[0-9a-fA-F]{4}|\\\\u[dD][89abAB][0-9a-f]{2}|\\\\u[dD][c-fC-F][0-9a-f]{2}|\u{e9}|\u{1F600}){0,5}\"";
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("18446744073709551615".to_string()),
            Just("18446744073709551616".to_string()),
            Just("-9223372036854775808".to_string()),
            Just("-9223372036854775809".to_string()),
            Just("-0".to_string()),
            Just("1e400".to_string()),
            Just("0e999999999999".to_string()),
            Just("01".to_string()),
            Just("-00.5".to_string()),
            Just("1.e5".to_string()),
            number.prop_map(String::from),
            string.prop_map(String::from),
        ];
        let names = prop::sample::select(vec![
            "alg",
            "kid",
            "typ",
            "crit",
            "x",
            "keys",
            "k\\u0065ys",
            "kty",
            "k",
            "user_id",
            "aud",
            "exp",
            "jti",
            "",
        ]);
        let value = leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                // Now and then with a trailing comma.
                (prop::collection::vec(inner.clone(), 0..5), 0..8u8).prop_map(|(v, t)| {
                    alloc::format!("[{}{}]", v.join(","), if t == 0 { "," } else { "" })
                }),
                (prop::collection::vec((names.clone(), inner), 0..5), 0..8u8).prop_map(
                    |(members, t)| {
                        let members: Vec<String> = members
                            .iter()
                            .map(|(k, v)| alloc::format!("\"{k}\":{v}"))
                            .collect();
                        alloc::format!("{{{}{}}}", members.join(","), if t == 0 { "," } else { "" })
                    }
                ),
            ]
        });
        let edit = (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                b'"', b'\\', b',', b':', b'[', b']', b'{', b'}', b' ', b'0', b'e', b'-', b'.',
                b'n', b'u', b't', b'/', 0xff, 0xc3, 0x01, 0x1f, 0x7f,
            ]),
            0..3u8,
        );
        (value, prop::collection::vec(edit, 0..4)).prop_map(|(text, edits)| {
            let mut bytes = text.into_bytes();
            for (at, byte, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 => bytes.insert(i, byte),
                    1 if i < bytes.len() => bytes[i] = byte,
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            bytes
        })
    }

    const HEADER: Fields = Fields {
        names: &["alg", "kid", "typ", "crit"],
        skipped: 0b1000,
    };
    const JWK: Fields = Fields {
        names: &["kty", "n", "e", "crv", "x", "y", "d", "k"],
        skipped: 0,
    };

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Objects are read as the serde_json visitors this reader replaced read them.
        #[test]
        fn objects_are_read_as_serde_json_read_them(json in jsonish()) {
            for fields in [HEADER, JWK] {
                prop_assert_eq!(
                    read_object(&json, fields),
                    crate::json_oracle::read_object(&json, fields),
                    "{}", String::from_utf8_lossy(&json)
                );
            }
            let wrapped = [b"{\"x\":".as_slice(), &json, b"}"].concat();
            prop_assert_eq!(
                read_object(&wrapped, HEADER),
                crate::json_oracle::read_object(&wrapped, HEADER)
            );
        }

        /// A list of keys has the shape serde_json gave it; its strings read the same.
        #[test]
        fn key_lists_are_read_as_serde_json_read_them(json in jsonish()) {
            let mut r = Reader::new(&json);
            let ours = shape(&mut r, 3, true).filter(|_| r.end().is_some());
            prop_assert_eq!(ours, crate::json_oracle::key_list_shape(&json, 3), "{}", String::from_utf8_lossy(&json));
            if let Ok(text) = core::str::from_utf8(&json) {
                prop_assert_eq!(Reader::new(text.as_bytes()).string(), crate::json_oracle::listed_string(text));
            }
        }

        /// Numbers are serde_json's, to the bit: integers, floats, `-0`, out of range refused.
        #[test]
        fn numbers_are_serde_jsons(text in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,12})?") {
            let mut r = Reader::new(text.as_bytes());
            let ours = r.number().filter(|_| r.end().is_some());
            let theirs = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Number(n)) => Some(n),
                _ => None,
            };
            let bits = |n: &serde_json::Number| (n.as_u64(), n.as_i64(), n.as_f64().map(f64::to_bits));
            let ours = ours.map(|n| match n {
                Num::U64(u) => (Some(u), i64::try_from(u).ok(), Some((u as f64).to_bits())),
                Num::I64(i) => (None, Some(i), Some((i as f64).to_bits())),
                Num::F64(f) => (None, None, Some(f.to_bits())),
            });
            prop_assert_eq!(ours, theirs.as_ref().map(bits), "{}", text);
        }
    }

    #[test]
    fn numbers_at_the_edges() {
        for text in [
            "0",
            "-0",
            "-0.0",
            "1e308",
            "1.7976931348623157e308",
            "1.8e308",
            "1e-400",
            "-1e-400",
            "4.9e-324",
            "2.5e-324",
            "1e2147483647",
            "1e2147483648",
            "0e2147483648",
            "1e-2147483648",
            "123456789012345678901234567890e-10",
            "0.000000000000000000000000000001e30",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "00",
            "01",
            "1.",
            ".1",
            "1e",
            "1e+",
            "-",
            "+1",
            "1.5e-",
        ] {
            let mut r = Reader::new(text.as_bytes());
            let ours = r.number().filter(|_| r.end().is_some()).map(|n| match n {
                Num::F64(f) => (None, f.to_bits()),
                Num::U64(u) => (Some(u.to_string()), 0),
                Num::I64(i) => (Some(i.to_string()), 0),
            });
            let theirs = match serde_json::from_str::<Value>(text) {
                Ok(Value::Number(n)) if n.is_f64() => Some((None, n.as_f64().unwrap().to_bits())),
                Ok(Value::Number(n)) => Some((Some(n.to_string()), 0)),
                _ => None,
            };
            assert_eq!(ours, theirs, "{text}");
        }
    }

    /// Values read count against serde_json's nesting limit; values skipped do not.
    #[test]
    fn nesting_limits() {
        for depth in 125..=130 {
            let nested = alloc::format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let mut r = Reader::new(nested.as_bytes());
            let ours = r.value().and_then(|()| r.end()).is_some();
            assert_eq!(
                ours,
                serde_json::from_str::<Value>(&nested).is_ok(),
                "{depth}"
            );
            assert_eq!(ours, depth < 128, "{depth}");
            let mut r = Reader::new(nested.as_bytes());
            assert!(r.skip().and_then(|()| r.end()).is_some());
        }
        let deep = alloc::format!(r#"{{"x":{}1{}}}"#, "[".repeat(5000), "]".repeat(5000));
        assert_eq!(
            read_object(deep.as_bytes(), HEADER),
            crate::json_oracle::read_object(deep.as_bytes(), HEADER)
        );
        assert!(read_object(deep.as_bytes(), HEADER).is_some());
    }
}
