//! The issuer's log lines, each at a level of Python's `logging`: a line below `LOG_LEVEL`
//! ([`edgejwt_core::settings::log_level`], part of the isolate's configuration) is neither
//! formatted nor written. Until a configuration is built, and while none can be, the level
//! is the setting's default, INFO: every line.

use edgejwt_core::settings::LogLevel;
use worker::worker_sys::web_sys::console;

/// Whether a line at `level` is written.
pub fn enabled(level: LogLevel) -> bool {
    level >= crate::config::Config::log_level()
}

/// Writes `line` with the console method of its level (a log store keeps the level).
pub fn write(level: LogLevel, line: &str) {
    let line = line.into();
    match level {
        LogLevel::Debug => console::debug_1(&line),
        LogLevel::Info => console::log_1(&line),
        LogLevel::Warning => console::warn_1(&line),
        LogLevel::Error | LogLevel::Critical => console::error_1(&line),
    }
}

/// `log!(level, "format", args…)`: a line at `level` (a [`LogLevel`]), if it is enabled.
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {{
        let level: edgejwt_core::settings::LogLevel = $level;
        if $crate::log::enabled(level) {
            $crate::log::write(level, &format!($($arg)*));
        }
    }};
}
pub(crate) use log;

/// `error!("format", args…)`: a failure the operator must see (ERROR).
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log!(edgejwt_core::settings::LogLevel::Error, $($arg)*) };
}
pub(crate) use error;

/// `info!("format", args…)`: a report of work done (INFO).
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log!(edgejwt_core::settings::LogLevel::Info, $($arg)*) };
}
pub(crate) use info;
