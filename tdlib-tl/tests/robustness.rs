//! `parse` must return `Ok` or `Err`, never panic, on damaged input: prefixes and random
//! mutations of the real schema, and some hostile snippets.

mod common;

use tdlib_tl::{ParseError, Schema, parse, validate};

/// Parses `text` and checks that an error points into the text. A panic fails the test.
fn parse_checked(text: &str) -> Result<Schema, ParseError> {
    let result = parse(text);
    match &result {
        Ok(schema) => {
            // Must not panic either, whatever it says.
            let _ = validate(schema);
        }
        Err(err) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&err.line) && err.column >= 1,
                "error outside the text: {err}"
            );
        }
    }
    result
}

/// Runs `check` on `items` split over the available cores, since each parse of the whole
/// schema takes a while in debug builds.
fn in_parallel<T: Sync>(items: &[T], check: impl Fn(&T) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in items.chunks(chunk) {
            let check = &check;
            scope.spawn(move || part.iter().for_each(check));
        }
    });
}

#[test]
fn prefixes_of_the_real_schema() {
    let text = common::real_schema();
    let mut cuts = Vec::new();
    let mut cut = 0;
    while cut < text.len() {
        // Move forward to a character boundary (the file is ASCII today, but need not be).
        let mut end = cut;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        cuts.push(end);
        cut += 997;
    }
    cuts.push(text.len());
    in_parallel(&cuts, |&end| {
        let prefix = &text[..end];
        if let Ok(schema) = parse_checked(prefix) {
            let full_lines = prefix.split('\n').count();
            assert!(schema.types.iter().all(|def| def.line <= full_lines));
        }
    });
}

/// Cutting right after a declaration line always leaves a valid schema.
#[test]
fn prefixes_ending_after_a_declaration_parse() {
    let text = common::real_schema();
    let ends: Vec<usize> = text
        .match_indices(";\n")
        .map(|(at, _)| at + 2)
        .step_by(211)
        .collect();
    assert!(ends.len() > 10);
    in_parallel(&ends, |&end| {
        if let Err(err) = parse(&text[..end]) {
            panic!("prefix of {end} bytes: {err}");
        }
    });
}

/// A small deterministic xorshift generator, so failures can be reproduced.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutations_of_the_real_schema() {
    const SPECIAL: &[u8] = b":;=<> @/-\n";
    const MUTATIONS: usize = 300;
    let text = common::real_schema();
    let bytes = text.as_bytes();
    // Positions of the bytes that matter to the grammar, so that most mutations hit one; and
    // those of them outside comments, since most spaces are in doc text, where a changed byte
    // usually still parses.
    let special_positions: Vec<usize> = (0..bytes.len())
        .filter(|&i| SPECIAL.contains(&bytes[i]))
        .collect();
    let mut in_declarations = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if !line.starts_with("//") {
            in_declarations.extend(
                line.bytes()
                    .enumerate()
                    .filter(|(_, byte)| SPECIAL.contains(byte))
                    .map(|(i, _)| line_start + i),
            );
        }
        line_start += line.len();
    }
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut cases = Vec::new();
    for _ in 0..MUTATIONS {
        let position = match rng.below(3) {
            0 => rng.below(bytes.len()),
            1 => special_positions[rng.below(special_positions.len())],
            _ => in_declarations[rng.below(in_declarations.len())],
        };
        let mut mutated = bytes.to_vec();
        let op = rng.below(3);
        match op {
            0 => {
                mutated.remove(position);
            }
            1 => mutated.insert(position, bytes[position]),
            _ => mutated[position] = SPECIAL[rng.below(SPECIAL.len())],
        }
        cases.push((position, op, mutated));
    }
    let outcomes = std::sync::Mutex::new((0usize, 0usize));
    in_parallel(&cases, |(position, op, mutated)| {
        // Mutations of ASCII bytes keep ASCII text valid UTF-8; skip anything else.
        let Ok(mutated) = std::str::from_utf8(mutated) else {
            return;
        };
        let ok = std::panic::catch_unwind(|| parse_checked(mutated).is_ok())
            .unwrap_or_else(|_| panic!("panic after mutation {op} at byte {position}"));
        let mut outcomes = outcomes.lock().unwrap_or_else(|err| err.into_inner());
        if ok {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
    });
    let (ok, err) = outcomes.into_inner().unwrap_or_else(|err| err.into_inner());
    eprintln!("{MUTATIONS} mutations: {ok} still parse, {err} are errors");
    assert_eq!(ok + err, MUTATIONS);
}

#[test]
fn hostile_snippets() {
    let long_line = "a".repeat(100_000);
    let deep_vector = format!("foo a:{}int32 = Foo;", "vector<".repeat(100_000));
    let many_tags = format!("//@description{}\nfoo a:int32 = Foo;", " @a".repeat(10_000));
    let snippets = [
        "",
        "\n",
        "\r",
        "\r\n\r\n",
        "\u{feff}",
        ";",
        "=",
        ":",
        "<",
        ">",
        "@",
        "//",
        "//@",
        "//-",
        "//@class",
        "//@class A @",
        "---",
        "foo",
        "foo a:vector<",
        "foo a:vector<>",
        "vector",
        "vector {",
        "int32",
        "é = É;",
        "foo é:ü = Foo;",
        "//@description é\u{0}\u{200b}@x\nfoo = Foo;",
        "//@description x\n//-",
        "foo = Foo;\u{0}",
        "\u{85}foo = Foo;",
        "foo\u{a0}= Foo;",
        &long_line,
        &deep_vector,
        &many_tags,
    ];
    for snippet in snippets {
        let _ = parse_checked(snippet);
    }
}
