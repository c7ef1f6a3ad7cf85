//! Differential test against the real JDK: thousands of (pattern, instant) vectors are
//! formatted by `../shared/tools/JavaDateOracle.java` and by this crate, and must agree
//! byte for byte (including which patterns Java rejects, and with which message).
//!
//! The oracle formats one pattern per JVM run; to keep this to a single JVM we compile it
//! with `javac` next to a tiny driver that calls its `main` once per pattern with the instants
//! on stdin. Without `javac` we fall back to one `java JavaDateOracle.java` run per pattern.
//! Without `java` or the oracle file the test prints why and passes (skip); under
//! `TRAILHUNT_REQUIRE_SHARED=1` it fails instead (`testkit`).

use javatime::Pattern;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ORACLE: &str = "tools/JavaDateOracle.java";

/// The oracle's path under `../shared` (relative to the workspace root).
fn oracle() -> PathBuf {
    testkit::shared_root().join(ORACLE)
}

/// Pattern that prints like Elasticsearch's default date rendering for all `i64` millis
/// (`uuuu` has the same 4-digit EXCEEDS_PAD year as `strict_date_optional_time`).
const ISO_EQUIVALENT: &str = "uuuu-MM-dd'T'HH:mm:ss.SSSX";

/// Driver: stdin = number of instants, the instants, then one pattern per line. For each
/// pattern it prints `@@BEGIN`, the oracle's lines, then `@@END` or `@@ERR <class> <message>`.
const DRIVER: &str = r#"
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
public class JavatimeDriver {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int n = Integer.parseInt(in.readLine().trim());
        StringBuilder instants = new StringBuilder();
        for (int i = 0; i < n; i++) instants.append(in.readLine()).append('\n');
        byte[] bytes = instants.toString().getBytes(StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        for (String p; (p = in.readLine()) != null; ) {
            out.println("@@BEGIN");
            System.setIn(new ByteArrayInputStream(bytes));
            try {
                JavaDateOracle.main(new String[] { p });
                out.println("@@END");
            } catch (Throwable t) {
                out.println("@@ERR " + t.getClass().getName() + " " + t.getMessage());
            }
        }
    }
}
"#;

/// SplitMix64: small, deterministic, good enough to spread test vectors.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn instants(rng: &mut Rng) -> Vec<i64> {
    let day = 86_400_000i64;
    let y1900 = javatime::millis_from_civil(1900, 1, 1, 0, 0, 0, 0).unwrap();
    let y2100 = javatime::millis_from_civil(2100, 12, 31, 23, 59, 59, 999).unwrap();
    let mut v = vec![
        0,
        -1,
        1,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        i64::MAX - 1,
        1_722_431_184_000,   // 2024-07-31T13:06:24Z (seed hunt)
        1_735_555_320_000,   // 2024-12-30T10:42:00Z
        -62_198_755_200_000, // year -1
        -62_167_219_200_000, // 0000-01-01
        -62_135_596_800_000, // 0001-01-01
        -62_135_596_800_001, // 0000-12-31T23:59:59.999
        253_402_300_799_999, // 9999-12-31T23:59:59.999
        253_402_300_800_000, // 10000-01-01
        -30_610_224_000_000, // 1000-01-01
    ];
    for _ in 0..200 {
        v.push(rng.range(y1900, y2100));
    }
    // ISO week / year edges: Dec 26 .. Jan 6 of many years, at varied times of day.
    for _ in 0..120 {
        let y = rng.range(1899, 2101);
        let jan1 = javatime::millis_from_civil(y, 1, 1, 0, 0, 0, 0).unwrap();
        let d = rng.range(-6, 5);
        let t = match rng.next() % 4 {
            0 => 0,
            1 => 12 * 3_600_000,
            2 => day - 1,
            _ => rng.range(0, day - 1),
        };
        v.push(jan1 + d * day + t);
    }
    // Far years, both signs.
    for _ in 0..50 {
        v.push(rng.next() as i64);
    }
    for _ in 0..30 {
        v.push(rng.range(-400_000_000_000_000, 400_000_000_000_000));
    }
    v
}

