//! Output formats. `json` is exactly Elasticsearch's `_query` response body; the others
//! are for people (table, markdown) and pipelines (csv, ndjson).

use engine::format::{to_json, to_text};
use engine::{QueryResult, Value};
use serde_json::{json, Map, Value as J};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Markdown,
}

/// The `_query` body: `{"columns":[{"name","type"}],"values":[[…]]}`; a `warnings` array is
/// added only when there are warnings (ES sends those as headers).
pub fn es_body(r: &QueryResult) -> J {
    let columns: Vec<J> = r
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.ty.name()}))
        .collect();
    let values: Vec<J> = r
        .rows
        .iter()
        .map(|row| J::Array(row.iter().map(to_json).collect()))
        .collect();
    let mut body = Map::new();
    body.insert("columns".into(), J::Array(columns));
    body.insert("values".into(), J::Array(values));
    if !r.warnings.is_empty() {
        body.insert(
            "warnings".into(),
            J::Array(r.warnings.iter().map(|w| J::String(w.clone())).collect()),
        );
    }
    J::Object(body)
}

pub fn row_objects(r: &QueryResult) -> Vec<Map<String, J>> {
    r.rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            for (v, c) in row.iter().zip(&r.columns) {
                m.insert(c.name.clone(), to_json(v));
            }
            m
        })
        .collect()
}

pub fn write(out: &mut dyn Write, r: &QueryResult, format: Format) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer(&mut *out, &es_body(r))?;
            writeln!(out)
        }
        Format::Ndjson => {
            for m in row_objects(r) {
                serde_json::to_writer(&mut *out, &J::Object(m))?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Csv => write_csv(out, r),
        Format::Table => write_table(out, r),
        Format::Markdown => write_markdown(out, r),
    }
}

/// Text for a terminal: control characters (an attacker's escape sequences in a user
/// agent, say) are shown as `\u{…}`, never emitted.
pub fn printable(s: &str) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:04x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether CSV cells may start with a formula character (`--csv-formulas`); off by default.
static CSV_FORMULAS: AtomicBool = AtomicBool::new(false);

/// `--csv-formulas`: write text cells exactly as they are, even when a spreadsheet would
/// run them as formulas.
pub fn allow_csv_formulas(allow: bool) {
    CSV_FORMULAS.store(allow, Ordering::Relaxed);
}

/// OWASP's rule against CSV injection: a text cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'`, so a spreadsheet shows it instead of evaluating it
/// (an attacker controls user agents, ARNs and request parameters). Numbers are not text
/// and stay as they are.
pub fn csv_text(s: &str) -> String {
    if !CSV_FORMULAS.load(Ordering::Relaxed) && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_field(&format!("'{s}"))
    } else {
        csv_field(s)
    }
}

/// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(out: &mut dyn Write, r: &QueryResult) -> io::Result<()> {
    let header: Vec<String> = r.columns.iter().map(|c| csv_field(&c.name)).collect();
    write!(out, "{}\r\n", header.join(","))?;
    for row in &r.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v {
                Value::Str(text) => csv_text(text),
                Value::Multi(_) => csv_text(&to_text(v, "")),
                other => csv_field(&to_text(other, "")),
            })
            .collect();
        write!(out, "{}\r\n", cells.join(","))?;
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, r: &QueryResult) -> io::Result<()> {
    let header: Vec<String> = r.columns.iter().map(|c| printable(&c.name)).collect();
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| printable(&to_text(v, "null").replace(['\n', '\r'], " ")))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&header))?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    )?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn md_cell(s: &str) -> String {
    printable(&s.replace('|', "\\|").replace(['\n', '\r'], " "))
}

fn write_markdown(out: &mut dyn Write, r: &QueryResult) -> io::Result<()> {
    let header: Vec<String> = r.columns.iter().map(|c| md_cell(&c.name)).collect();
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(
        out,
        "|{}|",
        r.columns
            .iter()
            .map(|_| "---")
            .collect::<Vec<_>>()
            .join("|")
    )?;
    for row in &r.rows {
        let cells: Vec<String> = row.iter().map(|v| md_cell(&to_text(v, ""))).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_formulas_are_neutralized_unless_allowed() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(csv_text(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn terminal_text_shows_control_characters() {
        assert_eq!(printable("a\u{1b}[2Jb\u{7}"), "a\\u{001b}[2Jb\\u{0007}");
        assert_eq!(printable("plain é"), "plain é");
        assert_eq!(md_cell("x|\u{1b}"), "x\\|\\u{001b}");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
