//! Shared helpers for the integration tests: a minimal reader for the flat JSONL test corpora
//! (RFC examples, server quirks), whose values are strings and numbers only.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// One JSON value of the flat corpora.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Num(f64),
    Other,
}

/// One flat JSON object.
pub type Record = BTreeMap<String, Val>;

/// Bytes of a string value whose code points are all <= U+00FF (one code point = one byte).
pub fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

pub fn get_str<'a>(r: &'a Record, k: &str) -> &'a str {
    match r.get(k) {
        Some(Val::Str(s)) => s,
        _ => "",
    }
}

pub fn get_num(r: &Record, k: &str) -> i64 {
    match r.get(k) {
        Some(Val::Num(n)) => *n as i64,
        _ => 0,
    }
}

/// Parses one line of JSONL into a flat record.
pub fn parse_line(line: &str) -> Record {
    let mut p = Json {
        s: line.as_bytes(),
        i: 0,
    };
    p.object()
}

struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s[self.i], c,
            "JSON: expected {} at {}",
            c as char, self.i
        );
        self.i += 1;
    }
    fn object(&mut self) -> Record {
        let mut r = Record::new();
        self.eat(b'{');
        self.ws();
        if self.s[self.i] == b'}' {
            self.i += 1;
            return r;
        }
        loop {
            self.ws();
            let k = self.string();
            self.eat(b':');
            let v = self.value();
            r.insert(k, v);
            self.ws();
            match self.s[self.i] {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return r;
                }
                c => panic!("JSON: unexpected {}", c as char),
            }
        }
    }
    fn value(&mut self) -> Val {
        self.ws();
        match self.s[self.i] {
            b'"' => Val::Str(self.string()),
            b'-' | b'0'..=b'9' => {
                let st = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                Val::Num(
                    std::str::from_utf8(&self.s[st..self.i])
                        .unwrap()
                        .parse()
                        .unwrap(),
                )
            }
            _ => {
                // true/false/null/arrays are not used by the corpora; skip a bare word
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b'}') {
                    self.i += 1;
                }
                Val::Other
            }
        }
    }
    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'/' => out.push('/'),
                        b'\\' => out.push('\\'),
                        b'"' => out.push('"'),
                        b'u' => {
                            let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let mut cp = u32::from_str_radix(h, 16).unwrap();
                            if (0xD800..0xDC00).contains(&cp) {
                                // surrogate pair
                                let h2 =
                                    std::str::from_utf8(&self.s[self.i + 2..self.i + 6]).unwrap();
                                self.i += 6;
                                let lo = u32::from_str_radix(h2, 16).unwrap();
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                        }
                        _ => panic!("JSON: bad escape"),
                    }
                }
                _ => {
                    // raw UTF-8 byte run
                    let st = self.i - 1;
                    let mut end = self.i;
                    while end < self.s.len() && self.s[end] != b'"' && self.s[end] != b'\\' {
                        end += 1;
                    }
                    out.push_str(std::str::from_utf8(&self.s[st..end]).unwrap());
                    self.i = end;
                }
            }
        }
    }
}

/// The string value of `key` in one JSON line, as bytes ([`latin1`]); `None` when the line
/// has no such string.
pub fn str_field(line: &str, key: &str) -> Option<Vec<u8>> {
    match parse_line(line).get(key) {
        Some(Val::Str(s)) => Some(latin1(s)),
        _ => None,
    }
}

/// Loads a JSONL file.
pub fn load(path: &str) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_line)
        .collect()
}