fn patterns(rng: &mut Rng) -> Vec<String> {
    let mut p: Vec<String> = Vec::new();
    // Every letter (and some that are not letters of the language) at widths 1-6.
    for c in "GuyDMLdQqYwWEecFahKkHmsSAnNVzOXxZvBgbfijloqrtCIJPRTU".chars() {
        for w in 1..=6 {
            p.push(c.to_string().repeat(w));
        }
    }
    // Wide numeric widths, up to and past the 19-digit limit.
    for c in "uyYgAnNS".chars() {
        for w in [7, 9, 10, 12, 18, 19, 20, 23] {
            p.push(c.to_string().repeat(w));
        }
    }
    for s in [
        "YYYY-mm-dd",
        "yyyy-MM-dd",
        "uuuu-MM-dd'T'HH:mm:ss.SSSXXX",
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
        ISO_EQUIVALENT,
        "uuuu-MM-dd'T'HH:mm:ss.SSSZ",
        "EEE, dd MMM yyyy HH:mm:ss Z",
        "EEEE, MMMM d, uuuu h:mm a",
        "YYYY-'W'ww-e",
        "YYYY-'W'w-c",
        "G yyyy GGGG u",
        "QQQ qqqq 'q'Q",
        "hh 'o''clock' a",
        "''",
        "'''",
        "'it''s' HH",
        "[yyyy][-MM][-dd]",
        "yyyy[-MM[-dd['T'HH]]]",
        "[",
        "[[[",
        "yyyy]",
        "]",
        "'unterminated",
        "#",
        "yyyy{",
        "}",
        "p",
        "pp",
        "ppH",
        "pppppMMM",
        "ppMMM",
        "ppHHmm",
        "HHppmm",
        "ppHH:mm",
        "p'x'",
        "pb",
        "ppppppppppppppppppppppppuuuu",
        "yyyyMMddHHmmssSSS",
        "D DD DDD",
        "k K h H",
        "n N A",
        "VV z zzzz O OOOO ZZZZ v vvvv",
        "X XX XXX XXXX XXXXX x xx xxx xxxx xxxxx Z ZZ ZZZ ZZZZZ",
        "W F w e c",
        "Y YY YYY YYYY YYYYY",
        "B BBBB BBBBB",
        "g gg",
        "e ee eee eeee eeeee",
        "c ccc cccc ccccc",
        "E EE EEE EEEE EEEEE",
        "MMM MMMM MMMMM LLL LLLL LLLLL L LL",
        "åäö ü 日本 HH",
        " yyyy ",
        "yy-uu-YY",
        "S SS SSS SSSS SSSSSSSSS",
        "cc",
        "BB",
        "vv",
        "OO",
        "VVV",
    ] {
        p.push(s.to_string());
    }
    // Random combinations of legal tokens and separators.
    let tokens = [
        "G", "GGGG", "GGGGG", "u", "uu", "uuuu", "uuuuu", "y", "yy", "yyy", "yyyy", "D", "DD",
        "DDD", "M", "MM", "MMM", "MMMM", "MMMMM", "L", "LLL", "d", "dd", "Q", "QQ", "QQQ", "q",
        "qqq", "qqqq", "Y", "YY", "YYYY", "w", "ww", "W", "E", "EEEE", "EEEEE", "e", "ee", "eee",
        "c", "ccc", "F", "a", "h", "hh", "K", "KK", "k", "kk", "H", "HH", "m", "mm", "s", "ss",
        "S", "SSS", "SSSSSS", "A", "n", "N", "VV", "z", "O", "OOOO", "X", "XXX", "x", "xx", "Z",
        "ZZZZZ", "B", "g", "'lit'", "''", "[", "]", "pp",
    ];
    let seps = ["", "-", ":", " ", "/", ".", "T", ",", "'T'"];
    for _ in 0..200 {
        let n = rng.range(1, 7);
        let mut s = String::new();
        let mut depth = 0;
        for i in 0..n {
            if i > 0 {
                s.push_str(rng.pick(&seps));
            }
            let t = rng.pick(&tokens);
            match t {
                "[" => depth += 1,
                "]" if depth == 0 => continue,
                "]" => depth -= 1,
                _ => {}
            }
            s.push_str(t);
            if t == "pp" {
                s.push_str(rng.pick(&["d", "H", "MMM", "yyyy", "S", "a"]));
            }
        }
        p.push(s);
    }
    p
}

/// Java's result for one pattern: the printed lines, and the exception if one ended the run.
struct JavaRun {
    lines: Vec<String>,
    error: Option<String>,
}

