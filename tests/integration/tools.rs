//! Tests that need something a machine with only the Rust toolchain lacks
//! (Chromium, chromedriver, axe-core, root to mount a tmpfs). On such a
//! machine `cargo test --locked` passes and says loudly, once per test, what
//! it skipped and why; with SESSION_READY_REQUIRE_TOOLS=1 (as .ci/run sets)
//! a missing tool fails the test instead, so CI runs every one of them.
use std::io::Write;

/// Set (to anything but `0` or empty) to make every test below required.
pub const REQUIRE_TOOLS: &str = "SESSION_READY_REQUIRE_TOOLS";

pub fn required() -> bool {
    std::env::var_os(REQUIRE_TOOLS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The test that is running, as libtest names its thread.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string()
}

/// A test cannot run because `missing`: fail when the tools are required,
/// otherwise say so on the real stderr (libtest captures `eprintln!`, which
/// would hide the skip) and return, so the caller returns early.
pub fn skip_or_fail(missing: &str, to_get_it: &str) {
    let name = test_name();
    assert!(
        !required(),
        "{name}: {missing}. {to_get_it} ({REQUIRE_TOOLS} is set, so this test is required)"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {name}: {missing}. {to_get_it}; set {REQUIRE_TOOLS}=1 to make this a failure."
    );
}
