// The reference for tests/uap.rs: Elasticsearch's user_agent processor rules
// (../shared/uap/README.md) on the JDK's own java.util.regex, written independently of the
// Rust port. Run as a single-file program: `java UaOracle.java RULES.yaml`.
//
// stdin: one subject per line, as hex of its UTF-8 bytes.
// stdout: one line per subject: name, version, os.name, os.version, os.full, device.name,
// tab-separated, each as hex of its UTF-8 bytes or `~` when the processor writes no value.
//
// The YAML reader handles the subset uap-core's file uses (top-level section keys, list
// entries of `key: 'single-quoted'` lines, comments) and fails on anything else.
//
// Elasticsearch runs on JDK 21+, where `\b` is defined by `\w` (ASCII; JDK-8264160, JDK 19).
// On an older JDK the oracle spells that definition out so the answers are the same.

import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;

public class UaOracle {
    static final class Rule {
        Pattern pattern;
        String name;
        String[] versions = new String[4];
    }

    static final Map<String, List<Rule>> sections = new HashMap<>();
    static final Pattern SECTION = Pattern.compile("^([a-z_]+):\\s*$");
    static final Pattern FIRST = Pattern.compile("^\\s*- ([a-z_0-9]+): '(.*)'\\s*$");
    static final Pattern MORE = Pattern.compile("^\\s+([a-z_0-9]+): '(.*)'\\s*$");

    public static void main(String[] args) throws IOException {
        load(Path.of(args[0]));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            out.println(String.join("\t", process(unhex(line))));
        }
        out.flush();
    }

    static void load(Path path) throws IOException {
        List<Map<String, String>> entries = null;
        String current = null;
        Map<String, List<Map<String, String>>> raw = new LinkedHashMap<>();
        Map<String, String> entry = null;
        int n = 0;
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            Matcher m;
            if ((m = SECTION.matcher(line)).matches()) {
                current = m.group(1);
                entries = new ArrayList<>();
                raw.put(current, entries);
            } else if ((m = FIRST.matcher(line)).matches() && entries != null) {
                entry = new HashMap<>();
                entries.add(entry);
                entry.put(m.group(1), m.group(2).replace("''", "'"));
            } else if ((m = MORE.matcher(line)).matches() && entry != null) {
                entry.put(m.group(1), m.group(2).replace("''", "'"));
            } else {
                throw new IOException(path + ":" + n + ": line not understood: " + line);
            }
        }
        boolean oldJdk = Runtime.version().feature() < 19;
        String[][] keys = {
            {"user_agent_parsers", "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement"},
            {"os_parsers", "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement"},
            {"device_parsers", "device_replacement", null, null, null, null},
        };
        for (String[] k : keys) {
            List<Rule> rules = new ArrayList<>();
            for (Map<String, String> e : raw.getOrDefault(k[0], List.of())) {
                Rule r = new Rule();
                String regex = e.get("regex");
                if (oldJdk) regex = asciiWordBoundary(regex);
                int flags = "i".equals(e.get("regex_flag")) ? Pattern.CASE_INSENSITIVE : 0;
                r.pattern = Pattern.compile(regex, flags);
                r.name = e.get(k[1]);
                for (int v = 0; v < 4; v++) r.versions[v] = k[v + 2] == null ? null : e.get(k[v + 2]);
                rules.add(r);
            }
            sections.put(k[0], rules);
        }
    }

    /// `\b` outside a class as JDK 19+ defines it.
    static String asciiWordBoundary(String re) {
        StringBuilder b = new StringBuilder();
        boolean inClass = false;
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length()) {
                char d = re.charAt(i + 1);
                if (d == 'b' && !inClass) b.append("(?:(?<=\\w)(?!\\w)|(?<!\\w)(?=\\w))");
                else b.append(c).append(d);
                i++;
                continue;
            }
            if (c == '[') inClass = true;
            if (c == ']') inClass = false;
            b.append(c);
        }
        return b.toString();
    }

    /// UserAgentSubpattern.match over a section: the first non-null name wins.
    static String[] find(String section, String s) {
        for (Rule r : sections.get(section)) {
            Matcher m = r.pattern.matcher(s);
            if (!m.find()) continue;
            int groups = m.groupCount();
            String name = null;
            if (r.name != null) {
                if (r.name.contains("$1") && groups >= 1 && m.group(1) != null) {
                    name = r.name.replaceFirst("\\$1", Matcher.quoteReplacement(m.group(1)));
                } else {
                    name = r.name;
                }
            } else if (groups >= 1) {
                name = m.group(1);
            }
            if (name == null) continue;
            String[] out = new String[5];
            out[0] = name;
            for (int v = 0; v < 4; v++) {
                out[v + 1] = r.versions[v] != null ? r.versions[v] : (groups >= v + 2 ? m.group(v + 2) : null);
            }
            return out;
        }
        return null;
    }

    static String version(String[] m) {
        if (m == null || m[1] == null) return null;
        StringBuilder v = new StringBuilder(m[1]);
        for (int i = 2; i < 5 && m[i] != null; i++) v.append('.').append(m[i]);
        return v.toString();
    }

    /// UserAgentProcessor's fields.
    static String[] process(String s) {
        String[] ua = find("user_agent_parsers", s);
        String[] os = find("os_parsers", s);
        String[] dev = find("device_parsers", s);
        String osVersion = version(os);
        return new String[] {
            hex(ua != null ? ua[0] : "Other"),
            hex(version(ua)),
            hex(os != null ? os[0] : null),
            hex(osVersion),
            hex(osVersion != null ? os[0] + " " + osVersion : null),
            hex(dev != null ? dev[0] : "Other"),
        };
    }

    static String hex(String s) {
        if (s == null) return "~";
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.toString();
    }

    static String unhex(String h) {
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        return new String(out, StandardCharsets.UTF_8);
    }
}
