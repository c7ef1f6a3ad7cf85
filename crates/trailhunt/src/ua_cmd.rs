//! `--ua-regexes` and `trailhunt ua`: the uap-core rules behind `user_agent.name`,
//! `.version`, `.os.*` and `.device.name` (see the `useragent` crate).
//!
//! Which rules a command uses: `--ua-regexes FILE` (or `TRAILHUNT_UA_REGEXES`); else the copy
//! `trailhunt ua update` installed in the data directory; else none, and those fields stay
//! absent. An empty value turns parsing off even when a copy is installed.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use clap::builder::TypedValueParser;
use clap::{Args, Subcommand};
use useragent::install;

#[derive(Args, Clone, Default)]
pub(crate) struct UaArgs {
    /// uap-core rules (regexes.yaml) for user_agent.name, .version, .os.* and .device.name,
    /// parsed from user_agent.original as Elasticsearch's user_agent processor does. Default:
    /// the copy `trailhunt ua update` installs, if any (without rules these fields are
    /// absent); an empty value turns parsing off.
    // Not clap's PathBuf parser: it refuses the empty value that turns parsing off.
    #[arg(
        long = "ua-regexes",
        env = "TRAILHUNT_UA_REGEXES",
        value_name = "FILE",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub ua_regexes: Option<PathBuf>,
}

impl UaArgs {
    /// The parser, or `None` without rules. Errors name the file and say what to do.
    pub(crate) fn parser(&self) -> Result<Option<useragent::UaParser>> {
        match &self.ua_regexes {
            Some(p) if p.as_os_str().is_empty() => Ok(None),
            Some(p) => useragent::UaParser::open(p)
                .map(Some)
                .map_err(|e| anyhow!("--ua-regexes: {e}")),
            None => {
                // No data directory (no HOME) simply means nothing is installed.
                let Some(path) = hunts::install::home()
                    .ok()
                    .and_then(|h| install::installed(&h))
                else {
                    return Ok(None);
                };
                useragent::UaParser::open(&path).map(Some).map_err(|e| {
                    anyhow!("the installed user-agent rules are unusable: {e}; run `trailhunt ua update` to reinstall them, or pass --ua-regexes")
                })
            }
        }
    }

    pub(crate) fn enrich(&self) -> Result<Option<Arc<dyn cloudtrail::Enrich>>> {
        Ok(self
            .parser()?
            .map(|p| Arc::new(p) as Arc<dyn cloudtrail::Enrich>))
    }
}

#[derive(Subcommand)]
pub(crate) enum UaAction {
    /// Install uap-core's regexes.yaml at the commit Elasticsearch bundles (cd52910,
    /// verified by SHA-256) into the data directory ($TRAILHUNT_HOME, else
    /// $XDG_DATA_HOME/trailhunt); every command then parses user agents with it.
    Update {
        /// Where from: a URL or a local copy (it must be the same file: same SHA-256).
        #[arg(long, value_name = "URL|FILE")]
        from: Option<String>,
    },
    /// Print the user_agent object Elasticsearch would index for each string (NDJSON).
    Parse {
        #[command(flatten)]
        ua: UaArgs,
        /// User-agent strings, as CloudTrail's userAgent holds them.
        #[arg(value_name = "USER_AGENT", required = true)]
        strings: Vec<String>,
    },
}

pub(crate) fn cmd_ua(action: &UaAction) -> Result<i32> {
    match action {
        UaAction::Update { from } => {
            let home = hunts::install::home()?;
            let source = from
                .as_deref()
                .map(install::Source::parse)
                .unwrap_or_default();
            let done = install::update(&source, &home)?;
            let [ua, os, device] = done.rules;
            match &done.source {
                Some(from) => eprintln!(
                    "installed uap-core regexes.yaml at {} ({ua} user-agent, {os} OS, {device} device rules) from {from} into {}",
                    &install::COMMIT[..7],
                    done.path.display()
                ),
                None => eprintln!(
                    "uap-core regexes.yaml at {} is already installed: {}",
                    &install::COMMIT[..7],
                    done.path.display()
                ),
            }
            Ok(0)
        }
        UaAction::Parse { ua, strings } => {
            let Some(parser) = ua.parser()? else {
                bail!("no user-agent rules: pass --ua-regexes FILE (uap-core's regexes.yaml) or run `trailhunt ua update`");
            };
            let mut out = std::io::stdout().lock();
            for s in strings {
                let obj = serde_json::Value::Object(parser.parse(s).to_object(s));
                serde_json::to_writer(&mut out, &obj)?;
                std::io::Write::write_all(&mut out, b"\n")?;
            }
            Ok(0)
        }
    }
}