fn run_batched(dir: &Path, instants: &[i64], patterns: &[String]) -> Option<Vec<JavaRun>> {
    std::fs::write(dir.join("JavatimeDriver.java"), DRIVER).ok()?;
    let status = Command::new("javac")
        .arg("-d")
        .arg(dir)
        .arg(oracle())
        .arg(dir.join("JavatimeDriver.java"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let mut input = format!("{}\n", instants.len());
    for i in instants {
        input.push_str(&format!("{i}\n"));
    }
    for p in patterns {
        input.push_str(p);
        input.push('\n');
    }
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(dir)
        .arg("JavatimeDriver")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut runs = Vec::new();
    let mut cur: Option<JavaRun> = None;
    for line in text.lines() {
        if line == "@@BEGIN" {
            cur = Some(JavaRun {
                lines: Vec::new(),
                error: None,
            });
        } else if line == "@@END" {
            runs.push(cur.take()?);
        } else if let Some(e) = line.strip_prefix("@@ERR ") {
            let mut r = cur.take()?;
            r.error = Some(e.to_string());
            runs.push(r);
        } else {
            cur.as_mut()?.lines.push(line.to_string());
        }
    }
    (runs.len() == patterns.len()).then_some(runs)
}

/// Fallback without `javac`: one source-launcher JVM per pattern, a few in parallel.
fn run_per_pattern(instants: &[i64], patterns: &[String]) -> Vec<JavaRun> {
    let input: String = instants.iter().map(|i| format!("{i}\n")).collect();
    let chunks: Vec<Vec<(usize, String)>> = {
        let mut c = vec![Vec::new(); 8];
        for (i, p) in patterns.iter().enumerate() {
            c[i % 8].push((i, p.clone()));
        }
        c
    };
    let mut results: Vec<Option<JavaRun>> = (0..patterns.len()).map(|_| None).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let input = input.clone();
            std::thread::spawn(move || {
                chunk
                    .into_iter()
                    .map(|(i, p)| {
                        let mut child = Command::new("java")
                            .arg(oracle())
                            .arg(&p)
                            .stdin(Stdio::piped())
                            .stdout(Stdio::piped())
                            .stderr(Stdio::piped())
                            .spawn()
                            .expect("spawn java");
                        let mut stdin = child.stdin.take().expect("stdin");
                        let data = input.clone();
                        let w = std::thread::spawn(move || stdin.write_all(data.as_bytes()));
                        let out = child.wait_with_output().expect("java output");
                        let _ = w.join();
                        let stdout = String::from_utf8_lossy(&out.stdout);
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        let error = stderr.lines().next().and_then(|l| {
                            l.strip_prefix("Exception in thread \"main\" ")
                                .map(|e| e.replacen(": ", " ", 1))
                        });
                        (
                            i,
                            JavaRun {
                                lines: stdout.lines().map(str::to_string).collect(),
                                error,
                            },
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (i, r) in h.join().expect("worker") {
            results[i] = Some(r);
        }
    }
    results.into_iter().map(|r| r.expect("result")).collect()
}

#[test]
fn format_matches_jdk() {
    if testkit::require_shared(ORACLE).is_none() || !testkit::require_java(&["java"]) {
        return;
    }
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let instants = instants(&mut rng);
    let patterns = patterns(&mut rng);
    let dir = tempfile::Builder::new()
        .prefix("javatime-oracle-")
        .tempdir()
        .unwrap();
    let runs = match run_batched(dir.path(), &instants, &patterns) {
        Some(r) => r,
        None => run_per_pattern(&instants, &patterns),
    };
    drop(dir);

    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (p, run) in patterns.iter().zip(&runs) {
        if p == ISO_EQUIVALENT {
            for (ms, j) in instants.iter().zip(&run.lines) {
                checked += 1;
                if javatime::format_iso_millis(*ms) != *j {
                    failures.push(format!("format_iso_millis({ms}): java {j}"));
                }
            }
        }
        match Pattern::compile(p) {
            Err(e) => {
                checked += 1;
                let ours = format!("{} {}", e.java_class(), e.message());
                if run.error.as_deref() != Some(ours.as_str()) || !run.lines.is_empty() {
                    failures.push(format!(
                        "pattern {p:?}: we reject with {ours:?}, java: {:?} / {:?}",
                        run.error,
                        run.lines.first()
                    ));
                }
            }
            Ok(pat) => {
                for (i, ms) in instants.iter().enumerate() {
                    checked += 1;
                    let ours = pat.try_format(*ms);
                    match (run.lines.get(i), &ours) {
                        (Some(j), Ok(o)) if j == o => {}
                        (None, Err(e))
                            if run.error.as_deref()
                                == Some(format!("{} {e}", e.java_class()).as_str()) =>
                        {
                            break; // Java stopped at this instant with the same error.
                        }
                        (j, o) => {
                            failures.push(format!(
                                "pattern {p:?} at {ms}: java {j:?} (err {:?}), ours {o:?}",
                                run.error
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
    println!(
        "javatime oracle: {}/{} vectors match ({} patterns x {} instants)",
        checked - failures.len(),
        checked,
        patterns.len(),
        instants.len()
    );
    assert!(checked >= 2000, "too few vectors: {checked}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
